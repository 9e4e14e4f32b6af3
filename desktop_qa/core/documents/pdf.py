"""Text extraction with PyMuPDF (PDF, EPUB, XPS, FB2, MOBI): every character's page and box.

The reader works on one plain string; highlights need the page and rectangle
of any character span of it. So extraction builds the text from PyMuPDF's
words (reading order, wrapped lines joined into paragraphs, end-of-line
hyphenation undone, ligatures folded) and records, for every character, which
word box it came from. Separators the extraction inserts (spaces, paragraph
breaks) have no box. Pages without a usable text layer are OCR'd
(``core.documents.ocr.pages``) and their words enter the same arrays through the same code.
``document.load_document`` makes the ``Document`` of what ``load_mupdf`` returns.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop_qa.core.documents import formats, inputs, navigation
from desktop_qa.core.documents.furniture import marked_lines, running_lines
from desktop_qa.core.documents.inputs import MUPDF_SUFFIXES, is_pdf, too_much_text
from desktop_qa.core.documents.ocr import pages as ocr_mod
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.errors import Cancelled, PasswordRequired, UserError, short_reason

PARAGRAPH_BREAK = "\n\n"
_HYPHENS = ("-", "\u00ad", "\u2010")
_DASHES = ("\u2014", "\u2013")  # em and en dash

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


@dataclass
class PdfText:
    """One extracted document: its text, page sizes and per-character arrays.

    ``arrays`` holds the ``Document`` fields named in ``content.ARRAYS`` (char_box,
    char_page, boxes, box_page, box_line, char_x, page_ocr, furniture).
    ``unanswerable``: why no question can be answered (no text could be read),
    else None; the pages still open for viewing.
    """

    text: str
    page_sizes: list[tuple[float, float]]
    arrays: dict[str, np.ndarray]
    outline: list[navigation.OutlineEntry] = field(default_factory=list)
    page_labels: list[str] = field(default_factory=list)
    unanswerable: str | None = None
    unanswerable_hint: str | None = None
    retry_may_help: bool = False
    # Pages (0-based) that need OCR and were left for later (``defer_ocr``): not in the text.
    pending_ocr: tuple[int, ...] = ()
    # A converted format's citation map (``formats.citations``); None for PyMuPDF's own.
    citations: formats.CitationMap | None = None


def fold(word: str) -> str:
    """What a person reads: ligatures expanded, compatibility characters folded (NFKC).

    PDFs set "fi", "fl", "ff" as ligature glyphs ("ﬁrst"); the WordPiece
    tokenizer turns such a word into [UNK] and the keyword index would not
    match "first". Full-width letters and odd spaces fold the same way.
    """
    return word if word.isascii() else unicodedata.normalize("NFKC", word)


_CJK = re.compile(
    "[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
)


def _cjk(char: str) -> bool:
    """A Chinese or Japanese character (ideograph, kana, their punctuation)."""
    return bool(char) and _CJK.match(char) is not None


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
    builder: _Builder,
    page: object,
    page_no: int,
    line_base: int,
    words: list | None = None,
    laid_out: bool = False,
) -> int:
    """Append one page's paragraphs; return the number of line ids used.

    ``words`` (PyMuPDF "words" tuples, default the page's) may be OCR'd words
    (core/documents/ocr/pages.py): they enter the same arrays through the same code.

    Blocks become paragraphs; lines of a block are joined with a space, except
    that a line ending in a hyphenated fragment followed by a lowercase word on
    the next line is joined without the hyphen ("hyphen-" + "ated"); before an
    uppercase word the hyphen stays and no space is added ("Jean-" + "Paul"); a
    line ending in a dash goes on without a space ("wrong—" + "even").
    ``laid_out`` (a converted document, laid out by us): every line-end hyphen
    is the text's own (our layout never hyphenates: "off-" + "white" is
    "off-white"), and a line broken before or after a Chinese or Japanese
    character joins without a space (those scripts have none between words).
    """
    if words is None:
        words = page.get_text("words")  # type: ignore[attr-defined]
    words = [w for w in words if w[4].strip()]
    lines_used = 0
    joined_prev = False
    prev_key: tuple[int, int] | None = None
    prev_word = ""
    line_id = line_base
    for i, (x0, y0, x1, y1, word, block, line, _) in enumerate(words):
        word = fold(word.replace("\x00", ""))
        key = (block, line)
        if prev_key is not None:
            if block != prev_key[0]:
                builder.add(PARAGRAPH_BREAK, -1, page_no)
            elif not joined_prev and not (
                laid_out and key != prev_key and (_cjk(prev_word[-1:]) or _cjk(word[:1]))
            ):
                builder.add(" ", -1, page_no)
        if key != prev_key:
            line_id = line_base + lines_used
            lines_used += 1
        box = builder.new_box((x0, y0, x1, y1), page_no, line_id)
        nxt = words[i + 1] if i + 1 < len(words) else None
        # A line ending in a hyphenated fragment or a dash ("wrong—" / "even") goes on
        # without a space: "wrong—even", as printed.
        joined_prev = (
            nxt is not None
            and nxt[5] == block
            and nxt[6] != line
            and (_is_hyphenated(word) or (len(word) > 1 and word.endswith(_DASHES)))
        )
        drop_hyphen = (
            joined_prev
            and _is_hyphenated(word)
            and not laid_out
            and nxt is not None
            and nxt[4][:1].islower()
        )
        builder.add(word[:-1] if drop_hyphen else word, box, page_no)
        prev_key = key
        prev_word = word
    return lines_used


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


def _find_scanned(
    mdoc: Any,
    ocr: OcrOptions,
    cancel: CancelFn | None,
    scan: dict[int, bool],
    layer_words: dict[int, Any],
) -> list[int]:
    """Look for the pages that need OCR before reading any, so OCR is counted out of
    them ("OCR: page 2 of 2 scanned pages", not "page 255 of 352" of a book with a text
    layer); ``ocr.scanning`` hears each page checked.

    Fills ``scan`` (page -> needs OCR) and ``layer_words`` (the words of pages with a
    text layer, up to a document's text limit: the main loop uses them instead of
    reading them again). A page that cannot be checked here is left to the main loop.
    """
    total = mdoc.page_count
    if ocr.mode == "never":
        return []
    if ocr.mode == "always":
        return list(range(total))
    kept = 0
    for n in range(total):
        if cancel is not None and cancel():
            raise Cancelled()
        try:
            page = mdoc.load_page(n)
            words = page.get_text("words")
            scan[n] = ocr_mod.needs_ocr(page, words, ocr.mode)
            if not scan[n] and kept <= inputs.MAX_DOCUMENT_CHARS:
                layer_words[n] = words
                kept += sum(len(w[4]) + 1 for w in words)
        except Exception:
            pass  # the main loop reads it again and reports a broken page
        if ocr.scanning is not None:
            ocr.scanning(n + 1, total)
    return [n for n in range(total) if scan.get(n)]


def load_mupdf(
    path: Path,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    password: str | None = None,
    ocr: OcrOptions | None = None,
    defer_ocr: bool = False,
) -> PdfText:
    """Extract a PyMuPDF document; pages without a usable text layer are OCR'd (``ocr``).

    OCR'd pages (core/documents/ocr/pages.py) are read in page order like the others, their
    words fed through the same ``_extract_page``; ``ocr.progress`` hears
    "page 3 of 8" before each, and each is stored as soon as it is read, so a
    cancelled OCR resumes on the next open.

    ``defer_ocr``: a page that needs OCR and has not been OCR'd before (its words are
    not stored under ``ocr.resume_key``) is left out of the text and listed in
    ``pending_ocr``, so the other pages can be asked at once (``ocr_pages`` reads them;
    opening again then joins them). A document with no text but such pages is OCR'd
    as usual: there would be nothing to ask.
    """
    import pymupdf

    ocr = OcrOptions() if ocr is None else ocr
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    suffix = path.suffix.lower()
    filetype = suffix.lstrip(".") if suffix in MUPDF_SUFFIXES else "pdf"
    cmap = None
    try:
        if suffix in formats.SUFFIXES:  # formats hook: the laid-out PDF of the converted file
            mdoc, cmap = formats.laid_out(path, cancel)
        else:
            mdoc = pymupdf.open(str(path), filetype=filetype)
    except (UserError, Cancelled):  # Cancelled: the read's deadline, or the user's
        raise
    except Exception as exc:  # PyMuPDF raises several types for damaged files
        what = filetype.upper()
        raise UserError(
            f"{path} cannot be opened as {what} ({short_reason(exc)}); the file may be damaged or "
            f"not a {what}: re-export or re-download it"
        ) from None

    # Found by the look for scanned pages (``_find_scanned``): page -> needs OCR, and the
    # words of the pages with a text layer, read once and used by the main loop.
    scan: dict[int, bool] = {}
    layer_words: dict[int, Any] = {}

    def upcoming(after: int) -> Iterator[tuple[int, Any]]:
        """Pages after ``after`` without a usable text layer: OCR'd ahead, in parallel."""
        for n in range(after + 1, mdoc.page_count):
            if scan.get(n) is False:
                continue
            try:
                page = mdoc.load_page(n)
                if scan.get(n) or ocr_mod.needs_ocr(page, page.get_text("words"), ocr.mode):
                    yield n, page
            except Exception:
                continue  # the main loop reports a broken page

    reader = ocr_mod.DocumentOcr(ocr, cancel, None if defer_ocr else upcoming)
    has_images = False
    page_ocr: list[int] = []
    pending: list[int] = []
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
                f"{path}: its pages cannot be read ({short_reason(exc)}); the {what} is damaged or "
                "too large: re-export or re-download it"
            ) from None
        if pages == 0:
            raise UserError(f"{path} has no pages; the file may be damaged: re-export it")
        outline = navigation.read_outline(mdoc)
        labelled = navigation.has_page_labels(mdoc)
        labels: list[str] = []
        builder = _Builder()
        page_sizes: list[tuple[float, float]] = []
        lines = 0
        total = pages
        failed_pages = 0
        reader.plan(_find_scanned(mdoc, ocr, cancel, scan, layer_words))
        for page_no in range(total):
            if cancel is not None and cancel():
                raise Cancelled()
            try:
                page = mdoc.load_page(page_no)
                rect = page.rect
                page_sizes.append((float(rect.width), float(rect.height)))
                if labelled:
                    labels.append(navigation.page_label(page))
                if not builder.ends_with_break():
                    builder.add(PARAGRAPH_BREAK, -1, page_no)
                words = layer_words.pop(page_no, None) or page.get_text("words")
                if cmap is not None and cmap.words is not None:  # shaped scripts' own words
                    words = cmap.words.get(page_no, words)
                if cmap is not None:  # formats hook: a sheet's rows as paragraphs, no gutter
                    words = cmap.reading_words(page_no, words)
                needs = scan.get(page_no)
                if needs is None:
                    needs = ocr_mod.needs_ocr(page, words, ocr.mode)
                if needs:
                    stored = reader.stored(page_no) if defer_ocr else None
                    if defer_ocr and stored is None:
                        pending.append(page_no)
                        words = []
                    else:
                        words = stored if stored is not None else reader.read(page, page_no, total)
                        words = words or []
                    if words:
                        page_ocr.append(page_no)
                lines += _extract_page(builder, page, page_no, lines, words, cmap is not None)
            except (UserError, Cancelled):
                raise
            except Exception:
                # One broken page must not lose the rest of the document.
                failed_pages += 1
                if len(page_sizes) <= page_no:
                    page_sizes.append((612.0, 792.0))
                if labelled and len(labels) <= page_no:
                    labels.append("")
            if builder.length > inputs.MAX_DOCUMENT_CHARS:  # memory grows ~150 bytes a character
                raise too_much_text(path, page_no + 1, total)
            if progress is not None:
                progress(page_no + 1, total)
        if failed_pages == total:
            raise UserError(f"{path}: no page could be read; the file is damaged: re-export it")
        if pending and not builder.has_text():
            defer_ocr = False  # nothing to ask without them: read them now (below)
        else:
            has_images = not builder.has_text() and any(
                _page_has_images(mdoc, n) for n in range(min(total, 50))
            )
        finished = not pending
    finally:
        reader.close(finished=finished)
        mdoc.close()
    if pending and not defer_ocr:
        return load_mupdf(path, progress, cancel, password=password, ocr=ocr)
    text, char_box, char_page, boxes, box_page, box_line = builder.finish()
    reason: UserError | None = None
    if not text.strip():
        reason = _no_text(path, reader, has_images, ocr)
        text, char_box, char_page = "", char_box[:0], char_page[:0]
    ocr_flags = np.zeros(len(page_sizes), np.uint8)
    ocr_flags[page_ocr] = 1
    arrays = {
        "char_box": char_box,
        "char_page": char_page,
        "boxes": boxes,
        "box_page": box_page,
        "box_line": box_line,
        "char_x": char_positions(text, char_box),
        "page_ocr": ocr_flags,
        "furniture": running_lines(text, char_box, boxes, box_page, box_line, page_sizes),
    }
    if cmap is not None:
        # A converted document's furniture is what our layout drew in the margins (a Word
        # file's headers and footers, an e-mail's subject), never guessed from repetition:
        # alike body lines at page edges (a sheet's rows, "Paragraph 3 of ...") are text.
        arrays["furniture"] = marked_lines(
            char_box, boxes, box_page, box_line, {n: p.furniture for n, p in enumerate(cmap.pages)}
        )
    return PdfText(
        text,
        page_sizes,
        arrays,
        outline=outline,
        page_labels=labels if any(labels) else [],
        unanswerable=None if reason is None else reason.problem,
        unanswerable_hint=None if reason is None else reason.hint,
        retry_may_help=reason is not None
        and (reader.language_error is not None or reader.failed > 0),
        pending_ocr=tuple(pending),
        citations=cmap,
    )


def ocr_pages(
    path: Path,
    pages: Sequence[int],
    *,
    password: str | None = None,
    ocr: OcrOptions,
    cancel: CancelFn | None = None,
) -> int:
    """OCR ``pages`` (0-based, as ``load_mupdf(defer_ocr=True)`` left them), every core at once.

    Their words are stored under ``ocr.resume_key`` (the file's sha256, required),
    so the next ``load_mupdf`` of the file takes them from there; returns how many
    pages could be read. Cancelling stops the children at once.
    """
    import pymupdf

    if not ocr.resume_key:
        raise ValueError("ocr_pages needs OcrOptions.resume_key (the file's sha256)")
    pymupdf.TOOLS.mupdf_display_errors(False)
    suffix = path.suffix.lower()
    if suffix in formats.SUFFIXES:
        mdoc = formats.open_laid_out(path)
    else:
        mdoc = pymupdf.open(
            str(path), filetype=suffix.lstrip(".") if suffix in MUPDF_SUFFIXES else "pdf"
        )
    total = mdoc.page_count
    wanted = sorted(n for n in set(pages) if 0 <= n < total)  # the file may have changed

    def upcoming(after: int) -> Iterator[tuple[int, Any]]:
        for n in wanted:
            if n > after:
                yield n, mdoc.load_page(n)

    reader = ocr_mod.DocumentOcr(ocr, cancel, upcoming)
    reader.plan(wanted)  # progress counted out of these scanned pages, not the document's
    read = 0
    try:
        if mdoc.needs_pass:
            _authenticate(mdoc, path, password)
        for n in wanted:
            if reader.read(mdoc.load_page(n), n, total) is not None:
                read += 1
    finally:
        reader.close(finished=False)  # the words stay stored for the open that joins them
        mdoc.close()
    return read


def _no_text(
    path: Path, reader: ocr_mod.DocumentOcr, has_images: bool, ocr: OcrOptions
) -> UserError:
    """Why a document that opened holds no text to ask: the line a question gets."""
    if reader.language_error is not None:
        return UserError(
            f"{path} has pages without a text layer (a scan?), but {reader.language_error}",
            hint="ocr_languages",  # or pick languages that are installed (the app's setting)
        )
    if reader.pages or (has_images and ocr.mode != "never"):
        unread = reader.failed and f" ({reader.failed} page(s) could not be read in time)"
        return UserError(
            f"{path}: no text found on any page, even with OCR{unread or ''}; the pages "
            "may be blank, photos or unreadable scans"
        )
    if has_images:
        return UserError(
            f"{path} has no text layer, only images (a scan?); OCR is off", hint="ocr_on"
        )
    return UserError(
        f"{path} contains no extractable text (blank pages, forms or drawings only); "
        "open a document that contains text"
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


def check_password(path: str | os.PathLike[str], password: str | None = None) -> bool:
    """True if ``path`` is protected by a user password and ``password`` opens it.

    False for an unprotected (or unreadable: ``load_document`` says why) file;
    PasswordRequired when the password is missing or wrong. Opening is cheap
    (no page is read), so this gates the cache before a protected file's text
    is served from it.
    """
    path = Path(path).expanduser()
    if not path.is_file() or not is_pdf(path):
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
