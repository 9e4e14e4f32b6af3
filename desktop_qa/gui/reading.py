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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def reading(
    opened: OpenedDocument | None, query: Query, reader: Reader | None, resume: QueryResult | None
) -> Job:
    """The worker job reading ``opened``, or the library when ``opened`` is None
    (``reader`` None: keyword answers). One job for both: the library is one more scope,
    opened on the worker thread's own read-only connection."""

    def job(report: Callable[..., None], cancelled: Callable[[], bool]) -> Any:
        def steps() -> Any:
            with _scope(opened) as scope:
                return (
                    yield from engine.answer(scope, query, reader, cancel=cancelled, resume=resume)
                )

        return steps()

    return job


@contextmanager
def _scope(opened: OpenedDocument | None) -> Iterator[Any]:
    """The scope a reading asks: the open document (the session keeps it open), or the
    library for as long as the reading lasts."""
    if opened is not None:
        yield opened
        return
    from desktop_qa.core.storage.library import Library, LibraryScope

    with Library(read_only=True) as lib:
        scope = LibraryScope(lib)
        if scope.total_passages == 0:
            raise UserError(NO_LIBRARY)
        yield scope


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
