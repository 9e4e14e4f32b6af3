"""The library's indexing: a controller that indexes folders off the UI thread and
watches them, and the words and the time left that its progress is shown with.

``LibraryController`` owns the indexing (a ``Worker`` running ``Library.update``,
a generator: progress yielded, report returned), the UI thread's connection to
the store and the folder watcher; it knows no widget and speaks by signals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_qa.core.errors import UserError
from desktop_qa.core.storage.library import (
    FolderWatcher,
    IndexProgress,
    IndexReport,
    Library,
    LibraryReadOnly,
    database_path,
    default_workers,
)
from desktop_qa.gui.compat import emit
from desktop_qa.gui.messages import duration_text, user_message
from desktop_qa.gui.workers import Handle, Jobs, error_text, single_pool

WATCH_DELAY_MS = 1500  # changes settle this long before re-indexing


def progress_text(p: IndexProgress, eta: float | None = None) -> str:
    """ "Indexing 12 of 100 documents · 340 pages/s · about 5 s left" (``eta``: seconds
    left from ``EtaSmoother``; None: not known yet)."""
    text = f"Indexing {p.done} of {p.total} documents"
    if p.pages:
        text += f" · {p.pages_per_second:.0f} pages/s"
    if eta is not None:
        text += f" · about {duration_text(eta)} left"
    if p.file_pages:
        scanned = "scanned page" + ("s" if p.file_pages != 1 else "")
        text += f" · OCR of {p.current}: page {p.file_page} of {p.file_pages} {scanned}"
    return text


class EtaSmoother:
    """Time left from a smoothed rate of documents per second.

    The run's average (``IndexProgress.eta``) keeps a fast start (unchanged or
    small files) in it for good, so it climbs for minutes after; an
    exponentially weighted rate (time constant ``tau``) follows the current
    pace, and while that pace holds the time left only falls.
    """

    def __init__(self, tau: float = 20.0, min_interval: float = 1.0) -> None:
        self.tau = tau
        self.min_interval = min_interval
        self.reset()

    def reset(self) -> None:
        self._rate: float | None = None
        self._last: tuple[float, int] | None = None  # (time, done) of the last rate sample

    def update(self, done: int, total: int, now: float) -> float | None:
        """Seconds left after ``done`` of ``total`` at time ``now`` (None: not known yet)."""
        if self._last is None or done < self._last[1]:
            self._last = (now, done)
            return None
        then, before = self._last
        dt = now - then
        if dt >= self.min_interval and done > before or dt >= 5 * self.min_interval:
            rate = (done - before) / dt
            if self._rate is None:
                self._rate = rate
            else:
                self._rate += (1 - math.exp(-dt / self.tau)) * (rate - self._rate)
            self._last = (now, done)
        if not self._rate:
            return None
        return max(0, total - done) / self._rate


class LibraryController(QObject):
    """Folders, indexing off the UI thread (cancellable, resumable) and watching."""

    changed = Signal()  # folders or documents changed: redraw
    indexingStarted = Signal()
    indexingProgress = Signal(object)  # IndexProgress
    indexingFinished = Signal(object)  # IndexReport
    indexingFailed = Signal(str)
    indexingCancelled = Signal()
    removalFailed = Signal(str)  # a folder could not be removed: why (one line)
    _filesChanged = Signal()  # from the watcher's thread (queued to the UI thread)
    watchStatus = Signal(str)  # a folder gone, back, or not watchable (from the watcher's thread)

    def __init__(self, *, workers: int | None = None, watch: bool = True) -> None:
        super().__init__()
        self.pool = single_pool()
        self.workers = workers or default_workers(True)
        self.watch = watch
        self._worker: Handle | None = None
        self._again = False
        self._jobs = Jobs()
        self._db: Library | None = None
        self._watcher: FolderWatcher | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(WATCH_DELAY_MS)
        self._timer.timeout.connect(self.update)
        self._filesChanged.connect(self._timer.start)
        self.last_report: IndexReport | None = None
        self.removing = 0  # folder removals under way
        self.problem = ""  # why the store cannot be changed or opened (one line), or ""

    # -- the database (UI thread: listing, adding and removing folders) ------------------
    def db(self) -> Library | None:
        """The UI thread's connection, read-only when the store cannot be written; None
        while there is no library yet or it cannot be opened (``problem`` says why)."""
        if self._db is None and database_path().is_file():
            try:
                try:
                    self._db = Library()
                except LibraryReadOnly as exc:  # listing and asking still work
                    self._db = Library(read_only=True)
                    self.problem = user_message(exc)
            except UserError as exc:  # locked by another process, damaged, unreadable
                self.problem = user_message(exc)
        return self._db

    def _writable(self) -> Library:
        """A connection that can change the store; UserError (read-only, locked) if none."""
        if self._db is None or self._db.read_only:
            db = Library()
            if self._db is not None:
                self._db.close()
            self._db, self.problem = db, ""
        return self._db

    def folders(self) -> list[str]:
        db = self.db()
        return db.folders() if db is not None else []

    @property
    def indexing(self) -> bool:
        return self._worker is not None

    def add_folder(self, folder: str | Path) -> None:
        """Add a folder and index it in the background (UserError if it is not a folder)."""
        self._writable().add_folder(folder)
        emit(self.changed)
        self._restart_watching()
        self.update()

    def remove_folder(self, folder: str) -> None:
        """Forget ``folder`` and its documents, off the UI thread: the indexing stops, and
        the removal runs on the indexing's thread once it has (the UI never waits on it).
        ``changed`` follows, or ``removalFailed`` with why (a read-only or locked store)."""
        self.cancel()

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> int:
            with Library() as lib:  # this thread's own connection
                return int(lib.remove_folder(folder))

        def removed(_count: int) -> None:
            self.removing -= 1
            emit(self.changed)
            self._restart_watching()

        def failed(exc: BaseException) -> None:
            self.removing -= 1
            emit(self.removalFailed, error_text(exc))

        def dropped() -> None:
            self.removing -= 1

        self.removing += 1
        self._jobs.start(self.pool, job, returned=removed, errored=failed, aborted=dropped)

    # -- indexing -------------------------------------------------------------------------
    def update(self) -> bool:
        """Index what changed in every folder; if already running, once more afterwards."""
        if not self.folders():
            return False
        if self._worker is not None:
            self._again = True
            return False
        workers = self.workers

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            def steps() -> Any:
                with Library() as lib:  # this thread's own connection
                    return (
                        yield from lib.update(
                            workers=workers, cancel=cancelled, start_method="spawn"
                        )
                    )

            return steps()

        emit(self.indexingStarted)
        self._worker = self._jobs.start(
            self.pool,
            job,
            yielded=self._progress,
            returned=self._finished,
            errored=self._failed,
            aborted=self._cancelled,
        )
        if self._watcher is None:
            self._restart_watching()
        return True

    def cancel(self) -> bool:
        """Stop indexing; files done so far stay indexed, the next update resumes."""
        if self._worker is None:
            return False
        self._again = False
        self._worker.cancel()
        return True

    def _progress(self, p: IndexProgress) -> None:
        emit(self.indexingProgress, p)

    def _done(self) -> None:
        self._worker = None
        emit(self.changed)
        if self._again:
            self._again = False
            self.update()

    def _finished(self, report: IndexReport) -> None:
        self.last_report = report
        if report.cancelled:
            self._worker = None
            emit(self.indexingCancelled)
            emit(self.changed)
            return
        emit(self.indexingFinished, report)
        self._done()

    def _failed(self, exc: BaseException) -> None:
        emit(self.indexingFailed, error_text(exc))
        self._done()

    def _cancelled(self) -> None:
        self._worker = None
        self._again = False
        emit(self.indexingCancelled)
        emit(self.changed)

    # -- watching -------------------------------------------------------------------------
    def _restart_watching(self) -> None:
        if not self.watch:
            return
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        folders = self.folders()
        if folders:
            try:
                self._watcher = FolderWatcher(
                    folders,
                    lambda: emit(self._filesChanged),
                    lambda line: emit(self.watchStatus, line),
                )
            except OSError as exc:  # no watching at all: updates stay manual
                self._watcher = None
                emit(self.watchStatus, f"Folders not watched for changes ({exc.strerror})")

    def start(self) -> None:
        """At startup: resume or refresh the index of every folder, and watch them."""
        if self.folders():
            self.update()

    def shutdown(self) -> None:
        self._timer.stop()
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        self._jobs.cancel_all()  # nothing is waited for: each job stops at its next check
        self._worker = None
        if self._db is not None:
            self._db.close()
            self._db = None
