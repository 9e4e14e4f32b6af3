"""The reading loop: how windows of a scope's passages become a ``QueryResult``.

The public way to ask is ``engine.answer``; the values it yields and returns
are in ``results``. Here is the reading machinery: windows are
tokenized a few passages at a time and read batch by batch, spans are
collected in bounded memory, and a reading can be resumed from any result's
``ReadingState`` ("read the whole document") without reading any window twice.

This module owns the bounded-reading policy, whole (``read_scope``): the short
window (``FOCUS_TOKENS``) around the best-matching sentence of each of the
``TOP_PASSAGES`` best bm25 passages first; if they hold no answer, the same
window of the passages down to ``query.depth``; the whole scope only when asked.
The read mask numbers short windows apart (``FOCUS_BASE``), and
``whole_read_seconds`` estimates what the rest costs from the same masks.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

import numpy as np

from desktop_qa.core.documents.document import Document
from desktop_qa.core.errors import Cancelled
from desktop_qa.core.reading import spans
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader, Window
from desktop_qa.core.reading.results import Progress, QueryResult, Read, ReadingState, make_answer
from desktop_qa.core.search.index import TOP_PASSAGES
from desktop_qa.core.search.keywords import query_stems, word_stems
from desktop_qa.core.search.passages import Passage
from desktop_qa.core.search.sentences import best_sentence

SPANS_PER_WINDOW = 20
RESULT_INTERVAL = 0.25
# Distinct spans kept while reading; lower-scoring ones are folded into one
# log-sum-exp term, so probabilities stay right and memory stays flat however
# long the document (a 100 MB text has millions of candidate spans).
SPAN_CAP = 4096
# Passages tokenized at a time when streaming a long reading.
ENCODE_CHUNK = 32
# Bounded reading reads each ranked passage first in one short window around its
# best-matching sentence (the evidence), not whole: a window's cost grows with its
# tokens, and with a WordPiece vocabulary a book's passage is 150-300 tokens.
# Measured in benchmarks/bounded.py (docs/performance.md, "Bounded reading").
FOCUS_TOKENS = 192
# Short windows are numbered apart from a passage's full windows in the read mask,
# so the whole read still reads every full window once.
FOCUS_BASE = 64
MAX_WINDOW_TOKENS = 384  # a pack's usual max_seq_length (the estimate's full windows)
T = TypeVar("T")


# -- spans as a user sees them -----------------------------------------------------------------
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
    """What one question has read so far: owned by one ``Reading``, never shared.

    ``read`` maps (source, passage index) to a bit mask of the passage's windows
    read: a few bytes a passage, so a 100 MB document's reading stays small.
    Results get an immutable copy (``snapshot``); a resumed reading starts
    from a fresh copy of one (``restore``).
    """

    question: str
    collector: _Collector = field(default_factory=_Collector)
    read: dict[tuple[int, int], int] = field(default_factory=dict)
    windows: int = 0
    tokens: int = 0
    context_tokens: int = 0
    context_chars: int = 0
    passage_chars: int = 0
    window_tokens: int = 0
    stride: int = 0

    def snapshot(self) -> ReadingState:
        c = self.collector
        return ReadingState(
            question=self.question,
            read=MappingProxyType(dict(self.read)),
            windows=self.windows,
            null=c.null,
            spans=MappingProxyType(dict(c.spans)),
            spilled=c.spilled,
            tokens=self.tokens,
            context_tokens=self.context_tokens,
            context_chars=self.context_chars,
            passage_chars=self.passage_chars,
            window_tokens=self.window_tokens,
            stride=self.stride,
        )

    @classmethod
    def restore(cls, state: ReadingState) -> _State:
        collector = _Collector()
        collector.null, collector.spans = state.null, dict(state.spans)
        collector.spilled = state.spilled
        out = cls(state.question, collector, dict(state.read), state.windows)
        out.tokens, out.context_tokens = state.tokens, state.context_tokens
        out.context_chars, out.passage_chars = state.context_chars, state.passage_chars
        return out

    def seen(self, item: _Item) -> bool:
        return bool(self.read.get(item.passage_key, 0) >> item.number & 1)

    def mark(self, item: _Item, window: Window) -> None:
        key = item.passage_key
        if key not in self.read:
            self.passage_chars += item.passage.end - item.passage.start
        self.read[key] = self.read.get(key, 0) | 1 << item.number
        self.windows += 1
        self.tokens += len(window.ids)
        context = window.offsets[window.context_mask]
        if len(context):
            self.context_tokens += len(context)
            self.context_chars += int(context[-1, 1] - context[0, 0])


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
        if state is not None and state.question == query.question:
            self.state = _State.restore(state)
        else:
            self.state = _State(query.question)
        # The pack's full window and overlap: what reading the rest in full costs.
        self.state.window_tokens = reader.pack.max_seq_length
        self.state.stride = reader.pack.doc_stride
        self.started = time.perf_counter()
        self.stems = query_stems(query.question)

    # -- windows --------------------------------------------------------------------------
    def _encode(self, passages: Sequence[Ranked], max_length: int | None = None) -> list[_Item]:
        items = []
        for r in passages:
            text = self.scope.document(r.source).text
            items.append((r, text[r.passage.start : r.passage.end]))
        encoded = self.reader.encode(
            self.query.question,
            [(i, r.passage.start, t) for i, (r, t) in enumerate(items)],
            max_length=max_length,
        )
        if max_length is not None and max_length >= self.reader.pack.max_seq_length:
            max_length = None  # the pack's windows are no longer: they are the full ones
        counts: dict[int, int] = {}
        for i, _, _ in encoded:
            counts[i] = counts.get(i, 0) + 1
        out: list[_Item] = []
        number = 0
        previous = -1
        for i, offset, encoding in encoded:
            number = number + 1 if i == previous else 0
            previous = i
            r = items[i][0]
            # A passage that fits one short window has that window as its full one.
            base = FOCUS_BASE if max_length is not None and counts[i] > 1 else 0
            out.append(_Item(r.source, r.passage, base + number, offset, encoding))
        return out

    def _context(self, item: _Item) -> tuple[int, int]:
        """Document character range of the passage text a window holds."""
        pairs = zip(item.encoding.offsets, item.encoding.sequence_ids, strict=True)
        offsets = [o for o, s in pairs if s == 1 and o[1] > o[0]]
        if not offsets:
            return (item.offset, item.offset)
        return offsets[0][0] + item.offset, offsets[-1][1] + item.offset

    def best_windows(
        self,
        ranked: Sequence[Ranked],
        max_length: int | None = None,
        near: list[_Item] | None = None,
    ) -> tuple[list[_Item], list[_Item]]:
        """(the best-matching window of each passage, every other window), in rank order.

        A passage longer than one window is first read only around its sentence
        that shares most words with the question (the window holding most of
        it, then most question words); the rest is read if the reading goes deeper.
        ``max_length``: windows of that many tokens at most (``FOCUS_TOKENS``).
        ``near`` (if given) receives the other windows holding part of that sentence
        when the best one cuts it: a bounded no-answer reads them too.
        """
        first: list[_Item] = []
        rest: list[_Item] = []
        by_passage: dict[tuple[int, int], list[_Item]] = {}
        for item in self._encode(ranked, max_length):
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
                if near is not None and fit(best)[0] < b - a:
                    near.extend(w for w in windows if w is not best and fit(w)[0] > 0)
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
        """Read the windows not read yet, batch by batch; yield progress and answers so far.

        Progress counts passages (each may have several windows), out of ``estimate``
        passages, so a reading is counted out of what it covers and the count and a bar
        move together ("passage 40 of 8544", never "8544 of 8544" from the start).
        """
        batch_size = self.reader.batch_size
        max_len = self.reader.pack.max_answer_length
        if isinstance(items, list):  # the windows are known: count their passages
            estimate = len({i.passage_key for i in items if not self.state.seen(i)})
        touched: set[tuple[int, int]] = set()
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
                self.state.mark(item, window)
            first_batch = not touched
            touched.update(i.passage_key for i in batch)
            done = len(touched)
            estimate = max(estimate, done)
            now = time.perf_counter()
            if first_batch or now - last_result >= RESULT_INTERVAL:
                last_result = now
                yield Progress(done, estimate, self.result())
            else:
                yield Progress(done, estimate, None)

    def complete(self) -> bool:
        """Every passage of the scope has had all its windows read."""
        total = self.scope.total_passages
        full = (1 << FOCUS_BASE) - 1  # a short window alone does not read a passage in full
        return total > 0 and sum(1 for m in self.state.read.values() if m & full) >= total

    def result(self, *, whole: bool | None = None) -> QueryResult:
        """The answers of what was read so far."""
        collector = self.state.collector
        keep = collector.best(self.query.top_k)
        population = collector.population()
        whole = self.complete() if whole is None else whole
        probs = spans.softmax_of(np.array([s for _, s in keep]), population)
        candidates = tuple(
            make_answer(self.scope.document(src), a, b, score, float(probs[i]))
            for i, ((src, a, b), score) in enumerate(keep)
        )
        best = candidates[0].score if candidates else None
        null = collector.null
        no_answer = best is None or (null is not None and best - null <= self.threshold)
        pending = tuple(getattr(self.scope, "pending_pages", ()))
        read = Read(
            passages=len(self.state.read),
            windows=self.state.windows,
            total_passages=self.scope.total_passages,
            whole_document=whole and not pending,
            documents=self.scope.document_count,
            pending_pages=pending,
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
            state=self.state.snapshot(),
        )


# -- the bounded-reading policy ----------------------------------------------------------------
def read_scope(
    scope: Scope,
    query: Query,
    reader: Reader,
    *,
    cancel: Callable[[], bool] | None = None,
    resume: QueryResult | None = None,
) -> Iterator[Progress]:
    """Read ``scope`` for ``query`` as bounded reading says; yields progress, returns the result.

    A short scope is read whole at once; else the focus windows of the best
    passages first, the deeper ones if they hold no answer, and the whole scope
    only with ``query.exhaustive`` (or resuming a result with ``query.deeper()``).
    """
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
