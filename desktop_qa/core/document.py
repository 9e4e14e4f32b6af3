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
import errno
import functools
import os
import re
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_qa.core import formats
from desktop_qa.core import ocr as ocr_mod
from desktop_qa.core.errors import Cancelled, PasswordRequired, UserError
from desktop_qa.core.ocr import OcrOptions

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text", ".rst"})
# What PyMuPDF opens that can hold a text layer; Office, OpenDocument, HTML, RTF and e-mail
# are converted and laid out first (core/formats: the one hook is marked "formats hook").
MUPDF_SUFFIXES = frozenset({".pdf", ".epub", ".xps", ".oxps", ".fb2", ".mobi"}) | formats.SUFFIXES
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
    # Per character: left edge as a fraction of its word box's width (a Helvetica
    # estimate made at extraction), so a highlight can cut a word ("Bravo" of
    # "Bravo.") with no MuPDF call on the query thread.
    char_x: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    content_hash: str = ""
    # Per page: 1 if its text came from OCR (answers there are marked, OCR can be wrong).
    page_ocr: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))

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


def char_positions(text: str, char_box: np.ndarray) -> np.ndarray:
    """Left edge of every character as a fraction of its word box (0 for separators).

    Glyph widths are Helvetica's (one MuPDF call per distinct character, made
    during extraction): close enough to cut a highlight inside a word. The
    characters of a box are contiguous in the text.
    """
    import pymupdf

    out = np.zeros(len(text), np.float32)
    positions = np.flatnonzero(char_box >= 0)
    if not len(positions):
        return out
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    uniq, inverse = np.unique(codes, return_inverse=True)
    table = np.array(
        [pymupdf.get_text_length(chr(c), fontname="helv") or 1.0 for c in uniq.tolist()],
        np.float64,
    )
    widths = np.where(char_box >= 0, table[inverse], 0.0)
    before = np.concatenate(([0.0], np.cumsum(widths)))  # width of text[:i]
    ids = char_box[positions]
    boxes = int(ids.max()) + 1
    first = np.zeros(boxes, np.int64)
    seen, index = np.unique(ids, return_index=True)
    first[seen] = positions[index]
    total = np.zeros(boxes, np.float64)
    np.add.at(total, ids, widths[positions])
    span = np.where(total[ids] > 0, total[ids], 1.0)
    out[positions] = np.clip((before[positions] - before[first[ids]]) / span, 0.0, 1.0)
    return out


# Input limits (docs/performance.md "Limits"): the checks below run on the file's
# metadata and a prefix, so a huge or hostile file is refused before it is read.
MAX_TEXT_BYTES = 128 * 1024 * 1024  # text files; larger ones are refused, never read
PREFIX_BYTES = 64 * 1024  # what type checks read
# Zip-based formats: MuPDF lays out all of an EPUB's markup to count its pages,
# using about 25 bytes of memory per byte of markup; a zip bomb would take all
# memory. The declared (uncompressed) size of the non-media entries is capped.
MAX_MARKUP_BYTES = 16 * 1024 * 1024
_ZIP_FORMATS = frozenset({".epub", ".xps", ".oxps"})
_MEDIA_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".jxr", ".wdp",
    ".ttf", ".otf", ".odttf", ".woff", ".woff2", ".mp3", ".mp4", ".m4a", ".ogg", ".icc",
)  # fmt: skip
# Extracted text of PDF-like documents: every character carries its page, box
# and position (about 150 bytes a character while extracting), so 8 million
# characters (~3,000 dense pages) peak near 1.3 GB; more is refused.
MAX_DOCUMENT_CHARS = 8_000_000
# Formats MuPDF converts to HTML whole (FB2 is XML, MOBI compressed HTML).
MAX_CONVERTED_BYTES = {".fb2": 32 * 1024 * 1024, ".mobi": 32 * 1024 * 1024}
MAX_CONVERTED_BYTES |= formats.MAX_FILE_BYTES  # formats hook: Office, HTML, RTF, e-mail
# Any other document (PDF, EPUB, XPS): past this, hashing alone takes many seconds and
# MuPDF may scan it all (a 1 TiB sparse "%PDF" file kept it busy for half an hour).
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024 * 1024


def size_limit(path: str | os.PathLike[str]) -> tuple[int, str, str]:
    """(bytes, what, advice) for a file of this name: the one table of input sizes."""
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return MAX_TEXT_BYTES, "text files", "split it into smaller files"
    limit = MAX_CONVERTED_BYTES.get(suffix)
    if limit is not None:
        return limit, f"{suffix[1:].upper()} files", "convert it to PDF and open that"
    return MAX_DOCUMENT_BYTES, "documents", "split it into smaller documents"


def check_size(path: str | os.PathLike[str], size: int) -> None:
    """Refuse a file over its size limit from its metadata alone (it is never read)."""
    limit, what, advice = size_limit(path)
    if size > limit:
        raise UserError(f"{path} is {_mb(size)}, over the {_mb(limit)} limit for {what}; {advice}")


def _too_much_text(path: Path, pages: int, total: int) -> UserError:
    return UserError(
        f"{path} holds more than {MAX_DOCUMENT_CHARS:,} characters of text "
        f"(the limit, reached on page {pages} of {total}); split it into smaller documents"
    )


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _check_path(path: Path) -> os.stat_result:
    """stat the path once; every failure is one line naming the file and what to do."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise UserError(
                f"{_short_name(path)}: the file name or path is too long for this system; "
                "rename the file or move it to a shorter path"
            ) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise UserError(f"{path}: file not found; check the path and try again") from None
        if exc.errno == errno.EACCES:
            raise UserError(
                f"{path}: permission denied; make the file readable and try again"
            ) from None
        if exc.errno == errno.ELOOP:
            raise UserError(f"{path}: too many levels of symbolic links; check the path") from None
        raise UserError(f"{path}: cannot read the file ({exc.strerror or exc}); check it") from None
    except ValueError:  # embedded NUL
        raise UserError(f"{path!r}: not a valid file name; check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{path} is a folder; pass a PDF or text file ({SUPPORTED})")
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: permission denied; make the file readable and try again")
    if st.st_size == 0:
        raise UserError(f"{path} is empty; pass a document that contains text")
    return st


def _short_name(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    """Read-only (user documents are never written); at most ``limit`` bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read() if limit is None else fh.read(limit)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror}); check it") from None


def check_input(path: str | os.PathLike[str]) -> str:
    """The path and type checks of ``load_document``, on metadata and a prefix only.

    Returns the kind (``"text"`` or the PyMuPDF file type). Cheap, so it runs
    before every open, cached or not: the cache must never answer for a file
    that would be refused cold (``simple.txt`` copied as ``fake.docx``).
    """
    path = Path(path).expanduser()
    st = _check_path(path)
    suffix = path.suffix.lower()
    if stat.S_ISREG(st.st_mode):
        check_size(path, st.st_size)
    if suffix in TEXT_SUFFIXES:
        if _looks_binary(decode_text(_read_bytes(path, PREFIX_BYTES))):
            raise UserError(f"{path} does not look like a text file; pass a PDF or text file")
        return "text"
    if suffix in formats.SUFFIXES:  # formats hook: converted before MuPDF lays them out
        return formats.check(path)
    head = _read_bytes(path, 1024)
    if suffix in MUPDF_SUFFIXES:
        kind = suffix.lstrip(".")
        if suffix == ".pdf" and not _PDF_MAGIC.search(head):
            raise UserError(
                f"{path} is not a PDF (no %PDF header at its start); the file may be damaged "
                "or of another type: re-export or re-download it"
            )
        if suffix in _ZIP_FORMATS:
            _check_zip(path, kind.upper())
        return kind
    if _PDF_MAGIC.search(head):
        return "pdf"
    raise UserError(
        f"{path}: unsupported file type '{suffix or 'none'}'; open a PDF, EPUB, XPS or "
        f"text file ({SUPPORTED})"
    )


def _check_zip(path: Path, what: str) -> None:
    """EPUB/XPS are zip files: refuse a bomb from the central directory, before MuPDF."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            markup = sum(
                info.file_size
                for info in archive.infolist()
                if not info.filename.lower().endswith(_MEDIA_SUFFIXES)
            )
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise UserError(
            f"{path} cannot be opened as {what} ({_short(exc)}); the file may be damaged or "
            f"not a {what}: re-export or re-download it"
        ) from None
    if markup > MAX_MARKUP_BYTES:
        raise UserError(
            f"{path} unpacks to {_mb(markup)} of text and markup, over the "
            f"{_mb(MAX_MARKUP_BYTES)} limit for {what} files (a damaged file or a zip bomb); "
            "split it or convert it to PDF"
        )


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
    if data is None:
        data = _read_bytes(path, MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            raise UserError(
                f"{path} is over the {_mb(MAX_TEXT_BYTES)} limit for text files; "
                "split it into smaller files"
            )
    text = decode_text(data)
    if _looks_binary(text):
        raise UserError(f"{path} does not look like a text file; pass a PDF or text file")
    if not text.strip():
        raise UserError(f"{path} contains no text; pass a document that contains text")
    doc = Document.from_text(text, str(path))
    doc.path = path
    return doc


def fold(word: str) -> str:
    """What a person reads: ligatures expanded, compatibility characters folded (NFKC).

    PDFs set "fi", "fl", "ff" as ligature glyphs ("ﬁrst"); the WordPiece
    tokenizer turns such a word into [UNK] and the keyword index would not
    match "first". Full-width letters and odd spaces fold the same way.
    """
    return word if word.isascii() else unicodedata.normalize("NFKC", word)


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
        word = fold(word.replace("\x00", ""))
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
    password: str | None = None,
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
        if suffix in formats.SUFFIXES:  # formats hook: the laid-out PDF of the converted file
            mdoc = formats.open_laid_out(path)
        else:
            mdoc = pymupdf.open(str(path), filetype=filetype)
    except UserError:
        raise
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
        try:
            needs_pass = mdoc.needs_pass
            if needs_pass:
                _authenticate(mdoc, path, password)
            pages = mdoc.page_count
        except UserError:
            raise
        except Exception as exc:  # "code=7: Invalid number of pages", "text too large", ...
            what = filetype.upper()
            raise UserError(
                f"{path}: its pages cannot be read ({_short(exc)}); the {what} is damaged or "
                "too large: re-export or re-download it"
            ) from None
        if pages == 0:
            raise UserError(f"{path} has no pages; the file may be damaged: re-export it")
        builder = _Builder()
        page_sizes: list[tuple[float, float]] = []
        lines = 0
        total = pages
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
            if builder.length > MAX_DOCUMENT_CHARS:  # memory grows ~150 bytes a character
                raise _too_much_text(path, page_no + 1, total)
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
                f"{path} has no text layer, only images (a scan?); OCR is off", hint="ocr_on"
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
        char_x=char_positions(text, char_box),
        page_ocr=ocr_flags,
    )


def _authenticate(mdoc: object, path: Path, password: str | None) -> None:
    """Unlock a protected document or raise PasswordRequired (the password is never shown)."""
    if password is None:
        raise PasswordRequired(
            f"{path} is password-protected; give its password", wrong=False, hint="password"
        )
    if not mdoc.authenticate(_password_text(password, path)):  # type: ignore[attr-defined]
        raise PasswordRequired(f"{path}: wrong password; try again", wrong=True)


def _password_text(password: str, path: Path) -> str:
    """The password as PyMuPDF takes it: a str it can encode as UTF-8.

    A password typed on a Latin-1 terminal arrives as bytes that are not UTF-8
    (Python holds them as surrogate escapes), which PyMuPDF refuses with a
    TypeError; it takes no bytes either. Read as Latin-1 they open the PDF:
    MuPDF turns the text into the PDF's own encoding (measured: "x\\xff" opens
    RC4, AES-128 and AES-256 files whose password is "x\xff").
    """
    try:
        password.encode("utf-8")
        return password
    except UnicodeEncodeError:
        pass
    try:
        return password.encode("utf-8", "surrogateescape").decode("latin-1")
    except UnicodeEncodeError:  # a lone surrogate that came from no byte
        raise PasswordRequired(
            f"{path}: the password holds characters that are not text; type it again",
            wrong=True,
        ) from None


def _is_pdf(path: Path) -> bool:
    """Only PDFs carry passwords; EPUB and friends are never opened twice (layout is costly)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return True
    if suffix in MUPDF_SUFFIXES or suffix in TEXT_SUFFIXES:
        return False
    try:
        with open(path, "rb") as fh:  # read-only
            return bool(_PDF_MAGIC.search(fh.read(1024)))
    except OSError:
        return False


def check_password(path: str | os.PathLike[str], password: str | None = None) -> bool:
    """True if ``path`` is protected by a user password and ``password`` opens it.

    False for an unprotected (or unreadable: ``load_document`` says why) file;
    PasswordRequired when the password is missing or wrong. Opening is cheap
    (no page is read), so this gates the cache before a protected file's text
    is served from it.
    """
    path = Path(path).expanduser()
    if not path.is_file() or not _is_pdf(path):
        return False
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    try:
        mdoc = pymupdf.open(str(path), filetype="pdf")
    except Exception:
        return False
    try:
        if not mdoc.needs_pass:
            return False
        _authenticate(mdoc, path, password)
        return True
    finally:
        mdoc.close()


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
    password: str | None = None,
    ocr: OcrOptions | None = None,
) -> Document:
    """Open PDF/EPUB/XPS (PyMuPDF) or a text file; raise UserError with one clear line.

    A file that changes while it is read (still being written or copied,
    truncated) is refused rather than half-read. ``password`` unlocks a
    protected PDF (PasswordRequired when missing or wrong); ``ocr``: when and
    how pages without a text layer are OCR'd (default: auto).
    """
    path = Path(path).expanduser()
    kind = check_input(path)
    before = _identity(path)
    try:
        if kind == "text":
            doc = load_text_file(path)
        else:
            doc = load_mupdf(path, progress, cancel, password=password, ocr=ocr)
    except UserError:
        if _identity(path) != before:
            raise _changed(path) from None
        raise
    if _identity(path) != before:
        raise _changed(path)
    return doc


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
