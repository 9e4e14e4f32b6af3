"""One child-process runner: jobs over a Pipe, killed past a deadline or on cancel.

MuPDF and Tesseract run in C and cannot be interrupted from Python; a
pathological file can spin there for ever or crash the process. Only a
process can be stopped from outside, so OCR pages (``core.documents.ocr.pages``) and library
files (``core.storage.library``) are read in a ``Child``:

* it serves jobs received over a Pipe until it receives ``None``; each job's
  value goes back as ("ok", value), an exception as ("error", text), and
  the job may send notes on the way (("note", value): an OCR page started);
* it dies with its parent, even a parent killed by SIGKILL: on Linux the
  kernel kills it (PR_SET_PDEATHSIG, which works while C code holds the
  GIL), elsewhere a thread watching the parent's sentinel ends it;
* its C stderr can go to the null device (Tesseract prints diagnostics,
  and the CLI keeps its one-line error contract);
* it starts with a given multiprocessing start method (fork starts in
  milliseconds; spawn is safe with other threads running), daemonic or not
  (a daemonic process may not start children of its own);
* the parent kills it past a deadline or on cancel, and replaces it when it
  crashes (``Runner``; ``library.WorkerPool`` keeps several).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from desktop_qa.core.errors import Cancelled
from desktop_qa.core.system import processes

Note = Callable[[Any], None]
# A job function runs in the child: job -> value, calling note(value) on the way.
JobFn = Callable[[Any, Note], Any]
CancelFn = Callable[[], bool]


class ChildError(Exception):
    """A job failed in the child (its exception's text) or the child ended (``ChildCrashed``)."""


class ChildCrashed(ChildError):
    """The child process ended while it had a job (a crash, a kill)."""


class ChildTimeout(Exception):
    """A job ran past its deadline; the child was killed."""


class ChildUnavailable(Exception):
    """No child process can be started here (a sandbox, a frozen-app oddity)."""


class JobFailed(Exception):
    """Raised by a job function: its message goes back to the parent as it is."""


# -- in the child ------------------------------------------------------------------------------
def _die_with_parent() -> None:
    """End this child when its parent dies, even by SIGKILL, even mid-job.

    A forked child holds copies of its parent's pipe ends, so it never sees
    end-of-file; and a parent killed past its own limit cannot stop its
    children itself. On Linux the kernel kills the child (PR_SET_PDEATHSIG;
    C code holding the GIL cannot delay it); everywhere a thread watching the
    parent's sentinel ends it as soon as Python runs.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent.pid:  # died before prctl
            os._exit(1)
    threading.Thread(target=_exit_when_gone, args=(parent.sentinel,), daemon=True).start()


def _exit_when_gone(sentinel: Any) -> None:
    wait([sentinel])
    os._exit(1)


def _silence_stderr() -> None:
    """Send the C stderr (fd 2) to the null device."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, JobFailed) else f"{exc.__class__.__name__}: {exc}"


def _serve(conn: Connection, job_fn: JobFn, quiet: bool) -> None:
    """Child process: run ``job_fn`` on each job received until None (or the parent is gone)."""
    _die_with_parent()
    if quiet:
        _silence_stderr()
    parent = multiprocessing.parent_process()
    watch: list[Any] = [conn] + ([parent.sentinel] if parent is not None else [])

    def note(value: Any) -> None:
        conn.send(("note", value))

    while True:
        try:
            if conn not in wait(watch):
                return  # the parent is gone
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", job_fn(job, note))
        except Exception as exc:  # reported to the parent, which goes on
            if parent is not None and not parent.is_alive():
                return  # a note failed because the parent went away
            reply = ("error", _error_text(exc))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


# -- in the parent -----------------------------------------------------------------------------
class Child:
    """One child process serving ``job_fn``; ``deadline`` is when its job in hand is due.

    Raises ``ChildUnavailable`` when no process can be started.
    """

    def __init__(
        self,
        job_fn: JobFn,
        *,
        start_method: str = "spawn",
        daemon: bool = True,
        quiet_stderr: bool = False,
        name: str | None = None,
    ) -> None:
        try:
            ctx = multiprocessing.get_context(processes.start_method(start_method))
            self.conn, child = ctx.Pipe()
            self.process = ctx.Process(
                target=_serve, args=(child, job_fn, quiet_stderr), daemon=daemon, name=name
            )
            self.process.start()
            child.close()
        except Exception as exc:
            raise ChildUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        self.deadline = math.inf

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, job: Any, seconds: float = math.inf) -> None:
        """Start ``job``, due within ``seconds``."""
        self.extend(seconds)
        self.conn.send(job)

    def extend(self, seconds: float) -> None:
        """The job made progress: it is now due ``seconds`` from now."""
        self.deadline = time.monotonic() + seconds

    def overdue(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) > self.deadline

    def receive(self) -> tuple[str, Any]:
        """The next message: ("note", value), ("ok", value) or ("error", text).

        Raises ``ChildCrashed`` (after killing what is left) if the child ended.
        """
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise ChildCrashed("the child process ended unexpectedly") from None
        if kind != "note":
            self.deadline = math.inf
        return kind, value

    def call(
        self,
        job: Any,
        seconds: float,
        cancel: CancelFn | None = None,
        on_note: Note | None = None,
        poll: float = 0.05,
    ) -> Any:
        """Run one job and return its value; raise ChildTimeout, Cancelled, ChildError."""
        self.send(job, seconds)
        while True:
            if self.conn.poll(poll):
                kind, value = self.receive()
                if kind == "note":
                    if on_note is not None:
                        on_note(value)
                    continue
                if kind == "ok":
                    return value
                raise ChildError(value)
            if cancel is not None and cancel():
                self.kill()
                raise Cancelled()
            if self.overdue():
                self.kill()
                raise ChildTimeout()
            if not self.alive:
                self.kill()
                raise ChildCrashed("the child process ended unexpectedly")

    def kill(self) -> None:
        """At once, whatever it is doing."""
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        """Ask it to end after its job; kill it if it does not within 2 s."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.conn.close()


class Runner:
    """One child at a time for one job function, started when needed, replaced when it died."""

    def __init__(self, job_fn: JobFn, **child_options: Any) -> None:
        self.job_fn = job_fn
        self.child_options = child_options
        self.child: Child | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, job: Any, seconds: float, cancel: CancelFn | None = None, **kw: Any) -> Any:
        """``Child.call`` in a live child; a child killed on the way is dropped."""
        if self.child is None or not self.child.alive:
            self.kill()
            self.child = Child(self.job_fn, **self.child_options)
        try:
            return self.child.call(job, seconds, cancel, **kw)
        except (ChildTimeout, Cancelled, ChildCrashed):
            self.child = None  # killed already
            raise

    def kill(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            child.kill()

    def close(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            child.stop()
