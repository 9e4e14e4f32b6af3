"""Question answering over a whole document: windows -> logits -> ranked answers.

``ask_iter`` is a plain generator that yields progress after every batch (with
the answers so far), so the GUI can show progress, cancel between batches and
display the first answer early; ``ask`` runs it to the end.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_qa.core import spans
from desktop_qa.core.document import Box, Document
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.passages import Passage, make_passages
from desktop_qa.core.reader import Reader, Window

SPANS_PER_WINDOW = 20
CONTEXT_CHARS = 90
RESULT_INTERVAL = 0.25


@dataclass(frozen=True)
class Answer:
    text: str
    score: float  # start + end logit
    probability: float  # softmax over all candidate spans and the null answer
    page: int | None  # 1-based; None for text files
    start: int  # character offsets in Document.text
    end: int
    boxes: tuple[Box, ...]
    context: str  # snippet around the answer, whitespace collapsed
    context_start: int  # the answer's offsets inside ``context``
    context_end: int
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
            "ocr": self.ocr,
        }


@dataclass
class QueryResult:
    question: str
    document: str
    model_name: str
    trained: bool
    no_answer: bool
    null_score: float | None
    best_span_score: float | None
    threshold: float
    answers: list[Answer]  # ranked; empty when no_answer
    candidates: list[Answer] = field(default_factory=list)  # ranked, whatever the decision
    seconds: float = 0.0
    windows_read: int = 0
    windows_total: int = 0
    # "reader": spans the model picked; "keyword": best-matching sentences from the
    # keyword index (no model pack installed), scores are bm25, not logits.
    mode: str = "reader"
    # False when only the keyword-ranked passages were read ("search the whole
    # document" reads the rest).
    whole_document: bool = True

    @property
    def best_guess(self) -> Answer | None:
        """The top span even when the model abstains (shown greyed in the GUI)."""
        return self.candidates[0] if self.candidates else None

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
            "whole_document": self.whole_document,
        }


@dataclass(frozen=True)
class Progress:
    done: int  # windows read
    total: int
    # Answers so far: after the first batch, then at most every RESULT_INTERVAL
    # seconds, and always on the last item (building it costs more than a batch
    # of a small model). None in between.
    result: QueryResult | None


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
        ocr=doc.is_ocr(start, end),
    )


class _Collector:
    """Accumulates window results: document null score and de-duplicated spans."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.null: float | None = None
        self.spans: dict[tuple[int, int], float] = {}

    def add(
        self, window: Window, start_logits: np.ndarray, end_logits: np.ndarray, max_len: int
    ) -> None:
        n = len(window.ids)
        start_logits, end_logits = start_logits[:n], end_logits[:n]
        null = spans.null_score(start_logits, end_logits)
        # The document's null score is the lowest over its windows (SQuAD 2.0 convention).
        self.null = null if self.null is None else min(self.null, null)
        for s, e, score in spans.top_spans(
            start_logits, end_logits, window.context_mask, max_len, SPANS_PER_WINDOW
        ):
            key = snap_to_words(self.text, int(window.offsets[s, 0]), int(window.offsets[e, 1]))
            if key[1] <= key[0]:
                continue
            # The same span seen in two overlapping windows counts once, at its best.
            if score > self.spans.get(key, -np.inf):
                self.spans[key] = score


def _result(
    collector: _Collector,
    doc: Document,
    question: str,
    reader: Reader,
    top_k: int,
    threshold: float,
    started: float,
    done: int,
    total: int,
) -> QueryResult:
    keep = heapq.nsmallest(max(top_k, 1), collector.spans.items(), key=lambda kv: (-kv[1], kv[0]))
    null = collector.null
    all_scores = np.fromiter(collector.spans.values(), np.float64, len(collector.spans))
    # Probabilities: softmax over every candidate span and the null answer.
    probs = spans.softmax_of(
        np.array([s for _, s in keep]),
        np.concatenate(([null if null is not None else -np.inf], all_scores)),
    )
    candidates = []
    for i, ((start, end), score) in enumerate(keep):
        candidates.append(make_answer(doc, start, end, score, float(probs[i])))
    best = candidates[0].score if candidates else None
    no_answer = best is None or (null is not None and best - null <= threshold)
    return QueryResult(
        question=question,
        document=str(doc.path) if doc.path else doc.name,
        model_name=reader.pack.name,
        trained=reader.pack.trained,
        no_answer=no_answer,
        null_score=null,
        best_span_score=best,
        threshold=threshold,
        answers=[] if no_answer else candidates[:top_k],
        candidates=candidates,
        seconds=time.perf_counter() - started,
        windows_read=done,
        windows_total=total,
    )


def clean_question(question: str, top_k: int = 1) -> str:
    """The question with whitespace collapsed; UserError if empty or top_k < 1."""
    question = " ".join(question.split())
    if not question:
        raise UserError("the question is empty; type a question such as 'When does the lease end?'")
    if top_k < 1:
        raise UserError(f"--top-k must be at least 1 (got {top_k})")
    return question


def ask_iter(
    doc: Document,
    question: str,
    reader: Reader,
    *,
    top_k: int = 5,
    threshold: float | None = None,
    passages: Sequence[Passage] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[Progress]:
    """Read the passages' windows batch by batch, yielding progress and answers so far.

    ``passages`` defaults to every passage of the document (exhaustive scan);
    a caller with a keyword pre-ranking passes the passages to read first.
    """
    started = time.perf_counter()
    question = clean_question(question, top_k)
    threshold = reader.pack.null_threshold if threshold is None else float(threshold)
    if passages is None:
        passages = make_passages(doc.text)
    items = [(p.index, p.start, doc.text[p.start : p.end]) for p in passages]
    encoded = reader.encode(question, items)
    total = len(encoded)
    collector = _Collector(doc.text)
    max_len = reader.pack.max_answer_length
    batch_size = reader.batch_size
    done = 0
    last_result = started
    for first in range(0, total, batch_size):
        if cancel is not None and cancel():
            raise Cancelled()
        batch = [reader.window(*item) for item in encoded[first : first + batch_size]]
        start_logits, end_logits = reader.run(batch)
        for row, window in enumerate(batch):
            collector.add(window, start_logits[row], end_logits[row], max_len)
        done += len(batch)
        now = time.perf_counter()
        if done == len(batch) or done == total or now - last_result >= RESULT_INTERVAL:
            last_result = now
            result = _result(
                collector, doc, question, reader, top_k, threshold, started, done, total
            )
            yield Progress(done, total, result)
        else:
            yield Progress(done, total, None)
    if total == 0:
        yield Progress(
            0, 0, _result(collector, doc, question, reader, top_k, threshold, started, 0, 0)
        )


def ask(
    doc: Document,
    question: str,
    reader: Reader,
    *,
    top_k: int = 5,
    threshold: float | None = None,
    passages: Sequence[Passage] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> QueryResult:
    """Answer ``question`` from ``doc``: ranked answers, or ``no_answer``."""
    last: Progress | None = None
    for last in ask_iter(
        doc, question, reader, top_k=top_k, threshold=threshold, passages=passages, cancel=cancel
    ):
        if progress is not None:
            progress(last.done, last.total)
    assert last is not None and last.result is not None
    return last.result
