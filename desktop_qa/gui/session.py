"""The window's model: document, model pack, running query and the answer cursor.

Everything here is state and dispatch; the widgets only draw it. Long work
(opening a document, loading a pack, answering) runs in ``Worker``s on
single-thread pools, and every report carries a request id so a newer request
silently wins over an older one that is still finishing.

PyMuPDF is not thread-safe, so document loading and page rendering share one
single-thread pool (``mupdf_pool``); queries get their own single-thread pool
because a Reader's tokenizer is not safe to use from two threads at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from desktop_qa.core import engine
from desktop_qa.core.document import Document
from desktop_qa.core.pack import ModelPack, find_pack, load_pack
from desktop_qa.core.qa import Answer, Progress, QueryResult
from desktop_qa.core.reader import Reader
from desktop_qa.core.settings import Settings, load_settings, save_settings
from desktop_qa.gui.workers import Worker

NO_DOCUMENT = "open a document first (Ctrl+O, or drop a file on the window)"
EMPTY_QUESTION = "the question is empty; type a question such as 'When does the lease end?'"


@dataclass(frozen=True)
class Shown:
    """The answers on screen: the ranked answers, or the best guess once asked for."""

    answers: tuple[Answer, ...]
    guess: bool  # True when ``answers`` is just the greyed best guess


def _pool(threads: int) -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(threads)
    return pool


class Session(QObject):
    """App state plus the commands that change it; emits a signal for every change."""

    documentLoading = Signal(str)  # path
    documentProgress = Signal(int, int)  # pages done, total
    documentLoaded = Signal(object)  # Document
    documentFailed = Signal(str)  # one line
    documentCancelled = Signal()

    modelLoading = Signal(str)
    modelChanged = Signal(object)  # ModelPack
    modelMissing = Signal(str)  # why (one line)
    modelFailed = Signal(str)

    queryStarted = Signal(str)  # question
    queryProgress = Signal(int, int)  # windows done, total
    queryFinished = Signal(object)  # QueryResult
    queryFailed = Signal(str)
    queryCancelled = Signal()
    answersChanged = Signal(object)  # Shown
    currentAnswerChanged = Signal(int)  # index into Shown.answers, -1 for none

    settingsChanged = Signal()
    warning = Signal(str)  # non-fatal, for the status bar

    def __init__(self, settings: Settings | None = None, *, persist: bool = True) -> None:
        super().__init__()
        self.settings_warning: str | None = None
        if settings is None:
            settings, self.settings_warning = load_settings()
        self.settings = settings
        self.persist = persist
        self.mupdf_pool = _pool(1)
        self.query_pool = _pool(1)
        self.model_pool = _pool(1)

        self.document: Document | None = None
        self.document_path: Path | None = None
        self.pack: ModelPack | None = None
        self.reader: Reader | None = None
        self.model_error: str | None = None
        self.result: QueryResult | None = None
        self.shown = Shown((), False)
        self.current = -1
        self.question = ""  # the question of the shown result (or the one running)
        self.last_seconds: float | None = None

        self._request = 0
        self._workers: dict[int, Worker] = {}
        self._doc_worker: Worker | None = None
        self._query_worker: Worker | None = None
        self._model_worker: Worker | None = None
        self._pending_question: str | None = None

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
    ) -> Worker:
        self._request += 1
        worker = Worker(self._request, job)
        self._workers[worker.request] = worker

        def done(request: int) -> bool:
            self._workers.pop(request, None)
            return True

        sig = worker.signals
        if progress is not None:
            sig.progress.connect(lambda r, p: progress(p) if self._is_live(r) else None)
        sig.finished.connect(lambda r, out: done(r) and self._is_live(r) and finished(out))
        sig.failed.connect(lambda r, msg, bug: done(r) and self._is_live(r) and failed(msg, bug))
        sig.cancelled.connect(lambda r: done(r) and self._is_live(r) and cancelled())
        pool.start(worker)
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

    # -- settings ---------------------------------------------------------------
    def save_settings(self) -> None:
        """Persist now (atomic write); failures become a status-bar warning."""
        if not self.persist:
            return
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.warning.emit(f"cannot save settings ({exc.strerror or exc})")

    def update_settings(self, *, top_k: int | None = None, strictness: float | None = None) -> None:
        if top_k is not None:
            self.settings.top_k = int(top_k)
        if strictness is not None:
            self.settings.strictness = float(strictness)
        self.save_settings()
        self.settingsChanged.emit()

    # -- model ------------------------------------------------------------------
    def load_model(self, model_dir: str | os.PathLike[str] | None = None) -> None:
        """Find (or load the given) pack and build its Reader off the UI thread."""
        explicit = str(model_dir) if model_dir else None
        if self._model_worker is not None:
            self._model_worker.cancel()

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            pack = find_pack(explicit)
            return pack, Reader(pack, batch_size=int(pack.extra.get("batch_size", 1)))

        self.modelLoading.emit(explicit or "")
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
            return pack, Reader(pack, batch_size=int(pack.extra.get("batch_size", 1)))

        self.modelLoading.emit(str(folder))
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
        self.model_error = None
        self.modelChanged.emit(self.pack)
        self._run_pending()

    def _model_error(self, message: str, bug: bool, *, missing: bool = True) -> None:
        self._model_worker = None
        if self.reader is not None and not missing:
            self.modelFailed.emit(message)  # keep the working model
            return
        if self.reader is not None:
            self.modelFailed.emit(message)
            return
        self.model_error = message
        if self._pending_question is not None:
            self._pending_question = None
            self.queryFailed.emit(message)
        if missing and message.startswith("no model pack installed"):
            self.modelMissing.emit(message)
        else:
            self.modelFailed.emit(message)

    # -- document ---------------------------------------------------------------
    def open_document(self, path: str | os.PathLike[str]) -> None:
        """Load in a worker (progress, cancel); the newest open wins."""
        path = Path(path).expanduser()
        self.cancel_loading(emit=False)
        self.cancel_query(emit=False)

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Document:
            return engine.open_document(
                path, progress=lambda done, total: report((done, total)), cancel=cancelled
            )

        self.documentLoading.emit(str(path))
        self._doc_worker = self._start(
            self.mupdf_pool,
            job,
            progress=lambda p: self.documentProgress.emit(*p),
            finished=self._document_ready,
            failed=self._document_error,
            cancelled=self._document_cancelled,
        )
        self._doc_worker.path = path  # type: ignore[attr-defined]

    def _document_ready(self, doc: Document) -> None:
        self._doc_worker = None
        self.document = doc
        self.document_path = doc.path
        self._clear_answers()
        if doc.path is not None:
            self.settings.add_recent(doc.path)
            self.save_settings()
            self.settingsChanged.emit()
        self.documentLoaded.emit(doc)
        self._run_pending()

    def _document_error(self, message: str, bug: bool) -> None:
        self._doc_worker = None
        if self._pending_question is not None:
            self._pending_question = None
        self.documentFailed.emit(message)

    def _document_cancelled(self) -> None:
        self._doc_worker = None
        self._pending_question = None
        self.documentCancelled.emit()

    def cancel_loading(self, *, emit: bool = True) -> bool:
        worker, self._doc_worker = self._doc_worker, None
        if worker is None:
            return False
        worker.cancel()
        if emit:
            self._pending_question = None
            self.documentCancelled.emit()
        return True

    # -- asking -----------------------------------------------------------------
    def ask(self, question: str) -> None:
        """Start answering; a running query is cancelled and its results ignored."""
        question = " ".join(question.split())
        self.cancel_query(emit=False)
        if not question:
            self.queryFailed.emit(EMPTY_QUESTION)
            return
        if self.document is None and not self.loading:
            self.queryFailed.emit(NO_DOCUMENT)
            return
        if self.reader is None and self._model_worker is None:
            self.queryFailed.emit(self.model_error or "no model pack loaded")
            return
        self.question = question
        if self.loading or self.reader is None:
            self._pending_question = question  # runs once the document and model are ready
            self.queryStarted.emit(question)
            return
        self._pending_question = None
        doc, reader = self.document, self.reader
        assert doc is not None
        top_k = self.settings.top_k
        threshold = self.settings.threshold(reader.pack.null_threshold)

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            return engine.answer_iter(
                doc, question, reader, top_k=top_k, threshold=threshold, cancel=cancelled
            )

        self.queryStarted.emit(question)
        self._query_worker = self._start(
            self.query_pool,
            job,
            progress=self._query_progress,
            finished=self._query_ready,
            failed=self._query_error,
            cancelled=self._query_cancelled,
        )

    def _run_pending(self) -> None:
        question = self._pending_question
        if question is not None and self.document is not None and self.reader is not None:
            self._pending_question = None
            self.ask(question)

    def _query_progress(self, step: Progress) -> None:
        self.queryProgress.emit(step.done, step.total)

    def _query_ready(self, step: Progress | None) -> None:
        self._query_worker = None
        if step is None:
            self.queryFailed.emit("the query produced no result")
            return
        result = step.result
        self.result = result
        self.last_seconds = result.seconds
        self.queryProgress.emit(step.done, step.total)
        self.queryFinished.emit(result)
        self._set_shown(Shown(tuple(result.answers), False))

    def _query_error(self, message: str, bug: bool) -> None:
        self._query_worker = None
        self.queryFailed.emit(message)

    def _query_cancelled(self) -> None:
        self._query_worker = None
        self.queryCancelled.emit()

    def cancel_query(self, *, emit: bool = True) -> bool:
        """Stop the running query (checked between batches); True if one was running."""
        worker, self._query_worker = self._query_worker, None
        pending, self._pending_question = self._pending_question, None
        if worker is None and pending is None:
            return False
        if worker is not None:
            worker.cancel()
        if emit:
            self.queryCancelled.emit()
        return True

    # -- the answer cursor ------------------------------------------------------
    def _clear_answers(self) -> None:
        self.result = None
        self.question = ""
        self._set_shown(Shown((), False))

    def _set_shown(self, shown: Shown) -> None:
        self.shown = shown
        self.current = 0 if shown.answers else -1
        self.answersChanged.emit(shown)
        self.currentAnswerChanged.emit(self.current)

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
            self.currentAnswerChanged.emit(index)

    @property
    def current_answer(self) -> Answer | None:
        return self.shown.answers[self.current] if self.current >= 0 else None

    # -- shutdown ---------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel everything and wait briefly, so no worker outlives the window."""
        self._pending_question = None
        for worker in list(self._workers.values()):
            worker.cancel()
        for pool in (self.query_pool, self.mupdf_pool, self.model_pool):
            pool.waitForDone(timeout_ms)
