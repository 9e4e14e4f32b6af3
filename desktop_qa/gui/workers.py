"""Run plain generators and functions off the UI thread, reporting by Qt signals.

The core knows nothing of Qt: a long operation is a generator (or a function
taking ``progress``/``cancel`` callables). A ``Worker`` runs it on a thread
pool, checks a cancel flag, throttles progress to what a person can see, and
turns every outcome (result, UserError, Cancelled, any other exception) into
exactly one final signal, so a failing worker never takes the app down.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.gui.compat import emit_from
from desktop_qa.gui.messages import user_message

PROGRESS_INTERVAL_S = 0.05


class WorkerSignals(QObject):
    """Signals of one job; ``request`` is the job id so stale reports can be dropped."""

    progress = Signal(int, object)  # request, payload
    finished = Signal(int, object)  # request, result
    failed = Signal(int, str, bool)  # request, one-line message, unexpected?
    cancelled = Signal(int)


class Worker(QRunnable):
    """Runs ``job(report, cancelled)``; a generator job reports each item it yields.

    ``job`` gets two callables: ``report(payload)`` (throttled progress) and
    ``cancelled() -> bool``. If it returns a generator, every yielded item is a
    progress payload and what the generator returns is the result (yielded and
    returned values are kept apart, as in napari's generator workers).
    """

    def __init__(
        self,
        request: int,
        job: Callable[..., Any],
        keep: Callable[[Any], bool] | None = None,
    ) -> None:
        """``keep(item)``: True for a yielded item that must reach the UI even when it
        comes sooner than the throttle allows (answers so far, not just a count)."""
        super().__init__()
        self.keep = keep
        self.setAutoDelete(True)
        self.request = request
        self.job = job
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self._last_report = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _send(self, name: str, *args: Any) -> None:
        """Emit ``signals.<name>``, or drop it once their C++ object is gone (``emit_from``)."""
        emit_from(self.signals, name, *args)

    def _report(self, payload: Any, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_report >= PROGRESS_INTERVAL_S:
            self._last_report = now
            if not self._cancel.is_set():
                self._send("progress", self.request, payload)

    def run(self) -> None:  # noqa: D401 - Qt's name
        try:
            out = self.job(self._report, self.is_cancelled)
            if isinstance(out, Generator):
                steps = out
                while True:
                    try:
                        item = next(steps)
                    except StopIteration as stop:
                        out = stop.value
                        break
                    if self._cancel.is_set():
                        raise Cancelled()
                    self._report(item, self.keep is not None and self.keep(item))
            if self._cancel.is_set():
                raise Cancelled()
            self._send("finished", self.request, out)
        except Cancelled:
            self._send("cancelled", self.request)
        except UserError as exc:
            self._send("failed", self.request, user_message(exc), False)
        except MemoryError:
            self._send("failed", self.request, "out of memory; try a smaller document", False)
        except Exception as exc:  # a bug: show it, keep the app alive
            traceback.print_exc()
            text = " ".join(str(exc).split())[:200] or exc.__class__.__name__
            self._send(
                "failed", self.request, f"unexpected error ({exc.__class__.__name__}: {text})", True
            )


class Jobs:
    """The workers of one owner (the session, the library): request ids, and every
    worker not yet ended.

    The one place a worker's signals are wired. Each request id is newer than
    every one before, so a newer request of a kind wins over an older one that
    is still finishing; ``cancel_all`` is how the window's close stops whatever
    still runs.
    """

    def __init__(self) -> None:
        self._request = 0
        self._running: dict[int, Worker] = {}

    def start(
        self,
        pool: QThreadPool,
        job: Callable[..., Any],
        *,
        live: Callable[[int], bool],
        finished: Callable[[Any], None],
        failed: Callable[[str, bool], None],
        cancelled: Callable[[], None],
        progress: Callable[[Any], None] | None = None,
        keep: Callable[[Any], bool] | None = None,
    ) -> Worker:
        """Run ``job`` on ``pool``; each outcome reaches its callback only while ``live(request)``.

        On every final outcome, live or not, the worker is forgotten first.
        Slots return None: a slot returning a value (e.g. a bool) is not safe
        in PySide6.
        """
        self._request += 1
        worker = Worker(self._request, job, keep)
        self._running[worker.request] = worker

        def on_progress(req: int, payload: Any) -> None:
            if progress is not None and live(req):
                progress(payload)

        def final(req: int) -> bool:
            self._running.pop(req, None)
            return live(req)

        def on_finished(req: int, out: Any) -> None:
            if final(req):
                finished(out)

        def on_failed(req: int, message: str, bug: bool) -> None:
            if final(req):
                failed(message, bug)

        def on_cancelled(req: int) -> None:
            if final(req):
                cancelled()

        sig = worker.signals
        sig.progress.connect(on_progress)
        sig.finished.connect(on_finished)
        sig.failed.connect(on_failed)
        sig.cancelled.connect(on_cancelled)
        pool.start(worker)
        return worker

    def cancel_all(self) -> None:
        for worker in list(self._running.values()):
            worker.cancel()


def newest(worker: Worker | None, request: int) -> bool:
    """``request`` is ``worker``'s and it was not cancelled: its reports may change the state."""
    return worker is not None and worker.request == request and not worker.is_cancelled()


def single_pool() -> QThreadPool:
    """A pool of one thread: its jobs run one after the other, in order."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    return pool
