"""What a question produces: ``Answer``, ``Read``, ``QueryResult``, ``Progress``.

Plain immutable values, shared by the engine, the CLI, the export and the GUI.
A result also carries ``ReadingState``: where its reading stood when the
result was made, a snapshot of its own, so "read the whole document" goes on
from exactly that point and a result already yielded never changes while the
reading goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_qa.core.documents import formats
from desktop_qa.core.documents.document import Box, Document
from desktop_qa.core.documents.furniture import make_context
from desktop_qa.core.search import sentences


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
    # Where it is in the document's own terms ("slide 3"; 'sheet "Budget", row 7, cell B7');
    # None for formats cited by page alone (core/documents/formats/citations.py).
    location: str | None = None
    # The page's printed label ("xiv", from the PDF's /PageLabels); None where the document
    # defines none (then ``page`` is what a reader cites).
    page_label: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(self.score, 4),
            "probability": round(self.probability, 6),
            "page": self.page,
            "page_label": self.page_label,
            "start": self.start,
            "end": self.end,
            "boxes": [[round(v, 2) for v in b.rect] for b in self.boxes],
            "context": self.context,
            "document": self.document,
            "ocr": self.ocr,
            "location": self.location,
        }


@dataclass(frozen=True)
class Read:
    """How much of the scope a result rests on: what "no answer" may claim."""

    passages: int  # passages of which windows were read
    windows: int
    total_passages: int
    whole_document: bool  # every passage of the scope was read
    documents: int = 1  # documents in the scope
    # Pages (0-based) not in the scope yet: still being OCR'd when the answer was made.
    pending_pages: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "passages": self.passages,
            "windows": self.windows,
            "total_passages": self.total_passages,
            "whole_document": self.whole_document,
            "documents": self.documents,
        }


@dataclass(frozen=True)
class ReadingState:
    """A reading's state at one moment, immutable: what resuming it needs.

    ``read`` maps (source, passage index) to a bit mask of the passage's
    windows read; ``spans`` the distinct candidate spans (source, start, end)
    with their best scores; ``spilled`` the log-sum-exp of spans dropped to
    keep memory flat; ``null`` the scope's null score so far; the tallies
    give the pace of what is left to read. The mappings are read-only copies:
    the reading that made it goes on with its own.
    """

    question: str
    read: Mapping[tuple[int, int], int]
    windows: int
    null: float | None
    spans: Mapping[tuple[int, int, int], float]
    spilled: float
    # Tallies for the whole-read estimate (``engine.whole_read_seconds``): model
    # tokens fed, passage tokens and the characters they cover, passages' length.
    tokens: int = 0
    context_tokens: int = 0
    context_chars: int = 0
    passage_chars: int = 0
    # The pack's full window (tokens) and the overlap of a passage's windows.
    window_tokens: int = 0
    stride: int = 0


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
    # Where the reading behind this result stood, so "read the whole document" goes on
    # from it (None: keyword answers, nothing to resume).
    state: ReadingState | None = field(default=None, compare=False, repr=False)

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
        if self.no_answer:
            return no_answer_text(self.read, self.mode)
        return f"{len(self.answers)} answers"

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
            "pending_pages": [p + 1 for p in self.read.pending_pages],
            "read": self.read.to_json(),
            "message": no_answer_text(self.read, self.mode) if self.no_answer else None,
        }


def pending_text(read: Read) -> str | None:
    """What was not read yet, in a user's words (pages still being OCR'd), or None."""
    pages = [p + 1 for p in read.pending_pages]
    if not pages:
        return None
    shown = ", ".join(map(str, pages[:8])) + (
        f" and {len(pages) - 8} more" if len(pages) > 8 else ""
    )
    word = "page" if len(pages) == 1 else "pages"
    return f"Not read yet: {word} {shown} (scanned, still being OCR'd); ask again to include them."


def no_answer_text(read: Read, mode: str = "reader") -> str:
    """ "No answer" worded by what was read: never "not in this document" unless it all was.

    In keyword mode no model read anything: the words are what was matched.
    """
    pending = pending_text(read)
    text = _no_answer_text(read, mode)
    return f"{text} {pending}" if pending else text


def _no_answer_text(read: Read, mode: str) -> str:
    # "this document", "these 38 documents" (never "this 38 documents").
    where = "this document" if read.documents <= 1 else f"these {read.documents} documents"
    if mode == "keyword":
        return (
            f"No passage of {where} shares a word with your question "
            "(keyword search; no model read it)."
        )
    if read.whole_document:
        return f"No answer in {where} (read in full)."
    if read.passages == 0:
        return (
            f"No passage shares a word with your question (of {read.total_passages}); "
            f"reword it, or read {'the whole document' if read.documents <= 1 else 'more'}."
        )
    n = read.passages
    best = "the passage that best matches" if n == 1 else f"the {n} passages that best match"
    return f"No answer in {best} your question (of {read.total_passages})."


@dataclass(frozen=True)
class Progress:
    done: int  # passages read so far in this phase of the reading (any of their windows)
    total: int  # passages the phase will read (at least ``done``)
    # Answers so far: after the first batch, then at most every RESULT_INTERVAL
    # seconds (building it costs more than a batch of a small model). None in between.
    result: QueryResult | None


# -- answers ---------------------------------------------------------------------------------


def make_answer(doc: Document, start: int, end: int, score: float, probability: float) -> Answer:
    """An Answer for ``doc.text[start:end]``: page, boxes and context filled in.

    A span cut by a page break inside a hyphenated word is widened to the whole word, and
    its text and boxes leave out the running heads between (``sentences.as_read``).
    """
    span = sentences.as_read(doc, start, end)
    start, end = span.start, span.end
    context, a, b = make_context(doc.text, start, end, furniture=doc.furniture, shown=span.text)
    framed = formats.row_context(doc, start, end)  # formats hook: a sheet row's column names
    if framed is not None:
        context, a, b = framed
    location = formats.locate(doc, start, end)
    page = doc.page_of(start, end)
    return Answer(
        text=span.text,
        score=score,
        probability=probability,
        page=None if page is None else page + 1,
        start=start,
        end=end,
        boxes=span.boxes,
        context=context,
        context_start=a,
        context_end=b,
        document=str(doc.path) if doc.path else doc.name,
        ocr=doc.is_ocr(start, end),
        location=location,
        page_label=doc.page_label(page),
    )
