"""The one door: ``answer`` questions over a scope of passages.

* An ``OpenedDocument`` is a document and its passage index, owned together
  by whoever holds it (no registry, no global lock); ``storage.opening``
  makes one from a file, through the cache (``OpenedDocument.from_document``
  from a document in memory).
* ``answer(scope, query, reader)`` is a generator: it *yields* ``Progress``
  snapshots with the answers so far and *returns* the final ``QueryResult``
  (values in ``results``; the reading loop in ``loop``).
  A scope is "passages from one or more documents" (``loop.Scope``): one opened
  document today, a library of them through the same call.

Bounded reading (what is read first, how deep, what the rest would cost) is
one policy, owned by ``loop`` (``read_scope``, ``whole_read_seconds``; its
names are re-exported here for the front ends).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

from desktop_qa.core.documents.document import Document
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.loop import (  # noqa: F401  (the policy's names, re-exported)
    FOCUS_BASE,
    FOCUS_TOKENS,
    MAX_WINDOW_TOKENS,
    Ranked,
    Scope,
    read_scope,
    whole_read_seconds,
)
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.reading.results import Answer, Progress, QueryResult, Read, make_answer
from desktop_qa.core.search import keywords, sentences
from desktop_qa.core.search.index import PassageIndex
from desktop_qa.core.search.passages import Passage, make_passages

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
KEYWORD_MODEL_NAME = "keyword index"
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
    def pending_pages(self) -> tuple[int, ...]:
        """Pages (0-based) still being OCR'd, so not in what can be asked yet."""
        return self.doc.pending_ocr

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


def document_passages(doc: Document) -> list[Passage]:
    """A document's passages: paragraphs packed, running heads and footers left out."""
    return make_passages(doc.text, exclude=doc.furniture)


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
    return (yield from read_scope(scope, query, reader, cancel=cancel, resume=resume))


def final(steps: Generator[object, None, T]) -> T:
    """Run a generator such as ``answer`` to its end and return what it returns."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


# Keyword answers: sentences of the KEYWORD_PASSAGES best bm25 passages, each scored by
# ``keywords.score`` (the question's words it holds, weighted by rarity, how close together
# they stand, the kind of answer asked for) plus PRIOR_WEIGHT times its passage's bm25 over
# the best one's. Tuned on the tuning split of benchmarks/squad_questions.py
# (docs/performance.md §2).
KEYWORD_PASSAGES = 8
PRIOR_WEIGHT = 0.5
# Keyword mode makes no claim about answerability: "no answer" only when no passage
# shares a word with the question. A coverage rule (no answer when the best sentence holds
# less than half the question's words) was measured not to separate answerable from
# unanswerable real questions (docs/performance.md §2, benchmarks/squad_questions.py
# --abstention), so a match is shown as a match.


def keyword_answers(scope: Scope, query: Query) -> QueryResult:
    """The ``top_k`` best sentences of the best bm25 passages, best first.

    What the app can still offer with no model pack: find-in-document by
    keywords (stemmed), labelled ``mode="keyword"``. Each sentence of the
    ``KEYWORD_PASSAGES`` best passages is scored by the question's words it
    holds (rarity-weighted), how close together they stand, whether it holds
    the kind of answer asked for, and its passage's rank (module constants
    above); ``score`` is that sum (higher is better) and ``probability`` the
    share of the question's content words (weighted by rarity) that the
    sentence holds, the same whatever else is listed: not a model probability.
    "No answer" only when no passage shares a word with the question.
    """
    started = time.perf_counter()
    pending = tuple(getattr(scope, "pending_pages", ()))
    hits = scope.search(query.question, max(query.top_k, KEYWORD_PASSAGES))
    # The question's words are weighed only when a passage holds one (a search a word).
    words = keywords.keywords_of(scope, query.question) if hits else keywords.NO_WORDS
    top = max((h.score for h in hits), default=0.0)
    scored: list[tuple[float, int, int, int, int, float]] = []
    for rank, hit in enumerate(hits):
        doc = scope.document(hit.source)
        prior = hit.score / top if top > 0 else 0.0
        for a, b, piece in sentences.read_sentences(
            doc, hit.passage.start, hit.passage.end, words.stems
        ):
            found = keywords.score(words, piece)
            if found is not None:
                scored.append(
                    (found.score + PRIOR_WEIGHT * prior, rank, a, b, hit.source, found.share)
                )
    scored.sort(key=lambda c: (-c[0], c[1], c[2]))
    answers: list[Answer] = []
    shown: set[tuple[int, int, int]] = set()
    for score, _rank, a, b, source, share in scored:
        if (source, a, b) in shown:  # a sentence two passages share (one cut by a page)
            continue
        shown.add((source, a, b))
        answers.append(make_answer(scope.document(source), a, b, score, share))
        if len(answers) == query.top_k:
            break
    return QueryResult(
        question=query.question,
        document=scope.name,
        model_name=KEYWORD_MODEL_NAME,
        trained=False,
        no_answer=not answers,
        null_score=None,
        best_span_score=answers[0].score if answers else None,
        threshold=0.0,  # no coverage rule (above)
        answers=tuple(answers),
        candidates=tuple(answers),
        # The keyword index ranks every passage of the scope.
        read=Read(
            len(hits),
            0,
            scope.total_passages,
            not pending,
            scope.document_count,
            pending,
        ),
        seconds=time.perf_counter() - started,
        mode="keyword",
    )
