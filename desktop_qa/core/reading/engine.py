"""The one door: open documents, then ``answer`` questions over a scope of passages.

* ``open_document`` reads a document through the cache (``cache``) and returns
  an ``OpenedDocument``: the document and its passage index, owned together
  by whoever holds it (no registry, no global lock).
* ``answer(scope, query, reader)`` is a generator: it *yields* ``Progress``
  snapshots with the answers so far and *returns* the final ``QueryResult``
  (values in ``results``; the reading loop in ``qa``).
  A scope is "passages from one or more documents" (``qa.Scope``): one opened
  document today, a library of them through the same call.

Bounded reading: a short window (``qa.FOCUS_TOKENS``) around the best-matching
sentence of each of the ``TOP_PASSAGES`` passages that bm25 ranks best is read
first (the first answer comes fast); if they hold no answer, the same window of
each passage down to ``query.depth`` follows (with the windows holding the rest
of a sentence a window cut), and the result says how much was read. Only
``query.exhaustive`` (or resuming a result with ``query.deeper()``) reads the
whole scope, and no window is ever read twice.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from desktop_qa.core.documents.document import Document, check_input, check_password, load_document
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.reading.loop import (
    ENCODE_CHUNK,
    FOCUS_BASE,
    FOCUS_TOKENS,
    Ranked,
    Reading,
    Scope,
)
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.reading.results import Answer, Progress, QueryResult, Read, make_answer
from desktop_qa.core.search.index import (
    _WORD,
    TOP_PASSAGES,
    PassageIndex,
    best_sentence,
    query_terms,
)
from desktop_qa.core.search.passages import Passage, make_passages
from desktop_qa.core.storage import cache
from desktop_qa.core.system.files import sha256_file

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
KEYWORD_MODEL_NAME = "keyword index"
MAX_WINDOW_TOKENS = 384  # a pack's usual max_seq_length (the estimate's full windows)
T = TypeVar("T")


class OpenedDocument:
    """A document with its passage index: a scope of one document.

    The caller holds it for as long as it asks questions of the document;
    ``close`` (or leaving a ``with`` block) releases the index's connection.
    Queries on one OpenedDocument run one at a time (the GUI's query pool has
    one thread; the CLI asks once).
    """

    def __init__(self, document: Document, index: PassageIndex) -> None:
        self.doc = document
        self.index = index
        self.name = str(document.path) if document.path else document.name

    @classmethod
    def from_document(cls, document: Document) -> OpenedDocument:
        """Index a document in memory (evaluation paragraphs, pasted text, tests)."""
        return cls(document, PassageIndex.build(document.text, document_passages(document)))

    @property
    def unanswerable(self) -> UserError | None:
        """Why no question can be asked of this document (opened for viewing only), or None."""
        return self.doc.unanswerable_error()

    @property
    def total_passages(self) -> int:
        return len(self.index.passages)

    @property
    def document_count(self) -> int:
        return 1

    def search(self, question: str, limit: int) -> list[Ranked]:
        return [
            Ranked(0, self.index.passages[h.passage], h.score)
            for h in self.index.search(question, limit)
        ]

    def passages(self) -> Iterable[Ranked]:
        return (Ranked(0, p) for p in self.index.passages)

    def document(self, source: int = 0) -> Document:
        return self.doc

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> OpenedDocument:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_document(
    path: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    password: str | None = None,
    cache_protected: bool = False,
    ocr: OcrOptions | None = None,
    require_text: bool = True,
) -> OpenedDocument:
    """Open a document read-only, from the cache when its bytes were seen before.

    Raises UserError with a one-line message (missing, damaged, no text, ...).
    ``require_text=False`` is the viewer's open: a page-based document MuPDF can
    render but no text can be read from (a scan OCR found nothing in, OCR off,
    language data missing) opens anyway, its one-line reason in
    ``OpenedDocument.unanswerable`` (``answer`` raises it as the UserError the
    question path has always given); a damaged file opens with the pages that
    could be read.
    A password-protected PDF needs ``password`` (PasswordRequired otherwise),
    also when its text is cached; its text is cached only if
    ``cache_protected`` (the user allowed it: the text is what the password
    protects), and an older entry for it is removed when not. ``ocr``: when
    and how scanned pages are OCR'd (default auto, English); a cache entry made
    with other OCR settings is not reused.
    """
    path = Path(path).expanduser()
    check_input(path)  # path and type checks run even when the cache holds these bytes
    digest = _hash(path)
    # Bytes the cache saw open without a password need no PyMuPDF check (a fast start).
    known = bool(digest) and cache.known_unprotected(digest or "")
    protected = False if known else check_password(path, password)
    ocr = OcrOptions() if ocr is None else ocr
    variant = ocr.signature()
    if digest and protected and not cache_protected:
        _drop_entry(digest)
        digest = None
    if digest:
        if cancel is not None and cancel():
            raise Cancelled()
        hit = cache.load(digest, path, variant=variant)
        if hit is not None:
            doc, index = hit
            if require_text and doc.unanswerable is not None:
                index.close()
                raise UserError(doc.unanswerable, hint=doc.unanswerable_hint)
            if not protected and not known:
                cache.mark_unprotected(digest)
            if progress is not None:
                pages = max(doc.page_count, 1)
                progress(pages, pages)
            return OpenedDocument(doc, index)
    doc = load_document(
        path,
        progress=progress,
        cancel=cancel,
        password=password,
        ocr=ocr.with_key(digest or ""),
        require_text=False,
    )
    passages = document_passages(doc)
    # Store only if the file did not change while it was read (else key and content differ);
    # a text-less document is kept too (its OCR is not tried again), unless reading it
    # again may find text (OCR ran out of time, language data was missing) or it would
    # replace the entry these bytes have for other OCR settings (one that has text).
    index = None
    keep = doc.unanswerable is None or not (
        doc.retry_may_help or (digest and cache.entry_path(digest).exists())
    )
    if digest and keep and _hash(path) == digest:
        doc.content_hash = digest
        index = cache.store(doc, passages, variant=variant, protected=protected)
    if index is None:
        index = PassageIndex.build(doc.text, passages)
    if require_text and doc.unanswerable is not None:
        index.close()
        raise UserError(doc.unanswerable, hint=doc.unanswerable_hint)
    return OpenedDocument(doc, index)


def document_passages(doc: Document) -> list[Passage]:
    """A document's passages: paragraphs packed, running heads and footers left out."""
    return make_passages(doc.text, exclude=doc.furniture)


def _drop_entry(digest: str) -> None:
    try:
        cache.entry_path(digest).unlink(missing_ok=True)
    except OSError:
        pass


def _hash(path: Path) -> str | None:
    try:
        return sha256_file(path) if path.is_file() else None
    except OSError:
        return None  # load_document reports the problem in its own words


def answer(
    scope: Scope,
    query: Query,
    reader: Reader | None,
    *,
    cancel: CancelFn | None = None,
    resume: QueryResult | None = None,
) -> Generator[Progress, None, QueryResult]:
    """Yield progress with the answers so far; return the final result.

    ``reader`` None means no model pack is installed: keyword answers
    (``QueryResult.mode == "keyword"``). ``resume``: a result of the same
    question whose reading goes on from where that result was made (its
    ``state``, a snapshot the result keeps unchanged; ``query.deeper()`` reads
    the whole scope); windows it read are not read again.
    """
    refused = getattr(scope, "unanswerable", None)
    if refused is not None:  # a document opened for viewing only: the question's one line
        raise refused
    if reader is None:
        return keyword_answers(scope, query)
    reading = Reading(scope, query, reader, resume=resume, cancel=cancel)
    total = scope.total_passages
    if total <= TOP_PASSAGES:
        # A short scope is read whole at once.
        yield from reading.phase(reading.stream(scope.passages()), total)
        return reading.result()
    if not query.exhaustive or resume is None:
        ranked = scope.search(query.question, max(query.depth, TOP_PASSAGES))
        top, deeper = ranked[:TOP_PASSAGES], ranked[TOP_PASSAGES : query.depth]
        # The short window around each passage's best-matching sentence first.
        near: list = []  # windows holding the rest of a best sentence a window cut
        first, _ = reading.best_windows(top, FOCUS_TOKENS, near)
        yield from reading.phase(first, len(first))
        result = reading.result()
        if not query.exhaustive and not result.no_answer:
            return result
        if not query.exhaustive:
            # No answer where the question's words are best: the same window of the
            # passages further down the ranking, never the whole scope unasked.
            # One phase, so its progress counts on ("passage 5 of 14") across chunks.
            more = _deeper_windows(reading, near, deeper)
            yield from reading.phase(more, len(near) + len(deeper))
            return reading.result()
        # The whole scope asked: the rest of the ranking next, in full windows.
        yield from reading.phase(reading.stream(deeper), len(deeper))
    # The whole scope, best-matching passages first (already read ones are skipped).
    # Counted out of the passages not yet read in full (a short window reads a part).
    full = (1 << FOCUS_BASE) - 1
    left = total - sum(1 for mask in reading.state.read.values() if mask & full)
    yield from reading.phase(reading.stream(scope.passages()), left)
    return reading.result(whole=True)


def _deeper_windows(reading: Reading, near: list, deeper: Sequence[Ranked]) -> Iterator:
    """The windows cut from the best passages' best sentences, then the short window of
    each deeper passage (and what it cut), tokenized a chunk at a time as reading goes."""
    yield from near
    for chunk in _chunks(deeper, ENCODE_CHUNK):
        more: list = []
        found, _ = reading.best_windows(chunk, FOCUS_TOKENS, more)
        yield from found
        yield from more


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def final(steps: Generator[object, None, T]) -> T:
    """Run a generator such as ``answer`` to its end and return what it returns."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def whole_read_seconds(result: QueryResult, passages: int | None = None) -> float | None:
    """About how long reading the rest of the scope takes, from this reading's own pace.

    ``passages``: read only down to that many passages of the ranking (the
    library's deeper read), not the whole scope: the same short windows the
    bounded reading read (with those holding the rest of a sentence one cut),
    at this reading's pace per passage seen, for each passage not seen yet
    (counted in full windows it came out up to 2.3x long on the book).
    Else the pace is seconds per model token so far; the passages left are
    those no full window of which was read (a bounded reading reads short
    windows, which the whole read does not count as read), each at the read
    passages' mean length, at the tokens per character the windows showed,
    read in full windows with the question in each. None when there is nothing
    left to read or nothing to measure the pace by.
    """
    read, state = result.read, result.state
    if read.whole_document or result.mode != "reader" or not read.windows or not read.passages:
        return None
    if result.seconds <= 0:
        return None
    if passages is not None:
        seen = len(state.read) if state is not None else read.passages
        further = min(passages, read.total_passages) - seen
        return further * result.seconds / seen if further > 0 else None
    full = (1 << FOCUS_BASE) - 1
    done = sum(1 for mask in state.read.values() if mask & full) if state is not None else 0
    left = max(0, read.total_passages - (done if state is not None else read.passages))
    if left <= 0:
        return None
    if state is None or not state.tokens or not state.context_chars or not state.passage_chars:
        return left * result.seconds / read.passages
    per_token = result.seconds / state.tokens
    question = (state.tokens - state.context_tokens) / read.windows  # per window
    per_char = state.context_tokens / state.context_chars
    passage_tokens = per_char * state.passage_chars / read.passages
    room = max(2.0, (state.window_tokens or MAX_WINDOW_TOKENS) - question)
    step = max(1.0, room - min(state.stride, room - 1))  # new tokens each next window brings
    windows = 1.0 + max(0.0, passage_tokens - room) / step
    # Each window feeds the question again, and what it shares with the one before.
    fed = passage_tokens + windows * question + (windows - 1.0) * (room - step)
    return left * fed * per_token


# A keyword answer's sentence must hold more than half of the question's content words,
# and at least KEYWORD_COVERAGE of their weight by rarity.
KEYWORD_COVERAGE = 0.5
# Up to this many passages are counted per question word to weigh it (rarer weighs more).
RARITY_SAMPLE = 200


def _word_key(term: str) -> str:
    """A prefix that stands for a word's forms: "launch" ~ "launched", "sign" ~ "signed"."""
    if len(term) > 5:
        return term[:5]
    return term[:-1] if len(term) > 3 and term.endswith("s") else term


def keyword_weights(scope: Scope, question: str) -> dict[str, float]:
    """The question's content words (as prefixes), each weighted 1-2 by rarity in the scope.

    A word in ``df`` of ``N`` passages weighs ``1 + log(1 + N/df) / log(1 + N)``:
    a word in every passage 1, a word in one passage about 2 (``df`` is counted
    up to ``RARITY_SAMPLE``; a word the scope never holds weighs 1, since it
    cannot tell passages apart). A one-passage scope has nothing to compare:
    every word weighs the same (2), held or not, without a search.
    """
    total = max(scope.total_passages, 1)
    weights: dict[str, float] = {}
    for term in query_terms(question):
        key = _word_key(term)
        if key in weights:
            continue
        df = len(scope.search(term, RARITY_SAMPLE)) if total > 1 else 1
        weights[key] = 1.0 + (math.log(1 + total / df) / math.log(1 + total) if df else 0.0)
    return weights


def keyword_coverage(weights: dict[str, float], text: str) -> tuple[float, float]:
    """(share of the weight, share of the words) of the question that ``text`` holds."""
    if not weights:
        return 0.0, 0.0
    words = {w.lower() for w in _WORD.findall(text)}
    held = [k for k in weights if any(w.startswith(k) for w in words)]
    return sum(weights[k] for k in held) / sum(weights.values()), len(held) / len(weights)


def keyword_answers(scope: Scope, query: Query) -> QueryResult:
    """The best-matching sentence of each of the ``top_k`` best bm25 passages.

    What the app can still offer with no model pack: find-in-document by
    meaning-ish keywords (stemmed), labelled ``mode="keyword"``. ``score`` is
    the passage's bm25 (higher is better) and ``probability`` the share of the
    question's content words (weighted by rarity) that its passage holds, the
    same whatever else is listed: not a model probability. When no listed
    passage holds ``KEYWORD_COVERAGE`` of them, the result is "no answer" (the
    matches stay as candidates, the best one the greyed best guess).
    """
    started = time.perf_counter()
    hits = scope.search(query.question, query.top_k)
    weights = keyword_weights(scope, query.question) if hits else {}
    answers: list[Answer] = []
    shares: list[bool] = []
    for hit in hits:
        doc = scope.document(hit.source)
        start, end = best_sentence(doc.text, hit.passage.start, hit.passage.end, query.question)
        share, count = keyword_coverage(weights, doc.text[start:end])
        answers.append(make_answer(doc, start, end, hit.score, share))
        shares.append(share >= KEYWORD_COVERAGE and count > 0.5)
    found = any(shares)
    return QueryResult(
        question=query.question,
        document=scope.name,
        model_name=KEYWORD_MODEL_NAME,
        trained=False,
        no_answer=not found,
        null_score=None,
        best_span_score=answers[0].score if answers else None,
        threshold=KEYWORD_COVERAGE,
        answers=tuple(answers) if found else (),
        candidates=tuple(answers),
        # The keyword index ranks every passage of the scope.
        read=Read(len(hits), 0, scope.total_passages, True, scope.document_count),
        seconds=time.perf_counter() - started,
        mode="keyword",
    )
