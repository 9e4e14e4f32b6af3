"""Laying out a converted document in a child process, so a read can be stopped at once.

The format readers (python-docx, lxml, the e-mail parser) and MuPDF's layout run
in C and pure Python that never ask whether to stop: a hostile file kept one
busy for minutes, and a window closed meanwhile could not quit (still
converting 240 s later). In a child, the parent polls its ``cancel`` (the
user's, or a read's ``Deadline``) every 50 ms and kills the child at once.

One child is kept warm per process (spawned: about 1 s once, then each
conversion pays only for sending the bytes), replaced when it is killed or
dies. A process that is itself a child (a library worker, the page drawer)
lays out in place: its parent bounds it, and a daemonic process may not start
children of its own. Where no child can start, in place too.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.system import child

_runner: child.Runner | None = None
_lock = threading.Lock()


def _job(job: tuple[bytes, str, str], _note: child.Note) -> Any:
    """In the child: the laid-out PDF and citation map, or the UserError's line and hint."""
    from desktop_qa.core.documents import formats

    data, suffix, name = job
    try:
        return "ok", formats.lay_out(data, suffix, name)
    except UserError as exc:
        return "refused", exc.problem, exc.hint


def in_child_process() -> bool:
    """True in a process started by multiprocessing (it lays out in place)."""
    return multiprocessing.parent_process() is not None


def lay_out(
    data: bytes,
    suffix: str,
    name: str,
    cancel: Callable[[], bool],
    in_place: Callable[[bytes, str, str], Any],
) -> Any:
    """``in_place(data, suffix, name)`` run in the warm child, stopped when ``cancel()``
    (Cancelled); UserError as the child raised it; in place where no child can run."""
    global _runner
    if in_child_process():
        return in_place(data, suffix, name)
    with _lock:  # one conversion at a time through the one child
        if _runner is None:
            _runner = child.Runner(_job, start_method="spawn", daemon=True, quiet_stderr=True)
        try:
            reply = _runner.call((data, suffix, name), float("inf"), cancel)
        except child.ChildUnavailable:
            return in_place(data, suffix, name)
        except child.ChildCrashed:
            raise UserError(
                f"{name}: the reader stopped on this file (out of memory, or a damaged or "
                "hostile file); re-save it in another format"
            ) from None
        except child.ChildError as exc:  # an exception the readers did not turn into a line
            raise UserError(f"{name} cannot be read ({' '.join(str(exc).split())[:120]})") from None
        except Cancelled:
            raise
    if reply[0] == "refused":
        raise UserError(reply[1], hint=reply[2])
    return reply[1]


def stop() -> None:
    """End the warm child (at exit; a new one starts when needed)."""
    global _runner
    with _lock:
        runner, _runner = _runner, None
    if runner is not None:
        runner.kill()
