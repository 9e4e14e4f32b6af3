"""The document model: extracted text with every character's page and box, and opening one.

The reader works on one plain string (``Document.text``); highlights need the
page and rectangle of any character span of it (``Document.boxes_for``).
``load_document`` checks the input (``core.documents.inputs``), then reads a text file
verbatim (``core.documents.decoding``) or extracts a PyMuPDF document (``core.documents.pdf``,
which OCRs pages without a text layer).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from desktop_qa.core.documents.decoding import decode_text, looks_binary
from desktop_qa.core.documents.formats.citations import CitationMap
from desktop_qa.core.documents.inputs import (
    MAX_TEXT_BYTES,
    MUPDF_SUFFIXES,
    SUPPORTED,
    TEXT_SUFFIXES,
    Deadline,
    check_input,
    check_size,
    read_bytes,
    read_seconds,
    size_limit,
)
from desktop_qa.core.documents.navigation import OutlineEntry, section_at
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.documents.pdf import CancelFn, ProgressFn, check_password, load_mupdf
from desktop_qa.core.errors import Cancelled, UserError, mb

# Names other modules take from here (the input checks and PDF unlocking live apart).
__all__ = [
    "MUPDF_SUFFIXES",
    "SUPPORTED",
    "TEXT_SUFFIXES",
    "Box",
    "Document",
    "check_input",
    "check_password",
    "check_size",
    "decode_text",
    "load_document",
    "load_text_file",
    "size_limit",
]


@dataclass(frozen=True)
class Box:
    """A highlight rectangle in PDF points on one page (0-based index)."""

    page: int
    rect: tuple[float, float, float, float]


@dataclass
class Document:
    """Extracted text plus the geometry needed to highlight any span of it."""

    path: Path | None
    kind: str  # "pdf" (anything PyMuPDF renders), "text"
    text: str
    page_sizes: list[tuple[float, float]] = field(default_factory=list)
    # Per character: index into ``boxes`` or -1 (separator, or a text file).
    char_box: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Per character: 0-based page, or -1 for text files.
    char_page: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    box_page: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Boxes of one text line share a line id, so a span's boxes merge per line.
    box_line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Per character: left edge as a fraction of its word box's width (a Helvetica
    # estimate made at extraction), so a highlight can cut a word ("Bravo" of
    # "Bravo.") with no MuPDF call on the query thread.
    char_x: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    content_hash: str = ""
    # Per page: 1 if its text came from OCR (answers there are marked, OCR can be wrong).
    page_ocr: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    # [[start, end), ...] (sorted): running heads, page numbers and footers (furniture.py).
    # They stay in ``text`` (shown, found, highlighted) but no passage or context holds them.
    furniture: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))
    # The table of contents (core.documents.navigation), in document order; [] when there is none.
    outline: list[OutlineEntry] = field(default_factory=list)
    # Per page, its printed label ("xiv"); [] when the document defines none.
    page_labels: list[str] = field(default_factory=list)
    # Why no question can be answered here (no text on any page, OCR off, language data
    # missing), in one line; None when the text can be asked. Such a document is opened
    # for viewing only (``storage.opening.open_document(require_text=False)``).
    unanswerable: str | None = None
    unanswerable_hint: str | None = None  # ``UserError.hint`` of that line ("ocr_on")
    # Reading it again may find text (OCR pages ran out of time, language data missing):
    # an unanswerable document so made is not cached. Not stored.
    retry_may_help: bool = False
    # Pages (0-based) that need OCR and are not in the text yet (opened with
    # ``defer_ocr``: the other pages are asked while they are read). Never stored:
    # such a document is not cached; opening it again once they are read joins them.
    pending_ocr: tuple[int, ...] = ()
    # Where a converted format's answers are in its own terms ("slide 3", a sheet's
    # cells): made by the conversion, stored with the content, so citing is pure.
    citations: CitationMap | None = None

    @classmethod
    def from_text(cls, text: str, name: str = "text") -> Document:
        """A document from a string (evaluation data, tests, pasted text).

        Text has no pages or boxes, so the per-character arrays stay empty: a
        100 MB text costs its string, not 8 bytes a character more.
        """
        return cls(path=Path(name), kind="text", text=text)

    @property
    def name(self) -> str:
        return self.path.name if self.path else "document"

    @property
    def page_count(self) -> int:
        return len(self.page_sizes)

    def page_label(self, page: int | None) -> str | None:
        """The printed label of a 0-based page ("xiv"), or None where the document has none.

        Front ends show it instead of the page number where there is one (page box,
        result list, citations, exports, ``page_label`` in ``ask --json``).
        """
        if page is None or not 0 <= page < len(self.page_labels):
            return None
        return self.page_labels[page] or None

    def section_at(self, page: int) -> OutlineEntry | None:
        """The outline entry (section) a 0-based page lies in, or None (``navigation``)."""
        i = section_at(self.outline, page)
        return None if i is None else self.outline[i]

    def unanswerable_error(self) -> UserError | None:
        """The one-line error a question about this document gets, or None if it can be asked."""
        if self.unanswerable is None:
            return None
        return UserError(self.unanswerable, hint=self.unanswerable_hint)

    def page_of(self, start: int, end: int | None = None) -> int | None:
        """0-based page of the first character of the span that lies on a page."""
        if self.kind == "text" or not len(self.char_page):
            return None
        end = start + 1 if end is None else max(end, start + 1)
        pages = self.char_page[start:end]
        pages = pages[pages >= 0]
        return int(pages[0]) if len(pages) else None

    def is_ocr(self, start: int, end: int | None = None) -> bool:
        """Whether any character of the span lies on a page read by OCR."""
        if self.kind == "text" or not len(self.page_ocr) or not self.page_ocr.any():
            return False
        end = start + 1 if end is None else max(end, start + 1)
        pages = self.char_page[start:end]
        pages = pages[(pages >= 0) & (pages < len(self.page_ocr))]
        return bool(len(pages) and self.page_ocr[pages].any())

    def boxes_for(self, start: int, end: int) -> list[Box]:
        """Rectangles covering the words of ``text[start:end]``, one per line and page."""
        if self.kind == "text" or end <= start:
            return []
        ids = self.char_box[start:end]
        ids = ids[ids >= 0]
        if not len(ids):
            return []
        # Keep first-seen order, drop repeats (every character of a word shares its box).
        keep = np.concatenate(([True], ids[1:] != ids[:-1]))
        ids = ids[keep]
        out: list[Box] = []
        current_key: tuple[int, int] | None = None
        rect: list[float] = []
        first, length = self._box_extents
        for i in ids.tolist():
            key = (int(self.box_page[i]), int(self.box_line[i]))
            x0, y0, x1, y1 = (float(v) for v in self.boxes[i])
            a, b = max(start, first[i]), min(end, first[i] + length[i])
            if a > first[i] or b < first[i] + length[i]:
                left = float(self.char_x[a])
                right = float(self.char_x[b]) if b < first[i] + length[i] else 1.0
                x0, x1 = x0 + left * (x1 - x0), x0 + right * (x1 - x0)
            if key == current_key:
                rect = [min(rect[0], x0), min(rect[1], y0), max(rect[2], x1), max(rect[3], y1)]
                continue
            if current_key is not None:
                out.append(Box(current_key[0], tuple(rect)))  # type: ignore[arg-type]
            current_key, rect = key, [x0, y0, x1, y1]
        assert current_key is not None
        out.append(Box(current_key[0], tuple(rect)))  # type: ignore[arg-type]
        return out

    @functools.cached_property
    def _box_extents(self) -> tuple[list[int], list[int]]:
        """First character and character count of every box, for trimming part-words."""
        positions = np.flatnonzero(self.char_box >= 0)
        ids = self.char_box[positions]
        first = np.zeros(len(self.boxes), np.int64)
        length = np.zeros(len(self.boxes), np.int64)
        uniq, index, counts = np.unique(ids, return_index=True, return_counts=True)
        first[uniq] = positions[index]
        length[uniq] = counts
        return first.tolist(), length.tolist()


def load_text_file(path: Path, data: bytes | None = None) -> Document:
    """A text file's text is its decoded content, verbatim, so offsets are exact."""
    if data is None:
        data = read_bytes(path, MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            raise UserError(
                f"{path} is over the {mb(MAX_TEXT_BYTES)} limit for text files; "
                "split it into smaller files"
            )
    text = decode_text(data)
    if looks_binary(text):
        raise UserError(f"{path} does not look like a text file; pass a PDF or text file")
    if not text.strip():
        raise UserError(f"{path} contains no text; pass a document that contains text")
    doc = Document.from_text(text, str(path))
    doc.path = path
    return doc


def load_document(
    path: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    password: str | None = None,
    ocr: OcrOptions | None = None,
    require_text: bool = True,
    defer_ocr: bool = False,
    seconds: float | None = None,
) -> Document:
    """Open PDF/EPUB/XPS (PyMuPDF) or a text file; raise UserError with one clear line.

    The read has an overall time limit (``seconds``, default ``inputs.read_seconds()``,
    plus ``inputs.PAGE_ALLOWANCE`` a page; OCR pages extend it, each by its own page
    limit): past it, a UserError saying so.

    A file that changes while it is read (still being written or copied,
    truncated) is refused rather than half-read. ``password`` unlocks a
    protected PDF (PasswordRequired when missing or wrong); ``ocr``: when and
    how pages without a text layer are OCR'd (default: auto).

    A page-based document with no readable text (a scan OCR found nothing in,
    OCR off, language data missing, drawings only) raises that one line, unless
    ``require_text`` is False: then it opens for viewing, with the line as
    ``Document.unanswerable``. Text files always need text. ``defer_ocr``: pages that
    need OCR are left for later (``Document.pending_ocr``, ``pdf.load_mupdf``).
    """
    path = Path(path).expanduser()
    kind = check_input(path)
    before = _identity(path)
    deadline = Deadline(read_seconds() if seconds is None else seconds, cancel)
    try:
        if kind == "text":
            doc = load_text_file(path)
        else:
            try:
                timed = _timed(ocr, deadline)
                paged = _paged(progress, deadline)
                pdf = load_mupdf(
                    path, paged, deadline, password=password, ocr=timed, defer_ocr=defer_ocr
                )
            except Cancelled:
                if deadline.expired and not (cancel is not None and cancel()):
                    raise deadline.error(path) from None
                raise
            doc = Document(
                path=path,
                kind="pdf",
                text=pdf.text,
                page_sizes=pdf.page_sizes,
                outline=pdf.outline,
                page_labels=pdf.page_labels,
                unanswerable=pdf.unanswerable,
                unanswerable_hint=pdf.unanswerable_hint,
                retry_may_help=pdf.retry_may_help,
                pending_ocr=pdf.pending_ocr,
                citations=pdf.citations,
                **pdf.arrays,
            )
            if require_text and doc.unanswerable is not None:
                raise UserError(doc.unanswerable, hint=doc.unanswerable_hint)
    except UserError:
        if _identity(path) != before:
            raise _changed(path) from None
        raise
    if _identity(path) != before:
        raise _changed(path)
    return doc


def _paged(progress: ProgressFn | None, deadline: Deadline) -> ProgressFn:
    """Page progress that gives the read its allowance for the document's pages."""

    def paged(done: int, total: int) -> None:
        deadline.allow_pages(total)
        if progress is not None:
            progress(done, total)

    return paged


def _timed(ocr: OcrOptions | None, deadline: Deadline) -> OcrOptions:
    """OCR options whose progress (an OCR page started) gives the read that page's time."""
    ocr = OcrOptions() if ocr is None else ocr
    heard = ocr.progress

    def progress(done: int, total: int) -> None:
        deadline.extend(ocr.page_seconds + deadline.seconds)
        if heard is not None:
            heard(done, total)

    return replace(ocr, progress=progress)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _changed(path: Path) -> UserError:
    return UserError(
        f"{path} changed while it was read (still being written, copied or truncated?); "
        "wait until it is complete and try again"
    )
