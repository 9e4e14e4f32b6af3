"""The window's model: the question, its reading and the answers on screen.

A question is asked of the open document or of the library; its answers
stream in while it is read (coalesced to what a person can see), Esc keeps
the answers so far and ``read_more`` goes on from there, and the answer
cursor says which one is current. The document side (``opening``) and the
model (``models``) are parts of the session; every change of any part is
told on the session's signals (``events``). Long work runs in ``Worker``s,
and every report carries a request id so a newer request silently wins over
an older one that is still finishing. Queries get their own single-thread
pool because a Reader's tokenizer is not safe to use from two threads at once.
Asking, reading on, Esc and the answer cursor stay in this one module (a
little over 500 lines) so a question can be followed from ``ask`` to the
answers on screen in one pass.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThreadPool

from desktop_qa.core.documents.document import Document
from desktop_qa.core.documents.ocr import pages as ocr_mod
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import engine
from desktop_qa.core.reading.engine import OpenedDocument
from desktop_qa.core.reading.pack import ModelPack
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.reading.results import Answer, Progress, QueryResult
from desktop_qa.core.storage.settings import Settings, load_settings, save_settings
from desktop_qa.gui.compat import emit
from desktop_qa.gui.events import SessionSignals
from desktop_qa.gui.messages import user_message
from desktop_qa.gui.models import ModelSlot
from desktop_qa.gui.opening import DocumentOpener
from desktop_qa.gui.reading import AnswersSoFar, reading
from desktop_qa.gui.workers import Handle, Jobs, error_text, single_pool

NO_DOCUMENT = "open a document first (Ctrl+O, or drop a file on the window)"
SCOPE_DOCUMENT, SCOPE_LIBRARY = "document", "library"  # what a question asks
# Where the shown answers stand: being read, final, or stopped by Esc (partial, resumable).
READING, DONE, STOPPED = "reading", "done", "stopped"


@dataclass(frozen=True)
class Shown:
    """The answers on screen: the ranked answers, or the best guess once asked for."""

    answers: tuple[Answer, ...]
    guess: bool  # True when ``answers`` is just the greyed best guess


def percent(answer: Answer) -> int:
    """The score as the list shows it ("54%")."""
    return round(answer.probability * 100)


def on_screen(result: QueryResult) -> tuple[Answer, ...]:
    """The answers as the list shows them, in the order of the percentage shown (a 54%
    keyword match never above a 100% one; ties keep the reading's order); F3 steps in
    this order too. A keyword match holding 0% of the question's words is no match and
    is not listed (a list of only such keeps its first)."""
    answers = list(result.answers)
    if result.mode == "keyword":
        answers = [a for a in answers if percent(a) > 0] or answers[:1]
    return tuple(sorted(answers, key=lambda a: -percent(a)))


def _looks(answers: tuple[Answer, ...]) -> list[tuple[str, int, int, int]]:
    """What the list shows of answers (place and rounded percentage), to skip redraws."""
    return [(a.document, a.start, a.end, round(a.probability * 100)) for a in answers]


class Session(SessionSignals):
    """App state plus the commands that change it; emits a signal for every change."""

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
        self.jobs = Jobs()
        self.documents = DocumentOpener(self.jobs, self)
        self.models = ModelSlot(self.jobs, self, self._run_pending, hub=hub)
        # The page view's pool: drawing never queues behind opening, OCR or library loads.
        self.mupdf_pool = single_pool()
        self.query_pool = single_pool()

        self.opened: OpenedDocument | None = None  # the document and its index
        self.document: Document | None = None  # self.opened.doc
        # The open document's password, in memory only (the page renderer needs it).
        self.document_password: str | None = None
        self.result: QueryResult | None = None
        self.query: Query | None = None  # the query of the shown result (or the one running)
        self.shown = Shown((), False)
        self.current = -1
        # True once the user picked an answer of this question (F3, the list): the
        # list then stays on it as the reading re-ranks; else it follows the best.
        self.chosen = False
        self.question = ""  # the question of the shown result (or the one running)
        self.scope = SCOPE_DOCUMENT  # the scope of the shown result (or the one running)
        # READING while answers stream in, DONE once final, STOPPED after Esc (go on with
        # ``read_more``); ``progress`` is (done, total) of the last report.
        self.status = DONE
        self.progress: tuple[int, int] = (0, 0)
        self._so_far = AnswersSoFar(self._show_partial, self)

        self._query_worker: Handle | None = None
        self._pending_question: str | None = None
        self._pending_scope = SCOPE_DOCUMENT
        # A question waiting for a protected document's password (``--ask`` on such a file).
        self._password_question: str | None = None

    @property
    def busy(self) -> bool:
        return self._query_worker is not None

    @property
    def loading(self) -> bool:
        return self.documents.loading

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

    # -- the model (``models``) ------------------------------------------------------
    @property
    def pack(self) -> ModelPack | None:
        return self.models.pack

    @property
    def reader(self) -> Reader | None:
        return self.models.reader

    def load_model(self, model_dir: str | os.PathLike[str] | None = None) -> None:
        """Find (or load the given) pack and build its Reader off the UI thread."""
        self.models.load(model_dir)

    def choose_model_folder(self, folder: str | os.PathLike[str]) -> None:
        """A pack folder the user picked: install it if the installer exists, else use it."""
        self.models.choose_folder(folder)

    def set_reader(self, reader: Reader) -> None:
        """Use an already built reader (tests, embedding)."""
        self.models.use(reader)

    def download_model(self, repo_id: str | None = None) -> bool:
        """Download and install a pack in the background, then use it (False: one runs)."""
        return self.models.download(repo_id)

    def cancel_download(self) -> bool:
        """Stop the running download at its next step; True if one was running."""
        return self.models.cancel_download()

    @property
    def downloading(self) -> bool:
        return self.models.downloading

    @property
    def download_cancelling(self) -> bool:
        return self.models.download_cancelling

    # -- the document (``opening``) ------------------------------------------------
    def open_document(self, path: str | os.PathLike[str], password: str | None = None) -> None:
        """Load in a worker (progress, cancel); the newest open wins.

        A protected PDF without (or with a wrong) ``password`` ends in
        ``documentPasswordNeeded``; the window asks and calls this again.
        """
        self.cancel_loading(notify=False)
        self.cancel_query(notify=False)
        waiting, self._password_question = self._password_question, None
        if password is not None and waiting is not None:
            self._pending_question = waiting  # asked once the document opens
        self.documents.open(
            Path(path).expanduser(),
            password,
            ocr=self.settings.ocr_options(),
            cache_protected=self.settings.cache_protected,
            opened=self._document_ready,
            locked=self._document_locked,
            failed=self._document_error,
            cancelled=self._document_cancelled,
        )

    def _document_ready(self, opened: OpenedDocument, password: str | None) -> None:
        self.document_password = password
        doc = opened.doc
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
        if opened.pending_pages:
            self.documents.complete(
                opened,
                password,
                ocr=self.settings.ocr_options(),
                cache_protected=self.settings.cache_protected,
                done=self._document_completed,
            )
        self._run_pending()

    def _document_completed(self, partial: OpenedDocument, whole: OpenedDocument) -> None:
        """The scanned pages were read: the whole document replaces the one without them.

        A question that was answered (or is being read) without them is asked
        again, so they join its answers.
        """
        if self.opened is not partial:  # another document was opened meanwhile
            whole.close()
            return
        self.opened, self.document = whole, whole.doc
        emit(self.documentCompleted, whole.doc)
        question, scope = self.question, self.scope
        missed = self.busy or (self.result is not None and bool(self.result.read.pending_pages))
        if question and scope == SCOPE_DOCUMENT and missed:
            self.ask(question, scope)

    def _document_locked(self, path: str, wrong: bool) -> None:
        """A password is wanted: a waiting question waits for it (``--ask`` on such a file)."""
        self._password_question, self._pending_question = self._pending_question, None
        emit(self.documentPasswordNeeded, path, wrong)

    def cancel_password(self) -> None:
        """The password dialog was cancelled: a question waiting for the document is dropped."""
        waiting, self._password_question = self._password_question, None
        if waiting is not None:
            emit(self.queryCancelled)

    def _document_error(self, message: str) -> None:
        self._pending_question = None
        emit(self.documentFailed, message)

    def _document_cancelled(self) -> None:
        self._pending_question = None
        emit(self.documentCancelled)

    def cancel_loading(self, *, notify: bool = True) -> bool:
        """Stop opening; ``notify``: the user stopped it (Esc), a waiting question goes too
        (the open's ``cancelled`` outcome, at once)."""
        return self.documents.cancel(notify=notify)

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
        """Start reading ``query`` (from ``resume``'s state when given); a new question asked
        while the document or the model still loads runs once they are ready."""
        self._drop_partial()  # the first answers of this reading are shown at once
        self.query = query
        self.status, self.progress = READING, (0, 0)
        emit(self.queryStarted, query.question)
        waiting_for_document = self.scope == SCOPE_DOCUMENT and self.loading
        if resume is None and (waiting_for_document or self.models.loading):
            self._pending_question, self._pending_scope = query.question, self.scope
            return
        self._pending_question = None
        opened = None if self.scope == SCOPE_LIBRARY else self.opened
        assert opened is not None or self.scope == SCOPE_LIBRARY
        self._query_worker = self.jobs.start(
            self.query_pool,
            reading(opened, query, self.reader, resume),
            yielded=self._query_progress,
            returned=self._query_ready,
            errored=self._query_error,
            aborted=self._query_cancelled,
            keep=lambda step: getattr(step, "result", None) is not None,
        )

    def _run_pending(self) -> None:
        question = self._pending_question
        if question is None or self.models.loading:
            return
        scope = self._pending_scope
        if scope == SCOPE_DOCUMENT and (self.opened is None or self.loading):
            return
        self._pending_question = None
        self.ask(question, scope)

    def _query_progress(self, step: Progress) -> None:
        """Answers so far (when the step carries them, paced by ``AnswersSoFar``), then
        how far the reading is."""
        self.progress = (step.done, step.total)
        if step.result is not None:
            self._so_far.offer(step.result)
        emit(self.queryProgress, step.done, step.total)

    def _show_partial(self, result: QueryResult) -> None:
        """Put answers so far on screen (if the reading they belong to goes on)."""
        if self.status != READING:
            return
        self.result = result
        answers = on_screen(result)
        if _looks(answers) != _looks(self.shown.answers):  # redraw only what changed
            self._set_shown(Shown(answers, False), keep=True)

    def _drop_partial(self) -> None:
        self._so_far.drop()

    def _query_ready(self, result: QueryResult) -> None:
        self._drop_partial()
        self._query_worker = None
        self.result = result
        self.status = DONE
        emit(self.queryFinished, result)
        self._set_shown(Shown(on_screen(result), False), keep=True)

    def _query_error(self, exc: BaseException) -> None:
        self._drop_partial()
        self._query_worker = None
        self.status = DONE
        emit(self.queryFailed, error_text(exc))

    def _query_cancelled(self) -> None:
        """The one way a reading ends stopped (Esc, or the job's own stop)."""
        self._query_worker = None
        self._stopped()
        emit(self.queryCancelled)

    def _stopped(self) -> None:
        """Esc: the answers found so far stay, marked stopped (``read_more`` goes on)."""
        self._so_far.flush()  # the newest found, even if it was waiting its turn
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
        if not notify:
            self._drop_partial()
            if worker is not None:
                worker.cancel(quiet=True)
        elif worker is not None:
            worker.cancel(now=True)  # ``_query_cancelled``, at once
        else:  # a question waiting for its document or model
            self._query_cancelled()
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

        def ready(opened: OpenedDocument) -> None:
            self.opened, self.document = opened, opened.doc
            emit(self.answerDocumentLoaded, opened.doc)

        self.documents.open_from_library(
            path, opened=ready, failed=lambda message: emit(self.answerDocumentFailed, message)
        )
        return True

    # -- the answer cursor ------------------------------------------------------
    def _clear_answers(self) -> None:
        self.result = None
        self.question = ""
        self.status, self.progress = DONE, (0, 0)
        self.chosen = False
        self._set_shown(Shown((), False))

    def _set_shown(self, shown: Shown, *, keep: bool = False) -> None:
        """Put answers on screen, the best one current; ``keep``: stay on the answer the
        user picked if it is still listed (the list re-ranks while a reading streams in)."""
        old = self.current_answer
        self.shown = shown
        self.current = 0 if shown.answers else -1
        if keep and self.chosen and old is not None:
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
        """Make answer ``index`` current (the user's pick: kept while the list re-ranks)."""
        if 0 <= index < len(self.shown.answers) and index != self.current:
            self.current, self.chosen = index, True
            emit(self.currentAnswerChanged, index)

    @property
    def current_answer(self) -> Answer | None:
        return self.shown.answers[self.current] if self.current >= 0 else None

    # -- shutdown ---------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 0, also: tuple[QThreadPool, ...] = ()) -> None:
        """Quitting: every job is asked to stop and nothing more reaches the window.

        By default nothing is waited for (the window's close never waits on a worker):
        a job stops at its next check. ``timeout_ms``: after the event loop has ended
        (``app.quit_now``), the pools (and ``also``) are given that long in all to stop.
        """
        self._pending_question = None
        self.jobs.cancel_all()
        if timeout_ms <= 0:
            return
        deadline = time.monotonic() + timeout_ms / 1000
        for pool in (*self.pools(), *also):
            pool.waitForDone(max(0, int((deadline - time.monotonic()) * 1000)))

    def pools(self) -> tuple[QThreadPool, ...]:
        """Every pool of the session (tests wait on them; the window never does)."""
        docs = self.documents
        pools = (self.query_pool, docs.pool, docs.answer_pool, self.mupdf_pool)
        return (*pools, *self.models.pools())
