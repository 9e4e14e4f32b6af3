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

from PySide6.QtCore import QObject, QRunnable, Signal

from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.gui.compat import emit
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

    def __init__(self, request: int, job: Callable[..., Any]) -> None:
        super().__init__()
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

    def _report(self, payload: Any, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_report >= PROGRESS_INTERVAL_S:
            self._last_report = now
            if not self._cancel.is_set():
                emit(self.signals.progress, self.request, payload)

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
                    self._report(item)
            if self._cancel.is_set():
                raise Cancelled()
            emit(self.signals.finished, self.request, out)
        except Cancelled:
            emit(self.signals.cancelled, self.request)
        except UserError as exc:
            emit(self.signals.failed, self.request, user_message(exc), False)
        except MemoryError:
            emit(self.signals.failed, self.request, "out of memory; try a smaller document", False)
        except Exception as exc:  # a bug: show it, keep the app alive
            traceback.print_exc()
            text = " ".join(str(exc).split())[:200] or exc.__class__.__name__
            emit(
                self.signals.failed,
                self.request,
                f"unexpected error ({exc.__class__.__name__}: {text})",
                True,
            )
