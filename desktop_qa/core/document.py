"""Open a document read-only and extract its text with every character's page and box.

The reader works on one plain string (``Document.text``); highlights need the
page and rectangle of any character span of it. So extraction builds the text
from PyMuPDF's words (reading order, wrapped lines joined into paragraphs,
end-of-line hyphenation undone) and records, for every character, which word
box it came from. Separators the extraction inserts (spaces, paragraph breaks)
have no box.
"""

from __future__ import annotations

import codecs
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_qa.core import ocr as ocr_mod
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.ocr import OcrOptions

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text", ".rst"})
# What PyMuPDF opens that can hold a text layer.
MUPDF_SUFFIXES = frozenset({".pdf", ".epub", ".xps", ".oxps", ".fb2", ".mobi"})
SUPPORTED = ", ".join(sorted(TEXT_SUFFIXES | MUPDF_SUFFIXES))
PARAGRAPH_BREAK = "\n\n"
_HYPHENS = ("-", "\u00ad", "\u2010")

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


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
    content_hash: str = ""
    # Per page: 1 if its text came from OCR (answers there are marked, OCR can be wrong).
    page_ocr: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))

    @classmethod
    def from_text(cls, text: str, name: str = "text") -> Document:
        """A document from a string (evaluation data, tests, pasted text)."""
        n = len(text)
        return cls(
            path=Path(name),
            kind="text",
            text=text,
            char_box=np.full(n, -1, np.int32),
            char_page=np.full(n, -1, np.int32),
        )

    @property
    def name(self) -> str:
        return self.path.name if self.path else "document"

    @property
    def page_count(self) -> int:
        return len(self.page_sizes)

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
                x0, x1 = _trim(
                    self.text[first[i] : first[i] + length[i]], a - first[i], b - first[i], x0, x1
                )
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


def _trim(word: str, a: int, b: int, x0: float, x1: float) -> tuple[float, float]:
    """x-range of ``word[a:b]`` inside the word's box ``x0..x1``.

    A span may cut a word box ("Bravo" of "Bravo."): the glyph widths are
    estimated with Helvetica's metrics, close enough for a highlight.
    """
    import pymupdf

    full = pymupdf.get_text_length(word, fontname="helv") or float(len(word)) or 1.0
    scale = (x1 - x0) / full
    left = pymupdf.get_text_length(word[:a], fontname="helv") if a else 0.0
    right = pymupdf.get_text_length(word[:b], fontname="helv")
    return x0 + left * scale, x0 + right * scale


def _check_path(path: Path) -> None:
    if not path.exists():
        raise UserError(f"{path}: file not found; check the path and try again")
    if path.is_dir():
        raise UserError(f"{path} is a folder; pass a PDF or text file ({SUPPORTED})")
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: permission denied; make the file readable and try again")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror}); check it") from None
    if size == 0:
        raise UserError(f"{path} is empty; pass a document that contains text")


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:  # read-only: user documents are never written
            return fh.read()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror}); check it") from None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, else a single-byte fallback."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return controls > max(8, len(sample) // 20)


def load_text_file(path: Path, data: bytes | None = None) -> Document:
    """A text file's text is its decoded content, verbatim, so offsets are exact."""
    data = _read_bytes(path) if data is None else data
    text = decode_text(data)
    if _looks_binary(text):
        raise UserError(f"{path} does not look like a text file; pass a PDF or text file")
    if not text.strip():
        raise UserError(f"{path} contains no text; pass a document that contains text")
    doc = Document.from_text(text, str(path))
    doc.path = path
    return doc


def _is_hyphenated(word: str) -> bool:
    return len(word) > 1 and word.endswith(_HYPHENS) and word[-2].isalpha()


class _Builder:
    """Accumulates text pieces with their box ids, then vectorises per-character arrays."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.piece_box: list[int] = []
        self.piece_page: list[int] = []
        self.boxes: list[tuple[float, float, float, float]] = []
        self.box_page: list[int] = []
        self.box_line: list[int] = []
        self.length = 0

    def add(self, text: str, box: int, page: int) -> None:
        if text:
            self.pieces.append(text)
            self.piece_box.append(box)
            self.piece_page.append(page)
            self.length += len(text)

    def new_box(self, rect: tuple[float, float, float, float], page: int, line: int) -> int:
        self.boxes.append(rect)
        self.box_page.append(page)
        self.box_line.append(line)
        return len(self.boxes) - 1

    def has_text(self) -> bool:
        return any(p.strip() for p in self.pieces)

    def ends_with_break(self) -> bool:
        return not self.pieces or self.pieces[-1] == PARAGRAPH_BREAK

    def finish(self) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        while self.pieces and self.pieces[-1] == PARAGRAPH_BREAK:
            self.pieces.pop()
            self.piece_box.pop()
            self.piece_page.pop()
        text = "".join(self.pieces)
        lengths = np.fromiter((len(p) for p in self.pieces), np.int64, len(self.pieces))
        char_box = np.repeat(np.asarray(self.piece_box, np.int32), lengths)
        char_page = np.repeat(np.asarray(self.piece_page, np.int32), lengths)
        boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        return (
            text,
            char_box,
            char_page,
            boxes,
            np.asarray(self.box_page, np.int32),
            np.asarray(self.box_line, np.int32),
        )


def _extract_page(
    builder: _Builder, page: object, page_no: int, line_base: int, words: list | None = None
) -> int:
    """Append one page's paragraphs; return the number of line ids used.

    ``words`` (PyMuPDF "words" tuples, default the page's) may be OCR'd words
    (core/ocr.py): they enter the same arrays through the same code.

    Blocks become paragraphs; lines of a block are joined with a space, except
    that a line ending in a hyphenated fragment followed by a lowercase word on
    the next line is joined without the hyphen ("hyphen-" + "ated"); before an
    uppercase word the hyphen stays and no space is added ("Jean-" + "Paul").
    """
    if words is None:
        words = page.get_text("words")  # type: ignore[attr-defined]
    words = [w for w in words if w[4].strip()]
    lines_used = 0
    joined_prev = False
    prev_key: tuple[int, int] | None = None
    line_id = line_base
    for i, (x0, y0, x1, y1, word, block, line, _) in enumerate(words):
        word = word.replace("\x00", "")
        key = (block, line)
        if prev_key is not None:
            if block != prev_key[0]:
                builder.add(PARAGRAPH_BREAK, -1, page_no)
            elif not joined_prev:
                builder.add(" ", -1, page_no)
        if key != prev_key:
            line_id = line_base + lines_used
            lines_used += 1
        box = builder.new_box((x0, y0, x1, y1), page_no, line_id)
        nxt = words[i + 1] if i + 1 < len(words) else None
        joined_prev = (
            nxt is not None and nxt[5] == block and nxt[6] != line and _is_hyphenated(word)
        )
        drop_hyphen = joined_prev and nxt is not None and nxt[4][:1].islower()
        builder.add(word[:-1] if drop_hyphen else word, box, page_no)
        prev_key = key
    return lines_used


def load_mupdf(
    path: Path,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    ocr: OcrOptions | None = None,
) -> Document:
    """Extract a PyMuPDF document; pages without a usable text layer are OCR'd (``ocr``).

    OCR'd pages (core/ocr.py) are read in page order like the others, their
    words fed through the same ``_extract_page``; ``ocr.progress`` hears
    "page 3 of 8" before each, and each is stored as soon as it is read, so a
    cancelled OCR resumes on the next open.
    """
    import pymupdf

    ocr = OcrOptions() if ocr is None else ocr
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    suffix = path.suffix.lower()
    filetype = suffix.lstrip(".") if suffix in MUPDF_SUFFIXES else "pdf"
    try:
        mdoc = pymupdf.open(str(path), filetype=filetype)
    except Exception as exc:  # PyMuPDF raises several types for damaged files
        what = filetype.upper()
        raise UserError(
            f"{path} cannot be opened as {what} ({_short(exc)}); the file may be damaged or "
            f"not a {what}: re-export or re-download it"
        ) from None
    reader = ocr_mod.DocumentOcr(ocr, cancel)
    page_ocr: list[int] = []
    finished = False
    try:
        if mdoc.needs_pass:
            raise UserError(f"{path} is password-protected; save an unprotected copy and open that")
        if mdoc.page_count == 0:
            raise UserError(f"{path} has no pages; the file may be damaged: re-export it")
        builder = _Builder()
        page_sizes: list[tuple[float, float]] = []
        lines = 0
        total = mdoc.page_count
        failed_pages = 0
        for page_no in range(total):
            if cancel is not None and cancel():
                raise Cancelled()
            try:
                page = mdoc.load_page(page_no)
                rect = page.rect
                page_sizes.append((float(rect.width), float(rect.height)))
                if not builder.ends_with_break():
                    builder.add(PARAGRAPH_BREAK, -1, page_no)
                words = page.get_text("words")
                if ocr_mod.needs_ocr(page, words, ocr.mode):
                    words = reader.read(page, page_no, total) or []
                    if words:
                        page_ocr.append(page_no)
                lines += _extract_page(builder, page, page_no, lines, words)
            except (UserError, Cancelled):
                raise
            except Exception:
                # One broken page must not lose the rest of the document.
                failed_pages += 1
                if len(page_sizes) <= page_no:
                    page_sizes.append((612.0, 792.0))
            if progress is not None:
                progress(page_no + 1, total)
        if failed_pages == total:
            raise UserError(f"{path}: no page could be read; the file is damaged: re-export it")
        has_images = not builder.has_text() and any(
            _page_has_images(mdoc, n) for n in range(min(total, 50))
        )
        finished = True
    finally:
        reader.close(finished=finished)
        mdoc.close()
    text, char_box, char_page, boxes, box_page, box_line = builder.finish()
    if not text.strip():
        if reader.language_error is not None:
            raise UserError(
                f"{path} has pages without a text layer (a scan?), but {reader.language_error}"
            )
        if reader.pages or (has_images and ocr.mode != "never"):
            unread = reader.failed and f" ({reader.failed} page(s) could not be read in time)"
            raise UserError(
                f"{path}: no text found on any page, even with OCR{unread or ''}; the pages "
                "may be blank, photos or unreadable scans"
            )
        if has_images:
            raise UserError(
                f"{path} has no text layer, only images (a scan?); OCR is off (--ocr never): "
                "open it with OCR on (--ocr auto, or the OCR setting in the app)"
            )
        raise UserError(
            f"{path} contains no extractable text (blank pages, forms or drawings only); "
            "open a document that contains text"
        )
    ocr_flags = np.zeros(len(page_sizes), np.uint8)
    ocr_flags[page_ocr] = 1
    return Document(
        path=path,
        kind="pdf",
        text=text,
        page_sizes=page_sizes,
        char_box=char_box,
        char_page=char_page,
        boxes=boxes,
        box_page=box_page,
        box_line=box_line,
        page_ocr=ocr_flags,
    )


def _page_has_images(mdoc: object, page_no: int) -> bool:
    try:
        return bool(mdoc.load_page(page_no).get_images())  # type: ignore[attr-defined]
    except Exception:
        return False


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:120]


_PDF_MAGIC = re.compile(rb"%PDF-")


def load_document(
    path: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    ocr: OcrOptions | None = None,
) -> Document:
    """Open PDF/EPUB/XPS (PyMuPDF) or a text file; raise UserError with one clear line.

    ``ocr``: when and how pages without a text layer are OCR'd (default: auto).
    """
    path = Path(path).expanduser()
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return load_text_file(path)
    if suffix in MUPDF_SUFFIXES:
        return load_mupdf(path, progress, cancel, ocr)
    head = _read_bytes(path)[:1024]
    if _PDF_MAGIC.search(head):
        return load_mupdf(path, progress, cancel, ocr)
    raise UserError(
        f"{path}: unsupported file type '{suffix or 'none'}'; open a PDF, EPUB, XPS or "
        f"text file ({SUPPORTED})"
    )
