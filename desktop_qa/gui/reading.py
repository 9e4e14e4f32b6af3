"""A reading off the UI thread: the job that reads (this document or the library), and
the pace at which its answers so far reach the screen.

Both scopes are one ``engine.answer`` generator: each step says how far the
reading is and may carry the answers so far. Each re-ranked list costs the UI
thread a redraw, and a burst of them queued behind a busy moment would be
drawn back to back; so the newest waits its turn (``PARTIAL_INTERVAL``), and
Esc or the final result shows the newest at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import engine
from desktop_qa.core.reading.engine import OpenedDocument
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.reading.results import QueryResult

NO_LIBRARY = (
    "the library has no readable document yet; "
    "add a folder (Library ▸ Add Folder…) and let it index"
)
PARTIAL_INTERVAL = 0.1  # seconds: answers so far reach the screen at most this often

Job = Callable[[Callable[..., None], Callable[[], bool]], Any]


def document_reading(
    opened: OpenedDocument, query: Query, reader: Reader | None, resume: QueryResult | None
) -> Job:
    """The worker job reading ``opened`` (``reader`` None: keyword answers)."""

    def job(report: Callable[..., None], cancelled: Callable[[], bool]) -> Any:
        return engine.answer(opened, query, reader, cancel=cancelled, resume=resume)

    return job


def library_reading(query: Query, reader: Reader | None, resume: QueryResult | None) -> Job:
    """The worker job reading the library, on the worker thread's own read-only connection."""
    from desktop_qa.core.storage.library import Library, LibraryScope

    def job(report: Callable[..., None], cancelled: Callable[[], bool]) -> Any:
        def steps() -> Any:
            with Library(read_only=True) as lib:
                scope = LibraryScope(lib)
                if scope.total_passages == 0:
                    raise UserError(NO_LIBRARY)
                return (
                    yield from engine.answer(scope, query, reader, cancel=cancelled, resume=resume)
                )

        return steps()

    return job


class AnswersSoFar:
    """Hands the newest answers so far to ``show`` at most every ``PARTIAL_INTERVAL``."""

    def __init__(self, show: Callable[[QueryResult], None], parent: QObject) -> None:
        self._show = show
        self._newest: QueryResult | None = None  # not yet on screen
        self._shown_at = 0.0  # when answers so far were last shown
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    def offer(self, result: QueryResult) -> None:
        """Newer answers so far: shown now, or once the interval since the last is over."""
        self._newest = result
        wait = PARTIAL_INTERVAL - (time.monotonic() - self._shown_at)
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def flush(self) -> None:
        """Show the newest waiting answers at once (if any wait)."""
        self._timer.stop()
        result, self._newest = self._newest, None
        if result is not None:
            self._shown_at = time.monotonic()
            self._show(result)

    def drop(self) -> None:
        """A new reading (or its end): nothing waits, and its first answers show at once."""
        self._timer.stop()
        self._newest, self._shown_at = None, 0.0
