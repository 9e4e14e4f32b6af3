"""What a question produces (``Answer``, ``QueryResult``, ``Read``) and how windows become it.

The public way to ask is ``engine.answer``; this module holds the values it
yields and returns, and the private reading machinery: windows are tokenized
a few passages at a time and read batch by batch, spans are collected in
bounded memory, and a reading can be resumed ("read the whole document")
without reading any window twice.
"""

from __future__ import annotations

import copy
import heapq
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from desktop_qa.core import spans
from desktop_qa.core.document import Box, Document
from desktop_qa.core.errors import Cancelled
from desktop_qa.core.index import best_sentence, query_stems, word_stems
from desktop_qa.core.passages import Passage
from desktop_qa.core.query import Query
from desktop_qa.core.reader import Reader, Window

SPANS_PER_WINDOW = 20
CONTEXT_CHARS = 90
RESULT_INTERVAL = 0.25
# Distinct spans kept while reading; lower-scoring ones are folded into one
# log-sum-exp term, so probabilities stay right and memory stays flat however
# long the document (a 100 MB text has millions of candidate spans).
SPAN_CAP = 4096
# Passages tokenized at a time when streaming a long reading.
ENCODE_CHUNK = 32


@dataclass(frozen=True)
class Answer:
    text: str
    score: float  # start + end logit (bm25 in keyword mode)
    probability: float  # softmax over all candidate spans and the null answer
    page: int | None  # 1-based; None for text files
    start: int  # character offsets in Document.text
    end: int
    boxes: tuple[Box, ...]
    context: str  # snippet around the answer, whitespace collapsed
    context_start: int  # the answer's offsets inside ``context``
    context_end: int
    document: str = ""  # path of the document the answer is in
    ocr: bool = False  # read from an OCR'd page: the text may hold recognition errors

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(self.score, 4),
            "probability": round(self.probability, 6),
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "boxes": [[round(v, 2) for v in b.rect] for b in self.boxes],
            "context": self.context,
            "document": self.document,
            "ocr": self.ocr,
        }


@dataclass(frozen=True)
class Read:
    """How much of the scope a result rests on: what "no answer" may claim."""

    passages: int  # passages of which windows were read
    windows: int
    total_passages: int
    whole_document: bool  # every passage of the scope was read
    documents: int = 1  # documents in the scope

    def to_json(self) -> dict[str, Any]:
        return {
            "passages": self.passages,
            "windows": self.windows,
            "total_passages": self.total_passages,
            "whole_document": self.whole_document,
            "documents": self.documents,
        }


@dataclass(frozen=True)
class QueryResult:
    question: str
    document: str
    model_name: str
    trained: bool
    no_answer: bool
    null_score: float | None
    best_span_score: float | None
    threshold: float
    answers: tuple[Answer, ...]  # ranked; empty when no_answer
    candidates: tuple[Answer, ...]  # ranked, whatever the decision
    read: Read
    seconds: float = 0.0
    # "reader": spans the model picked; "keyword": best-matching sentences from the
    # keyword index (no model pack installed), scores are bm25, not logits.
    mode: str = "reader"
    # The reading behind this result, so "read the whole document" goes on from it.
    state: Any = field(default=None, compare=False, repr=False)

    @property
    def whole_document(self) -> bool:
        return self.read.whole_document

    @property
    def best_guess(self) -> Answer | None:
        """The top span even when the model abstains (shown greyed in the GUI)."""
        return self.candidates[0] if self.candidates else None

    @property
    def summary(self) -> str:
        """The one line saying what was found, worded by what was read."""
        return no_answer_text(self.read) if self.no_answer else f"{len(self.answers)} answers"

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "question": self.question,
            "model": {"name": self.model_name, "trained": self.trained},
            "no_answer": self.no_answer,
            "null_score": None if self.null_score is None else round(self.null_score, 4),
            "answers": [a.to_json() for a in self.answers],
            "best_guess": self.best_guess.to_json() if self.best_guess else None,
            "threshold": self.threshold,
            "seconds": round(self.seconds, 3),
            "mode": self.mode,
            "whole_document": self.read.whole_document,
            "read": self.read.to_json(),
            "message": no_answer_text(self.read) if self.no_answer else None,
        }


def no_answer_text(read: Read) -> str:
    """ "No answer" worded by what was read: never "not in this document" unless it all was."""
    where = "document" if read.documents <= 1 else f"{read.documents} documents"
    if read.whole_document:
        return f"No answer in this {where} (read in full)."
    if read.passages == 0:
        return (
            f"No passage shares a word with your question (of {read.total_passages}); "
            "reword it, or read the whole document."
        )
    return (
        f"No answer in the {read.passages} passages that best match your question "
        f"(of {read.total_passages})."
    )


@dataclass(frozen=True)
class Progress:
    done: int  # windows read in this reading
    total: int  # windows it will read (an estimate while long readings stream)
    # Answers so far: after the first batch, then at most every RESULT_INTERVAL
    # seconds (building it costs more than a batch of a small model). None in between.
    result: QueryResult | None


# -- answers ---------------------------------------------------------------------------------
def _collapse(text: str) -> str:
    return " ".join(text.split())


def make_context(
    text: str, start: int, end: int, width: int = CONTEXT_CHARS
) -> tuple[str, int, int]:
    """Snippet around text[start:end], cut at word boundaries; returns (snippet, a, b)."""
    left = max(0, start - width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    right = min(len(text), end + width)
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else right
    before = _collapse(text[left:start])
    answer = _collapse(text[start:end])
    after = _collapse(text[end:right])
    prefix = (
        ("… " if left > 0 else "") + before + (" " if before and text[start - 1].isspace() else "")
    )
    suffix = (" " if after and end < len(text) and text[end].isspace() else "") + after
    suffix += " …" if right < len(text) else ""
    return prefix + answer + suffix, len(prefix), len(prefix) + len(answer)


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a character span so it neither starts nor ends inside a word.

    WordPiece can put a span boundary on a "##" piece ("aul" of "Paul"); a
    user should see whole words, and both variants then merge into one answer.
    """
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


def make_answer(doc: Document, start: int, end: int, score: float, probability: float) -> Answer:
    """An Answer for ``doc.text[start:end]``: page, boxes and context filled in."""
    page = doc.page_of(start, end)
    context, a, b = make_context(doc.text, start, end)
    return Answer(
        text=doc.text[start:end],
        score=score,
        probability=probability,
        page=None if page is None else page + 1,
        start=start,
        end=end,
        boxes=tuple(doc.boxes_for(start, end)),
        context=context,
        context_start=a,
        context_end=b,
        document=str(doc.path) if doc.path else doc.name,
        ocr=doc.is_ocr(start, end),
    )


# -- what the reading needs of a scope --------------------------------------------------------
@dataclass(frozen=True)
class Ranked:
    """A passage of a scope: ``source`` names its document within the scope."""

    source: int
    passage: Passage
    score: float = 0.0  # bm25 (higher is better); 0 outside a ranking


class Scope(Protocol):
    """Passages from one or more documents, with a keyword ranking over all of them."""

    name: str  # what the result's "document" says

    @property
    def total_passages(self) -> int: ...

    @property
    def document_count(self) -> int: ...

    def search(self, question: str, limit: int) -> list[Ranked]:
        """The best ``limit`` passages sharing a content word with the question."""
        ...

    def passages(self) -> Iterable[Ranked]:
        """Every passage of the scope, in reading order."""
        ...

    def document(self, source: int) -> Document:
        """The document a passage came from (text for windows, geometry for answers)."""
        ...


# -- collecting spans ------------------------------------------------------------------------
class _Collector:
    """Scope null score and de-duplicated spans, in bounded memory."""

    def __init__(self) -> None:
        self.null: float | None = None
        self.spans: dict[tuple[int, int, int], float] = {}
        self.spilled = -math.inf  # log-sum-exp of the spans dropped to keep memory flat

    def add(
        self,
        source: int,
        text: str,
        window: Window,
        start_logits: np.ndarray,
        end_logits: np.ndarray,
        max_len: int,
    ) -> None:
        n = len(window.ids)
        start_logits, end_logits = start_logits[:n], end_logits[:n]
        null = spans.null_score(start_logits, end_logits)
        # The scope's null score is the lowest over its windows (SQuAD 2.0 convention).
        self.null = null if self.null is None else min(self.null, null)
        for s, e, score in spans.top_spans(
            start_logits, end_logits, window.context_mask, max_len, SPANS_PER_WINDOW
        ):
            a, b = snap_to_words(text, int(window.offsets[s, 0]), int(window.offsets[e, 1]))
            if b <= a:
                continue
            key = (source, a, b)
            # The same span seen in two overlapping windows counts once, at its best.
            if score > self.spans.get(key, -math.inf):
                self.spans[key] = score
        if len(self.spans) > 2 * SPAN_CAP:
            self._spill()

    def _spill(self) -> None:
        ranked = sorted(self.spans.items(), key=lambda kv: (-kv[1], kv[0]))
        dropped = np.fromiter((s for _, s in ranked[SPAN_CAP:]), np.float64)
        self.spilled = float(np.logaddexp(self.spilled, _logsumexp(dropped)))
        self.spans = dict(ranked[:SPAN_CAP])

    def best(self, k: int) -> list[tuple[tuple[int, int, int], float]]:
        return heapq.nsmallest(k, self.spans.items(), key=lambda kv: (-kv[1], kv[0]))

    def population(self) -> np.ndarray:
        """Every candidate's score plus the null's (the spilled mass as one term)."""
        scores = np.fromiter(self.spans.values(), np.float64, len(self.spans))
        null = self.null if self.null is not None else -math.inf
        return np.concatenate(([null, self.spilled], scores))


def _logsumexp(values: np.ndarray) -> float:
    if not len(values):
        return -math.inf
    top = float(values.max())
    return top + math.log(float(np.exp(values - top).sum()))


# -- the reading -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    source: int
    passage: Passage
    number: int  # window number within the passage
    offset: int
    encoding: Any  # tokenizers.Encoding

    @property
    def passage_key(self) -> tuple[int, int]:
        return (self.source, self.passage.index)


@dataclass
class _State:
    """What one question has read so far; copied when a result is resumed.

    ``read`` maps (source, passage index) to a bit mask of the passage's windows
    read: a few bytes a passage, so a 100 MB document's reading stays small.
    """

    question: str
    collector: _Collector = field(default_factory=_Collector)
    read: dict[tuple[int, int], int] = field(default_factory=dict)
    windows: int = 0

    def seen(self, item: _Item) -> bool:
        return bool(self.read.get(item.passage_key, 0) >> item.number & 1)

    def mark(self, item: _Item) -> None:
        key = item.passage_key
        self.read[key] = self.read.get(key, 0) | 1 << item.number
        self.windows += 1


class Reading:
    """One question read over a scope, phase by phase (private to ``engine``).

    ``phase`` reads windows and yields ``Progress``; ``result`` builds the
    immutable ``QueryResult`` of what was read so far.
    """

    def __init__(
        self,
        scope: Scope,
        query: Query,
        reader: Reader,
        *,
        resume: QueryResult | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> None:
        self.scope = scope
        self.query = query
        self.reader = reader
        self.cancel = cancel
        self.threshold = reader.pack.null_threshold if query.threshold is None else query.threshold
        state = resume.state if resume is not None else None
        if isinstance(state, _State) and state.question == query.question:
            self.state = copy.deepcopy(state)
        else:
            self.state = _State(query.question)
        self.started = time.perf_counter()
        self.stems = query_stems(query.question)

    # -- windows --------------------------------------------------------------------------
    def _encode(self, passages: Sequence[Ranked]) -> list[_Item]:
        items = []
        for r in passages:
            text = self.scope.document(r.source).text
            items.append((r, text[r.passage.start : r.passage.end]))
        encoded = self.reader.encode(
            self.query.question, [(i, r.passage.start, t) for i, (r, t) in enumerate(items)]
        )
        out: list[_Item] = []
        number = 0
        previous = -1
        for i, offset, encoding in encoded:
            number = number + 1 if i == previous else 0
            previous = i
            r = items[i][0]
            out.append(_Item(r.source, r.passage, number, offset, encoding))
        return out

    def _context(self, item: _Item) -> tuple[int, int]:
        """Document character range of the passage text a window holds."""
        pairs = zip(item.encoding.offsets, item.encoding.type_ids, strict=True)
        offsets = [o for o, t in pairs if t == 1 and o[1] > o[0]]
        if not offsets:
            return (item.offset, item.offset)
        return offsets[0][0] + item.offset, offsets[-1][1] + item.offset

    def best_windows(self, ranked: Sequence[Ranked]) -> tuple[list[_Item], list[_Item]]:
        """(the best-matching window of each passage, every other window), in rank order.

        A passage longer than one window is first read only around its sentence
        that shares most words with the question (the window holding most of
        it, then most question words); the rest is read if the reading goes deeper.
        """
        first: list[_Item] = []
        rest: list[_Item] = []
        by_passage: dict[tuple[int, int], list[_Item]] = {}
        for item in self._encode(ranked):
            by_passage.setdefault(item.passage_key, []).append(item)
        for r in ranked:
            windows = by_passage.get((r.source, r.passage.index), [])
            if not windows:
                continue
            best = windows[0]
            if len(windows) > 1:
                text = self.scope.document(r.source).text
                a, b = best_sentence(text, r.passage.start, r.passage.end, self.query.question)

                def fit(w: _Item, text: str = text, a: int = a, b: int = b) -> tuple[int, int]:
                    lo, hi = self._context(w)
                    held = max(0, min(b, hi) - max(a, lo))
                    return held, len(self.stems & word_stems(text[lo:hi]))

                best = max(windows, key=lambda w: (*fit(w), -w.number))
            first.append(best)
            rest.extend(w for w in windows if w is not best)
        return first, rest

    def stream(self, passages: Iterable[Ranked]) -> Iterator[_Item]:
        """Every window of ``passages``, tokenized a chunk at a time (bounded memory)."""
        chunk: list[Ranked] = []
        for r in passages:
            chunk.append(r)
            if len(chunk) >= ENCODE_CHUNK:
                yield from self._encode(chunk)
                chunk = []
        if chunk:
            yield from self._encode(chunk)

    # -- reading --------------------------------------------------------------------------
    def phase(self, items: Iterable[_Item], estimate: int) -> Iterator[Progress]:
        """Read the windows not read yet, batch by batch; yield progress and answers so far."""
        batch_size = self.reader.batch_size
        max_len = self.reader.pack.max_answer_length
        done = 0
        last_result = 0.0
        batch: list[_Item] = []
        pending = iter(items)
        exhausted = False
        while not exhausted:
            batch = []
            # The reading's very first window goes alone: the first answer shows
            # after one window instead of a whole batch (the best-matching one).
            size = 1 if self.state.windows == 0 else batch_size
            for item in pending:
                if not self.state.seen(item):
                    batch.append(item)
                    if len(batch) >= size:
                        break
            else:
                exhausted = True
            if not batch:
                break
            if self.cancel is not None and self.cancel():
                raise Cancelled()
            windows = [self.reader.window(i.passage.index, i.offset, i.encoding) for i in batch]
            start_logits, end_logits = self.reader.run(windows)
            for row, (item, window) in enumerate(zip(batch, windows, strict=True)):
                text = self.scope.document(item.source).text
                self.state.collector.add(
                    item.source, text, window, start_logits[row], end_logits[row], max_len
                )
                self.state.mark(item)
            done += len(batch)
            estimate = max(estimate, done)
            now = time.perf_counter()
            if done == len(batch) or now - last_result >= RESULT_INTERVAL:
                last_result = now
                yield Progress(done, estimate, self.result())
            else:
                yield Progress(done, estimate, None)

    def complete(self) -> bool:
        """Every passage of the scope has had all its windows read."""
        total = self.scope.total_passages
        return total > 0 and len(self.state.read) >= total

    def result(self, *, whole: bool | None = None) -> QueryResult:
        """The answers of what was read so far."""
        collector = self.state.collector
        keep = collector.best(self.query.top_k)
        probs = spans.softmax_of(np.array([s for _, s in keep]), collector.population())
        candidates = tuple(
            make_answer(self.scope.document(src), a, b, score, float(probs[i]))
            for i, ((src, a, b), score) in enumerate(keep)
        )
        best = candidates[0].score if candidates else None
        null = collector.null
        no_answer = best is None or (null is not None and best - null <= self.threshold)
        read = Read(
            passages=len(self.state.read),
            windows=self.state.windows,
            total_passages=self.scope.total_passages,
            whole_document=self.complete() if whole is None else whole,
            documents=self.scope.document_count,
        )
        pack = self.reader.pack
        return QueryResult(
            question=self.query.question,
            document=self.scope.name,
            model_name=pack.name,
            trained=pack.trained,
            no_answer=no_answer,
            null_score=null,
            best_span_score=best,
            threshold=self.threshold,
            answers=() if no_answer else candidates,
            candidates=candidates,
            read=read,
            seconds=time.perf_counter() - self.started,
            state=self.state,
        )
