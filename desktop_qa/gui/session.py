"""The window's model: document, model pack, running query and the answer cursor.

Everything here is state and dispatch; the widgets only draw it. Long work
(opening a document, loading a pack, answering) runs in ``Worker``s on
single-thread pools, and every report carries a request id so a newer request
silently wins over an older one that is still finishing.

PyMuPDF is not thread-safe, so document loading and page rendering share one
single-thread pool (``mupdf_pool``); queries get their own single-thread pool
because a Reader's tokenizer is not safe to use from two threads at once.
Downloading a model (minutes) has its own pool, so choosing a pack folder or
asking by keyword is never queued behind it.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from desktop_qa.core import engine
from desktop_qa.core import ocr as ocr_mod
from desktop_qa.core.document import Document
from desktop_qa.core.engine import OpenedDocument
from desktop_qa.core.errors import PasswordRequired, UserError
from desktop_qa.core.pack import ModelPack, find_pack, load_pack
from desktop_qa.core.query import Query
from desktop_qa.core.reader import DEFAULT_BATCH_SIZE, Reader, physical_cores
from desktop_qa.core.results import Answer, Progress, QueryResult
from desktop_qa.core.settings import Settings, load_settings, save_settings
from desktop_qa.gui.compat import emit
from desktop_qa.gui.messages import user_message
from desktop_qa.gui.workers import Worker, start_worker

NO_DOCUMENT = "open a document first (Ctrl+O, or drop a file on the window)"
NO_LIBRARY = (
    "the library has no readable document yet; "
    "add a folder (Library ▸ Add Folder…) and let it index"
)
SCOPE_DOCUMENT, SCOPE_LIBRARY = "document", "library"  # what a question asks
# Where the shown answers stand: being read, final, or stopped by Esc (partial, resumable).
READING, DONE, STOPPED = "reading", "done", "stopped"
# Answers so far reach the screen at most this often (seconds): each re-ranked list costs
# the UI thread a redraw, and a burst of them queued behind a busy moment would be drawn
# back to back; the newest waits, and Esc or the final result shows the newest at once.
PARTIAL_INTERVAL = 0.1


@dataclass(frozen=True)
class _NeedsPassword:
    """A document worker's outcome when the document is locked (not an error: a question)."""

    wrong: bool


@dataclass(frozen=True)
class Shown:
    """The answers on screen: the ranked answers, or the best guess once asked for."""

    answers: tuple[Answer, ...]
    guess: bool  # True when ``answers`` is just the greyed best guess


def _looks(answers: tuple[Answer, ...]) -> list[tuple[str, int, int, int]]:
    """What the list shows of answers (place and rounded percentage), to skip redraws."""
    return [(a.document, a.start, a.end, round(a.probability * 100)) for a in answers]


def reader_threads() -> int:
    """onnxruntime threads for the GUI: one core fewer than the CLI, kept for the UI.

    With every core busy in inference, the UI and page-render threads get
    descheduled while holding the GIL, and the window stutters.
    """
    return max(1, physical_cores() - 1)


def _pool(threads: int) -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(threads)
    return pool


def _reader(pack: ModelPack) -> Reader:
    batch = int(pack.extra.get("batch_size", DEFAULT_BATCH_SIZE))  # same rule as `ask`
    return Reader(pack, threads=reader_threads(), batch_size=batch)


class Session(QObject):
    """App state plus the commands that change it; emits a signal for every change."""

    documentLoading = Signal(str)  # path
    documentProgress = Signal(int, int)  # pages done, total
    documentStatus = Signal(str, int, int)  # step text ("OCR page 3 of 8"), done, total
    documentLoaded = Signal(object)  # Document
    documentFailed = Signal(str)  # one line
    documentCancelled = Signal()
    documentPasswordNeeded = Signal(str, bool)  # path, a wrong password was given

    modelLoading = Signal(str)
    modelChanged = Signal(object)  # ModelPack
    modelMissing = Signal(str)  # why (one line)
    modelFailed = Signal(str)

    queryStarted = Signal(str)  # question
    queryProgress = Signal(int, int)  # passages (reader windows) done, total
    queryFinished = Signal(object)  # QueryResult
    queryFailed = Signal(str)
    queryCancelled = Signal()
    answersChanged = Signal(object)  # Shown
    currentAnswerChanged = Signal(int)  # index into Shown.answers, -1 for none

    downloadStarted = Signal(str)  # repo id
    downloadProgress = Signal(str)  # the current step, one line
    downloadFinished = Signal(object)  # the installed ModelPack (modelChanged follows)
    downloadFailed = Signal(str)  # one line, the same text the CLI prints after "error: "
    downloadCancelled = Signal()  # stopped; nothing was installed

    settingsChanged = Signal()
    warning = Signal(str)  # non-fatal, for the status bar

    # The library (issue 11): a library answer's document, shown without clearing answers.
    answerDocumentLoaded = Signal(object)  # Document
    answerDocumentFailed = Signal(str)

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        persist: bool = True,
        hub: Any = None,
    ) -> None:
        """``hub``: the model hub for downloads (a ``packs.hub.Hub``; None: the real one)."""
        super().__init__()
        self.settings_warning: str | None = None
        if settings is None:
            settings, self.settings_warning = load_settings()
        self.settings = settings
        self.persist = persist
        self.mupdf_pool = _pool(1)
        self.query_pool = _pool(1)
        self.model_pool = _pool(1)
        self.download_pool = _pool(1)
        self.hub = hub

        self.opened: OpenedDocument | None = None  # the document and its index
        self.document: Document | None = None  # self.opened.doc
        # The open document's password, in memory only (the page renderer needs it).
        self.document_password: str | None = None
        self.pack: ModelPack | None = None
        self.reader: Reader | None = None
        self.result: QueryResult | None = None
        self.query: Query | None = None  # the query of the shown result (or the one running)
        self.shown = Shown((), False)
        self.current = -1
        self.question = ""  # the question of the shown result (or the one running)
        self.scope = SCOPE_DOCUMENT  # the scope of the shown result (or the one running)
        # READING while answers stream in, DONE once final, STOPPED after Esc (go on with
        # ``read_more``); ``progress`` is (done, total) of the last report.
        self.status = DONE
        self.progress: tuple[int, int] = (0, 0)
        self._partial: QueryResult | None = None  # answers so far, not yet on screen
        self._partial_at = 0.0  # when answers so far were last put on screen
        self._partial_timer = QTimer(self)
        self._partial_timer.setSingleShot(True)
        self._partial_timer.timeout.connect(self._show_partial)

        self._request = 0
        self._workers: dict[int, Worker] = {}
        self._doc_worker: Worker | None = None
        self._query_worker: Worker | None = None
        self._model_worker: Worker | None = None
        self._download_worker: Worker | None = None
        self._download_cancel = threading.Event()
        self._pending_question: str | None = None
        self._pending_scope = SCOPE_DOCUMENT
        # A question waiting for a protected document's password (``--ask`` on such a file).
        self._password_question: str | None = None
        self._answer_doc_worker: Worker | None = None

    # -- plumbing ---------------------------------------------------------------
    def _start(
        self,
        pool: QThreadPool,
        job: Callable[..., Any],
        *,
        progress: Callable[[Any], None] | None,
        finished: Callable[[Any], None],
        failed: Callable[[str, bool], None],
        cancelled: Callable[[], None],
        live: Callable[[int], bool] | None = None,
        keep: Callable[[Any], bool] | None = None,
    ) -> Worker:
        self._request += 1
        worker = start_worker(
            pool,
            self._request,
            job,
            live=live or self._is_live,
            progress=progress,
            finished=finished,
            failed=failed,
            cancelled=cancelled,
            done=lambda request: self._workers.pop(request, None),
            keep=keep,
        )
        self._workers[worker.request] = worker
        return worker

    def _is_live(self, request: int) -> bool:
        """Only the newest worker of each kind may change the state."""
        return any(
            w is not None and w.request == request and not w.is_cancelled()
            for w in (self._doc_worker, self._query_worker, self._model_worker)
        )

    @property
    def busy(self) -> bool:
        return self._query_worker is not None

    @property
    def loading(self) -> bool:
        return self._doc_worker is not None

    @property
    def downloading(self) -> bool:
        return self._download_worker is not None

    # -- settings ---------------------------------------------------------------
    def save_settings(self) -> None:
        """Persist now (atomic write); failures become a status-bar warning."""
        if not self.persist:
            return
        try:
            save_settings(self.settings)
        except OSError as exc:
            emit(self.warning, f"cannot save settings ({exc.strerror or exc})")

    def update_settings(
        self,
        *,
        top_k: int | None = None,
        strictness: float | None = None,
        exhaustive: bool | None = None,
        cache_protected: bool | None = None,
        ocr_mode: str | None = None,
        ocr_languages: str | None = None,
    ) -> None:
        """Change and save settings; OCR changes apply from the next document opened."""
        if cache_protected is not None:
            self.settings.cache_protected = bool(cache_protected)
        if ocr_mode is not None and ocr_mode in ocr_mod.MODES:
            self.settings.ocr_mode = ocr_mode
        if ocr_languages:
            self.settings.ocr_languages = ocr_languages
        if exhaustive is not None:
            self.settings.exhaustive = bool(exhaustive)
        if top_k is not None:
            self.settings.top_k = int(top_k)
        if strictness is not None:
            self.settings.strictness = float(strictness)
        self.save_settings()
        emit(self.settingsChanged)

    # -- model ------------------------------------------------------------------
    def load_model(self, model_dir: str | os.PathLike[str] | None = None) -> None:
        """Find (or load the given) pack and build its Reader off the UI thread."""
        explicit = str(model_dir) if model_dir else None
        if self._model_worker is not None:
            self._model_worker.cancel()

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            pack = find_pack(explicit)
            return pack, _reader(pack)

        emit(self.modelLoading, explicit or "")
        self._model_worker = self._start(
            self.model_pool,
            job,
            progress=None,
            finished=self._model_ready,
            failed=self._model_error,
            cancelled=lambda: None,
        )

    def choose_model_folder(self, folder: str | os.PathLike[str]) -> None:
        """A pack folder the user picked: install it if the installer exists, else use it."""
        if self._model_worker is not None:
            self._model_worker.cancel()

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            pack = load_pack(folder)
            try:
                from desktop_qa.packs.install import install_pack
            except ImportError:
                install_pack = None
            if install_pack is not None:
                pack = install_pack(pack.path)
            return pack, _reader(pack)

        emit(self.modelLoading, str(folder))
        self._model_worker = self._start(
            self.model_pool,
            job,
            progress=None,
            finished=self._model_ready,
            failed=lambda msg, bug: self._model_error(msg, bug, missing=False),
            cancelled=lambda: None,
        )

    def set_reader(self, reader: Reader) -> None:
        """Use an already built reader (tests, embedding)."""
        if self._model_worker is not None:
            self._model_worker.cancel()
            self._model_worker = None
        self._model_ready((reader.pack, reader))

    def _model_ready(self, out: tuple[ModelPack, Reader]) -> None:
        self._model_worker = None
        self.pack, self.reader = out
        emit(self.modelChanged, self.pack)
        self._run_pending()

    def _model_error(self, message: str, bug: bool, *, missing: bool = True) -> None:
        self._model_worker = None
        if self.reader is not None and not missing:
            emit(self.modelFailed, message)  # keep the working model
            return
        if self.reader is not None:
            emit(self.modelFailed, message)
            return
        if missing and message.startswith("no model pack installed"):
            emit(self.modelMissing, message)
        else:
            emit(self.modelFailed, message)
        self._run_pending()  # without a model: keyword answers

    # -- downloading a model ----------------------------------------------------
    def download_model(self, repo_id: str | None = None) -> bool:
        """Download, build and install a pack off the UI thread, then load it.

        The same pipeline as ``desktop-qa model download``; False if a download
        is already running. Meanwhile questions keep their keyword answers.
        """
        if self._download_worker is not None:
            return False
        hub = self.hub
        # Our own flag, not the worker's: download_pack polls it between steps, and
        # the worker's outcome then says what really happened (a cancel that comes
        # after the last check still ends in an installed pack, which is then used).
        cancel = self._download_cancel = threading.Event()

        def job(report: Callable[..., None], cancelled: Callable[[], bool]) -> Any:
            from desktop_qa.packs import download
            from desktop_qa.packs.hub import HfHub

            pack = download.download_pack(
                repo_id or download.DEFAULT_REPO,
                progress=lambda text: report(text, True),  # every step, unthrottled
                cancel=cancel.is_set,
                hub=hub if hub is not None else HfHub(progress_bars=False),
            )
            report("loading the model", True)
            return pack, _reader(pack)

        def live(request: int) -> bool:
            worker = self._download_worker
            return worker is not None and worker.request == request

        from desktop_qa.packs.download import DEFAULT_REPO

        emit(self.downloadStarted, repo_id or DEFAULT_REPO)
        self._download_worker = self._start(
            self.download_pool,
            job,
            progress=lambda text: emit(self.downloadProgress, str(text)),
            finished=self._download_ready,
            failed=self._download_error,
            cancelled=self._download_cancelled,
            live=live,
        )
        return True

    def cancel_download(self) -> bool:
        """Ask the running download to stop at its next step; True if one was running.

        ``downloadCancelled`` (or, if it was already installing, the usual
        ``downloadFinished``) follows once the worker has stopped.
        """
        if self._download_worker is None or self._download_cancel.is_set():
            return False
        self._download_cancel.set()
        return True

    @property
    def download_cancelling(self) -> bool:
        return self._download_worker is not None and self._download_cancel.is_set()

    def _download_ready(self, out: tuple[ModelPack, Reader]) -> None:
        self._download_worker = None
        if self._model_worker is not None:  # an older load must not replace the new pack
            self._model_worker.cancel()
            self._model_worker = None
        emit(self.downloadFinished, out[0])
        self._model_ready(out)

    def _download_error(self, message: str, bug: bool) -> None:
        self._download_worker = None
        emit(self.downloadFailed, message)

    def _download_cancelled(self) -> None:
        self._download_worker = None
        emit(self.downloadCancelled)

    # -- document ---------------------------------------------------------------
    def open_document(self, path: str | os.PathLike[str], password: str | None = None) -> None:
        """Load in a worker (progress, cancel); the newest open wins.

        A protected PDF without (or with a wrong) ``password`` ends in
        ``documentPasswordNeeded``; the window asks and calls this again.
        """
        path = Path(path).expanduser()
        self.cancel_loading(notify=False)
        self.cancel_query(notify=False)
        waiting, self._password_question = self._password_question, None
        if password is not None and waiting is not None:
            self._pending_question = waiting  # asked once the document opens
        allow_cache = self.settings.cache_protected

        ocr = self.settings.ocr_options()

        def job(report: Callable[..., None], cancelled: Callable[[], bool]) -> Any:
            # Every OCR page is reported (each takes seconds): unthrottled.
            def ocr_step(done: int, total: int) -> None:
                report((ocr_mod.progress_text(done, total), done - 1, total), True)

            try:
                opened = engine.open_document(
                    path,
                    progress=lambda done, total: report((done, total)),
                    cancel=cancelled,
                    password=password,
                    cache_protected=allow_cache,
                    ocr=replace(ocr, progress=ocr_step),
                    # Issue 19: every page-based document opens for viewing; a text-less
                    # one carries its ``unanswerable`` line, which ``engine.answer`` raises.
                    require_text=False,
                )
            except PasswordRequired as exc:
                return _NeedsPassword(exc.wrong)
            return opened, password

        def on_progress(payload: tuple[Any, ...]) -> None:
            if len(payload) == 3:
                emit(self.documentStatus, *payload)
            else:
                emit(self.documentProgress, *payload)

        emit(self.documentLoading, str(path))
        self._doc_worker = self._start(
            self.mupdf_pool,
            job,
            progress=on_progress,
            finished=self._document_ready,
            failed=self._document_error,
            cancelled=self._document_cancelled,
        )
        self._doc_worker.path = path  # type: ignore[attr-defined]

    def _document_ready(self, out: Any) -> None:
        worker, self._doc_worker = self._doc_worker, None
        if isinstance(out, _NeedsPassword):
            self._password_question, self._pending_question = self._pending_question, None
            path = getattr(worker, "path", "")
            emit(self.documentPasswordNeeded, str(path), out.wrong)
            return
        opened, self.document_password = out
        doc = opened.doc
        # Long-lived objects (modules, widgets, the document) leave the cyclic GC's
        # view, so its full passes during a query stay short (they hold the GIL).
        gc.collect()
        gc.freeze()
        # The previous document's index is released with its last reference
        # (a query still running on it keeps it alive until it ends).
        self.opened = opened
        self.document = doc
        self._clear_answers()
        if doc.path is not None:
            self.settings.add_recent(doc.path)
            self.save_settings()
            emit(self.settingsChanged)
        emit(self.documentLoaded, doc)
        self._run_pending()

    def cancel_password(self) -> None:
        """The password dialog was cancelled: a question waiting for the document is dropped."""
        waiting, self._password_question = self._password_question, None
        if waiting is not None:
            emit(self.queryCancelled)

    def _document_error(self, message: str, bug: bool) -> None:
        self._doc_worker = None
        if self._pending_question is not None:
            self._pending_question = None
        emit(self.documentFailed, message)

    def _document_cancelled(self) -> None:
        self._doc_worker = None
        self._pending_question = None
        emit(self.documentCancelled)

    def cancel_loading(self, *, notify: bool = True) -> bool:
        worker, self._doc_worker = self._doc_worker, None
        if worker is None:
            return False
        worker.cancel()
        if notify:
            self._pending_question = None
            emit(self.documentCancelled)
        return True

    # -- asking -----------------------------------------------------------------
    def _query(self, question: str) -> Query | None:
        """The question with the user's settings, validated once; None (and a message) if bad."""
        reader = self.reader  # None: keyword answers
        try:
            return Query(
                question,
                top_k=self.settings.top_k,
                threshold=self.settings.threshold(reader.pack.null_threshold) if reader else None,
                exhaustive=self.settings.exhaustive,
            )
        except UserError as exc:
            emit(self.queryFailed, user_message(exc))
            return None

    def ask(self, question: str, scope: str = SCOPE_DOCUMENT) -> None:
        """Ask ``scope`` (this document or the library); one path for every scope.

        A running question is cancelled and its results ignored; the old answers
        and highlights are cleared at once. Answers stream in as they are read
        (``answersChanged`` with ``status == READING``), the final result follows.
        """
        self.cancel_query(notify=False)
        query = self._query(question)
        if query is None:
            return
        if scope == SCOPE_DOCUMENT and self.opened is None and not self.loading:
            emit(self.queryFailed, NO_DOCUMENT)
            return
        self._clear_answers()
        self.question, self.scope, self.query = query.question, scope, query
        waiting_for_document = scope == SCOPE_DOCUMENT and self.loading
        if waiting_for_document or self._model_worker is not None:
            # Runs once the document and model are ready.
            self._pending_question, self._pending_scope = query.question, scope
            self.status, self.progress = READING, (0, 0)
            emit(self.queryStarted, query.question)
            return
        self._pending_question = None
        self._run(query, None)

    def ask_library(self, question: str) -> None:
        """Ask every indexed document of the library (keyword answers without a model)."""
        self.ask(question, SCOPE_LIBRARY)

    def can_read_more(self) -> bool:
        """True when ``read_more`` has something to read for the shown result."""
        result, query = self.result, self.query
        if result is None or query is None or self.reader is None or self.busy:
            return False
        if result.mode != "reader":
            return False
        if self.status == STOPPED:
            return True
        if result.whole_document:
            return False
        return self.scope == SCOPE_LIBRARY or self.opened is not None

    def read_more(self) -> bool:
        """The one "read more" (Ctrl+Enter), for any scope; windows read are never read again.

        After Esc it goes on from where the reading stopped, same question and
        depth. Else, for this document, it reads the whole document; for the
        library, four times deeper down the ranking (never the whole library
        unasked: it may be thousands of documents). False: nothing more to read.
        """
        if not self.can_read_more():
            return False
        result, query = self.result, self.query
        assert result is not None and query is not None
        if self.status != STOPPED:
            if self.scope == SCOPE_LIBRARY:
                query = replace(query, depth=query.depth * 4)
            else:
                query = query.deeper()
        self._run(query, result)
        return True

    def read_more_seconds(self) -> float | None:
        """About how long ``read_more`` takes (the whole document, or the library four
        times deeper), from this question's own pace; None when not known."""
        result, query = self.result, self.query
        if result is None or query is None or self.status == STOPPED:
            return None
        if self.scope == SCOPE_LIBRARY:
            return engine.whole_read_seconds(result, passages=query.depth * 4)
        return engine.whole_read_seconds(result)

    # The names of the two scopes' "read more" before they were one action.
    read_whole = read_more
    read_more_library = read_more

    def _run(self, query: Query, resume: QueryResult | None) -> None:
        self._drop_partial()  # the first answers of this reading are shown at once
        self.query = query
        self.status, self.progress = READING, (0, 0)
        if self.scope == SCOPE_LIBRARY:
            job = self._library_job(query, resume)
        else:
            job = self._document_job(query, resume)
        emit(self.queryStarted, query.question)
        self._query_worker = self._start(
            self.query_pool,
            job,
            progress=self._query_progress,
            finished=self._query_ready,
            failed=self._query_error,
            cancelled=self._query_cancelled,
            keep=lambda step: getattr(step, "result", None) is not None,
        )

    def _document_job(self, query: Query, resume: QueryResult | None) -> Callable[..., Any]:
        opened, reader = self.opened, self.reader
        assert opened is not None

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            return engine.answer(opened, query, reader, cancel=cancelled, resume=resume)

        return job

    def _library_job(self, query: Query, resume: QueryResult | None) -> Callable[..., Any]:
        from desktop_qa.core.library import Library, LibraryScope

        reader = self.reader

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            def steps() -> Any:
                with Library(read_only=True) as lib:
                    scope = LibraryScope(lib)
                    if scope.total_passages == 0:
                        raise UserError(NO_LIBRARY)
                    return (
                        yield from engine.answer(
                            scope, query, reader, cancel=cancelled, resume=resume
                        )
                    )

            return steps()

        return job

    def _run_pending(self) -> None:
        question = self._pending_question
        if question is None or self._model_worker is not None:
            return
        scope = self._pending_scope
        if scope == SCOPE_DOCUMENT and (self.opened is None or self.loading):
            return
        self._pending_question = None
        self.ask(question, scope)

    def _query_progress(self, step: Progress) -> None:
        """Answers so far (when the step carries them, at most every ``PARTIAL_INTERVAL``),
        then how far the reading is."""
        self.progress = (step.done, step.total)
        if step.result is not None:
            self._partial = step.result
            wait = PARTIAL_INTERVAL - (time.monotonic() - self._partial_at)
            if wait <= 0:
                self._show_partial()
            elif not self._partial_timer.isActive():
                self._partial_timer.start(int(wait * 1000) + 1)
        emit(self.queryProgress, step.done, step.total)

    def _show_partial(self) -> None:
        """Put the newest answers so far on screen (if the reading they belong to goes on)."""
        self._partial_timer.stop()
        result, self._partial = self._partial, None
        if result is None or self.status != READING:
            return
        self._partial_at = time.monotonic()
        self.result = result
        answers = tuple(result.answers)
        if _looks(answers) != _looks(self.shown.answers):  # redraw only what changed
            self._set_shown(Shown(answers, False), keep=True)

    def _drop_partial(self) -> None:
        self._partial_timer.stop()
        self._partial, self._partial_at = None, 0.0

    def _query_ready(self, result: QueryResult) -> None:
        self._drop_partial()
        self._query_worker = None
        self.result = result
        self.status = DONE
        emit(self.queryFinished, result)
        self._set_shown(Shown(tuple(result.answers), False), keep=True)

    def _query_error(self, message: str, bug: bool) -> None:
        self._drop_partial()
        self._query_worker = None
        self.status = DONE
        emit(self.queryFailed, message)

    def _query_cancelled(self) -> None:
        self._query_worker = None
        self._stopped()
        emit(self.queryCancelled)

    def _stopped(self) -> None:
        """Esc: the answers found so far stay, marked stopped (``read_more`` goes on)."""
        self._show_partial()  # the newest found, even if it was waiting its turn
        self._drop_partial()
        self.status = STOPPED if self.result is not None else DONE
        if self.result is not None:
            emit(self.answersChanged, self.shown)

    def cancel_query(self, *, notify: bool = True) -> bool:
        """Stop the running query (checked between batches); True if one was running.

        ``notify``: the user stopped it (Esc): keep what was found so far.
        """
        worker, self._query_worker = self._query_worker, None
        pending, self._pending_question = self._pending_question, None
        if worker is None and pending is None:
            return False
        if worker is not None:
            worker.cancel()
        if not notify:
            self._drop_partial()
        if notify:
            self._stopped()
            emit(self.queryCancelled)
        return True

    # -- asking the library (issue 11) -----------------------------------------
    @property
    def library_result(self) -> bool:
        """The query shown (or running) asks the library, not the open document."""
        return self.query is not None and self.scope == SCOPE_LIBRARY

    def open_answer_document(self, answer: Answer | None) -> bool:
        """Load the document of a library answer that is not on screen; True if it must load."""
        if answer is None or not self.library_result or not answer.document:
            return False
        doc = self.document
        if doc is not None and doc.path is not None and str(doc.path) == answer.document:
            return False
        return self.show_answer_document(answer.document)

    def show_answer_document(self, path: str) -> bool:
        """Load a library answer's document from the library store (no re-reading);
        ``answerDocumentLoaded`` follows and the answers stay on screen."""
        from desktop_qa.core.library import Library

        if self._answer_doc_worker is not None:
            self._answer_doc_worker.cancel()

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            with Library(read_only=True) as lib:
                found = lib.document_by_path(path)
                if found is None:
                    raise UserError(f"{path} is no longer in the library; ask again")
                return OpenedDocument.from_document(lib.load(found.id))

        def live(request: int) -> bool:
            w = self._answer_doc_worker
            return w is not None and w.request == request and not w.is_cancelled()

        def ready(opened: OpenedDocument) -> None:
            self._answer_doc_worker = None
            self.opened, self.document = opened, opened.doc
            emit(self.answerDocumentLoaded, opened.doc)

        def failed(message: str, bug: bool) -> None:
            self._answer_doc_worker = None
            emit(self.answerDocumentFailed, message)

        def cancelled() -> None:
            self._answer_doc_worker = None

        self._answer_doc_worker = self._start(
            self.mupdf_pool,
            job,
            progress=None,
            finished=ready,
            failed=failed,
            cancelled=cancelled,
            live=live,
        )
        return True

    # -- the answer cursor ------------------------------------------------------
    def _clear_answers(self) -> None:
        self.result = None
        self.question = ""
        self.status, self.progress = DONE, (0, 0)
        self._set_shown(Shown((), False))

    def _set_shown(self, shown: Shown, *, keep: bool = False) -> None:
        """Put answers on screen; ``keep``: stay on the current answer if it is still listed
        (the list re-ranks while a reading streams in)."""
        old = self.current_answer
        self.shown = shown
        self.current = 0 if shown.answers else -1
        if keep and old is not None:
            for i, a in enumerate(shown.answers):
                if (a.document, a.start, a.end) == (old.document, old.start, old.end):
                    self.current = i
                    break
        emit(self.answersChanged, shown)
        emit(self.currentAnswerChanged, self.current)

    def show_best_guess(self) -> bool:
        """After "no answer": put the greyed best guess on screen."""
        if self.result is None or not self.result.no_answer or self.shown.guess:
            return False
        guess = self.result.best_guess
        if guess is None:
            return False
        self._set_shown(Shown((guess,), True))
        return True

    def step(self, delta: int) -> None:
        """Next/previous answer (wraps); from "no answer" the first step shows the guess."""
        if not self.shown.answers:
            self.show_best_guess()
            return
        self.select((self.current + delta) % len(self.shown.answers))

    def select(self, index: int) -> None:
        if 0 <= index < len(self.shown.answers) and index != self.current:
            self.current = index
            emit(self.currentAnswerChanged, index)

    @property
    def current_answer(self) -> Answer | None:
        return self.shown.answers[self.current] if self.current >= 0 else None

    # -- shutdown ---------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel everything and wait briefly, so no worker outlives the window."""
        self._pending_question = None
        self._download_cancel.set()
        for worker in list(self._workers.values()):
            worker.cancel()
        for pool in (self.query_pool, self.mupdf_pool, self.model_pool, self.download_pool):
            pool.waitForDone(timeout_ms)
