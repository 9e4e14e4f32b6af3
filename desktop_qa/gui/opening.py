"""The session's document side: opening a file off the UI thread (pages, OCR, passwords),
and loading a library answer's document from the library store.

Opening has a thread of its own (``pool``) and so have library answers'
documents (``answer_pool``): neither waits on the other, and page drawing
(the page view's pool, its pages drawn in a child process) waits on neither.
Every OCR page is reported as a named step: each takes seconds. What an open
ends in goes to the callbacks of that ``open`` call; the session decides what
it means for a waiting question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_qa.core.documents.ocr import pages as ocr_mod
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.errors import PasswordRequired, UserError
from desktop_qa.core.reading.engine import OpenedDocument
from desktop_qa.core.storage.opening import complete_document, open_document
from desktop_qa.gui.compat import emit
from desktop_qa.gui.events import SessionSignals
from desktop_qa.gui.workers import Handle, Jobs, error_text, single_pool

LOOKING = "Looking for scanned pages"  # the open's first step when OCR may be needed


def _pending_line(pages: int) -> str:
    what = "1 scanned page is" if pages == 1 else f"{pages} scanned pages are"
    return f"{what} being read (OCR); the other pages can be asked now"


class DocumentOpener:
    """Opens one document at a time (the newest open wins), and library answers' documents."""

    def __init__(self, jobs: Jobs, signals: SessionSignals) -> None:
        self.jobs, self.signals = jobs, signals
        # Its own thread: opening (OCR: seconds a page) never holds up page drawing,
        # which has a pool of its own (the page view's).
        self.pool = single_pool()
        self.answer_pool = single_pool()  # a library answer's document: never behind OCR
        self._worker: Handle | None = None
        self._answer_worker: Handle | None = None
        self._complete_worker: Handle | None = None

    @property
    def loading(self) -> bool:
        return self._worker is not None

    def open(
        self,
        path: Path,
        password: str | None,
        *,
        ocr: OcrOptions,
        cache_protected: bool,
        opened: Callable[[OpenedDocument, str | None], None],
        locked: Callable[[str, bool], None],
        failed: Callable[[str], None],
        cancelled: Callable[[], None],
    ) -> None:
        """Open ``path`` in a worker; progress goes to the signals, the outcome to one of
        ``opened(document, password)``, ``locked(path, wrong)`` (a password is wanted),
        ``failed(message)`` or ``cancelled()``."""

        def job(report: Callable[..., None], is_cancelled: Callable[[], bool]) -> Any:
            def ocr_step(done: int, total: int) -> None:  # unthrottled: seconds a page
                report((ocr_mod.progress_text(done, total), done - 1, total), True)

            def looking(done: int, total: int) -> None:  # before OCR: which pages need it
                report((LOOKING, done, total), done == total)

            try:
                return open_document(
                    path,
                    # Scanned pages are OCR'd after the others open (``complete``).
                    defer_ocr=True,
                    progress=lambda done, total: report((done, total)),
                    cancel=is_cancelled,
                    password=password,
                    cache_protected=cache_protected,
                    ocr=replace(ocr, progress=ocr_step, scanning=looking),
                    # Issue 19: every page-based document opens for viewing; a text-less
                    # one carries its ``unanswerable`` line, which ``engine.answer`` raises.
                    require_text=False,
                )
            except PasswordRequired as exc:
                return exc

        def on_progress(payload: tuple[Any, ...]) -> None:
            if len(payload) == 3:
                emit(self.signals.documentStatus, *payload)
            else:
                emit(self.signals.documentProgress, *payload)

        def finished(out: OpenedDocument | PasswordRequired) -> None:
            self._worker = None
            if isinstance(out, PasswordRequired):
                locked(str(path), out.wrong)
            else:
                opened(out, password)

        def ended(outcome: Callable[..., None]) -> Callable[..., None]:
            def end(*args: Any) -> None:
                self._worker = None
                outcome(*args)

            return end

        self.cancel(notify=False)  # the newest open wins
        emit(self.signals.documentLoading, str(path))
        self._worker = self.jobs.start(
            self.pool,
            job,
            yielded=on_progress,
            returned=finished,
            errored=ended(lambda exc: failed(error_text(exc))),
            aborted=ended(cancelled),
        )

    def cancel(self, *, notify: bool = True) -> bool:
        """Stop the running open; True if one was running. ``notify``: its ``cancelled``
        callback runs now (Esc); else it is dropped without a word (a newer open)."""
        self.cancel_completion()
        worker, self._worker = self._worker, None
        if worker is None:
            return False
        return worker.cancel(now=notify, quiet=not notify)

    @property
    def completing(self) -> bool:
        return self._complete_worker is not None

    def complete(
        self,
        opened: OpenedDocument,
        password: str | None,
        *,
        ocr: OcrOptions,
        cache_protected: bool,
        done: Callable[[OpenedDocument, OpenedDocument], None],
    ) -> None:
        """OCR the pages an open left pending, then open the whole document, in a worker.

        ``done(partial, whole)`` gets both (the session keeps ``whole`` if ``partial``
        is still its document). Each page is a status line; a failure leaves the
        pages with text as they are (a status line says so).
        """
        pages = len(opened.pending_pages)

        def job(report: Callable[..., None], is_cancelled: Callable[[], bool]) -> Any:
            def ocr_step(done_page: int, total: int) -> None:  # counted out of the scans
                text = ocr_mod.progress_text(done_page, total)
                report(f"{text}; the other pages can be asked now", True)

            return complete_document(
                opened,
                cancel=is_cancelled,
                password=password,
                cache_protected=cache_protected,
                ocr=replace(ocr, progress=ocr_step),
            )

        def finished(whole: OpenedDocument) -> None:
            self._complete_worker = None
            done(opened, whole)

        def failed(exc: BaseException) -> None:
            self._complete_worker = None
            emit(self.signals.warning, f"the scanned pages could not be read: {error_text(exc)}")

        def dropped() -> None:
            self._complete_worker = None

        self.cancel_completion()
        emit(self.signals.documentPending, _pending_line(pages))
        self._complete_worker = self.jobs.start(
            self.pool,
            job,
            yielded=lambda text: emit(self.signals.documentPending, text),
            returned=finished,
            errored=failed,
            aborted=dropped,
        )

    def cancel_completion(self) -> bool:
        worker, self._complete_worker = self._complete_worker, None
        if worker is None:
            return False
        worker.cancel(quiet=True)
        return True

    def open_from_library(
        self,
        path: str,
        *,
        opened: Callable[[OpenedDocument], None],
        failed: Callable[[str], None],
    ) -> None:
        """A library answer's document, from the library store (no re-reading)."""
        from desktop_qa.core.storage.library import Library

        if self._answer_worker is not None:
            self._answer_worker.cancel(quiet=True)  # a newer answer's document wins

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            with Library(read_only=True) as lib:
                found = lib.document_by_path(path)
                if found is None:
                    raise UserError(f"{path} is no longer in the library; ask again")
                return OpenedDocument.from_document(lib.load(found.id))

        def ready(out: OpenedDocument) -> None:
            self._answer_worker = None
            opened(out)

        def error(exc: BaseException) -> None:
            self._answer_worker = None
            failed(error_text(exc))

        def dropped() -> None:
            self._answer_worker = None

        self._answer_worker = self.jobs.start(
            self.answer_pool,
            job,
            returned=ready,
            errored=error,
            aborted=dropped,
        )
