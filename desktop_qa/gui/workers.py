"""The one way the window runs work off its thread: a job on a pool, told back by signals.

The core knows nothing of Qt: a long operation is a generator (or a function
taking ``report``/``cancelled`` callables). A ``Worker`` runs it on a thread
pool and ends in exactly one outcome, modelled on superqt's ``GeneratorWorker``:
``yielded`` (each item a generator yields, throttled to what a person can
see), then one of ``returned`` (what the job returned), ``errored`` (the
exception object itself: a ``UserError`` keeps its hint key, so the window
words it, never parses it) or ``aborted`` (the job was asked to stop, or
raised ``Cancelled``); ``finished`` follows each of them. A failing worker
never takes the app down.

``Jobs.start`` wires a worker's signals to callbacks and hands back a
``Handle``: its ``cancel`` is the only way a job is stopped (Esc, a newer
request, quitting), and what a cancel means reaches the owner through its
``aborted`` callback, exactly once.
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

    yielded = Signal(int, object)  # request, item (progress)
    returned = Signal(int, object)  # request, result
    errored = Signal(int, object)  # request, the exception object
    aborted = Signal(int)
    finished = Signal(int)  # after any of the three outcomes


class Worker(QRunnable):
    """Runs ``job(report, cancelled)``; a generator job reports each item it yields.

    ``job`` gets two callables: ``report(payload, force=False)`` (throttled
    progress) and ``cancelled() -> bool``. If it returns a generator, every
    yielded item is a progress payload and what the generator returns is the
    result (yielded and returned values are kept apart, as in superqt). A stop
    asked for (``quit``) is honoured between yields, or by the job itself
    raising ``Cancelled``; a job that returns anyway has ``returned``.
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
        self._abort = threading.Event()
        self._last_report = 0.0

    def quit(self) -> None:
        """Ask the job to stop (superqt's name); it stops at its next yield or check."""
        self._abort.set()

    cancel = quit

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    def is_cancelled(self) -> bool:
        return self._abort.is_set()

    def _send(self, name: str, *args: Any) -> None:
        """Emit ``signals.<name>``, or drop it once their C++ object is gone (``emit_from``)."""
        emit_from(self.signals, name, *args)

    def _report(self, payload: Any, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_report >= PROGRESS_INTERVAL_S:
            self._last_report = now
            if not self._abort.is_set():
                self._send("yielded", self.request, payload)

    def run(self) -> None:  # noqa: D401 - Qt's name
        try:
            out = self.job(self._report, self.is_cancelled)
            if isinstance(out, Generator):
                steps = out
                while True:
                    if self._abort.is_set():
                        steps.close()
                        raise Cancelled()
                    try:
                        item = next(steps)
                    except StopIteration as stop:
                        out = stop.value
                        break
                    self._report(item, self.keep is not None and self.keep(item))
            self._send("returned", self.request, out)
        except Cancelled:
            self._send("aborted", self.request)
        except UserError as exc:
            self._send("errored", self.request, exc)
        except Exception as exc:  # a bug: show it, keep the app alive
            if not isinstance(exc, MemoryError):
                traceback.print_exc()
            self._send("errored", self.request, exc)
        self._send("finished", self.request)


def error_text(exc: BaseException) -> str:
    """An outcome's exception as the window's one line (a UserError in the app's words)."""
    if isinstance(exc, UserError):
        return user_message(exc)
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller document"
    text = " ".join(str(exc).split())[:200] or exc.__class__.__name__
    return f"unexpected error ({exc.__class__.__name__}: {text})"


def is_bug(exc: BaseException) -> bool:
    """Not the user's input: a programming error (shown as one, the app goes on)."""
    return not isinstance(exc, (UserError, MemoryError))


class Handle:
    """A started job, as its owner holds it: ``cancel`` is the one way to stop it."""

    def __init__(self, worker: Worker, aborted: Callable[[], None]) -> None:
        self.worker = worker
        self.request = worker.request
        self.ended = False  # an outcome reached the owner, or the owner let the job go
        self._aborted = aborted

    @property
    def cancelling(self) -> bool:
        """A stop was asked for and the job has not ended yet."""
        return self.worker.abort_requested and not self.ended

    def is_cancelled(self) -> bool:
        return self.worker.abort_requested

    def cancel(self, *, now: bool = False, quiet: bool = False) -> bool:
        """Ask the job to stop; False if it had already ended.

        By default its ``aborted`` callback runs when the job has stopped (or
        ``returned`` if it finished first: a download that was installing).
        ``now``: the owner is done with it: ``aborted`` runs at once, here,
        and whatever the job still reports is dropped (Esc on a question).
        ``quiet``: dropped without a word (a newer request replaces it).
        """
        if self.ended:
            return False
        self.worker.quit()
        if now or quiet:
            self.ended = True
            if now:
                self._aborted()
        return True


class Jobs:
    """The workers of one owner (the session, the library): request ids, and every
    job not yet ended.

    The one place a worker's signals are wired. Each request id is newer than
    every one before; ``cancel_all`` is how the window's close stops whatever
    still runs, without waiting for it.
    """

    def __init__(self) -> None:
        self._request = 0
        self._running: dict[int, Handle] = {}

    def start(
        self,
        pool: QThreadPool,
        job: Callable[..., Any],
        *,
        returned: Callable[[Any], None],
        errored: Callable[[BaseException], None],
        aborted: Callable[[], None],
        yielded: Callable[[Any], None] | None = None,
        keep: Callable[[Any], bool] | None = None,
    ) -> Handle:
        """Run ``job`` on ``pool``; each outcome reaches its callback unless the handle
        ended first (``Handle.cancel(now=True)`` or ``quiet=True``).

        Slots return None: a slot returning a value (e.g. a bool) is not safe
        in PySide6.
        """
        self._request += 1
        worker = Worker(self._request, job, keep)
        handle = Handle(worker, aborted)
        self._running[worker.request] = handle

        def on_yielded(_req: int, payload: Any) -> None:
            if yielded is not None and not handle.ended:
                yielded(payload)

        def final(outcome: Callable[..., None], *args: Any) -> None:
            self._running.pop(handle.request, None)
            if not handle.ended:
                handle.ended = True
                outcome(*args)

        sig = worker.signals
        sig.yielded.connect(on_yielded)
        sig.returned.connect(lambda _req, out: final(returned, out))
        sig.errored.connect(lambda _req, exc: final(errored, exc))
        sig.aborted.connect(lambda _req: final(aborted))
        sig.finished.connect(lambda _req: self._running.pop(handle.request, None))
        pool.start(worker)
        return handle

    def running(self) -> int:
        """Jobs started and not yet finished (their thread may still be at work)."""
        return len(self._running)

    def cancel_all(self) -> None:
        """Quitting: every job is asked to stop and nothing more reaches its owner."""
        for handle in list(self._running.values()):
            handle.cancel(quiet=True)


def single_pool() -> QThreadPool:
    """A pool of one thread: its jobs run one after the other, in order."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    return pool
