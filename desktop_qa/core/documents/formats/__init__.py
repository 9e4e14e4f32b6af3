"""Documents MuPDF does not lay out itself: Office, OpenDocument, HTML, RTF and e-mail.

Each is converted to safe HTML sections (one module per family: ``office``,
``opendoc``, ``html``, ``rtf``, ``mail``), laid out by MuPDF into an in-memory
PDF (``layout``), and from there read exactly like a PDF: the same words with
boxes, passages, index, reader and highlights; the viewer shows the same
pages. ``citations`` says where an answer is in the document's own terms.

The one hook in ``core/documents/document.py``: these suffixes join ``MUPDF_SUFFIXES``
(so the library and the open dialog take them), ``check_input`` calls
``check`` and ``load_mupdf`` opens the laid-out PDF through ``open_laid_out``.
Nothing is ever written next to the user's file, and nothing is fetched.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import (  # doc: a core.documents.document.Document (no import: no circle)
    TYPE_CHECKING,
    Any,
)

from desktop_qa.core.documents.formats import budget
from desktop_qa.core.documents.formats.checks import (
    MAX_FILE_BYTES,
    REQUIRED,
    SUFFIXES,
    check_bytes,
    kind_name,
)
from desktop_qa.core.documents.formats.citations import CitationMap
from desktop_qa.core.documents.formats.layout import Section, render
from desktop_qa.core.errors import Cancelled, UserError, mb

if TYPE_CHECKING:
    import pymupdf


__all__ = [
    "MAX_FILE_BYTES", "SUFFIXES", "CitationMap", "check", "convert", "laid_out", "locate",
    "open_laid_out",
]  # fmt: skip

_PREFIX = 64 * 1024
# Laid-out PDFs of the last few files, so the viewer does not convert what was just read.
_RECENT: OrderedDict[str, tuple[bytes, CitationMap]] = OrderedDict()
_RECENT_MAX = 4
_lock = threading.Lock()


def _read(path: Path, limit: int | None = None) -> bytes:
    try:
        with open(path, "rb") as fh:  # read-only: user documents are never written
            return fh.read() if limit is None else fh.read(limit)
    except OSError as exc:
        from desktop_qa.core.system.portable import unreadable

        raise unreadable(path, exc) from None


def check(path: Path) -> str:
    """Cheap checks before anything is unpacked: the name's promise against the bytes.

    Returns the kind (the suffix without its dot). Containers get their zip
    directory checked (members, declared sizes), which needs the whole file;
    others a prefix.
    """
    suffix = path.suffix.lower()
    zipped = suffix not in (".rtf", ".eml", ".html", ".htm", ".xhtml")
    check_bytes(_read(path, 4 * 1024 * 1024 if zipped else _PREFIX), suffix, str(path), path)
    if suffix == ".eml":
        from desktop_qa.core.documents.formats import mail

        mail.check_raw(_read(path), str(path))
    return suffix.lstrip(".")


def sections(data: bytes, suffix: str, name: str, depth: int = 0) -> list[Section]:
    """The HTML sections of a document's bytes (``name`` says which, in messages), built
    within one budget (``budget``: an e-mail's attachments share their message's)."""
    check_bytes(data, suffix, name)
    with budget.scope(name):
        return _sections(data, suffix, name, depth)


def _sections(data: bytes, suffix: str, name: str, depth: int) -> list[Section]:
    from desktop_qa.core.documents.formats import (
        html,
        legacy,
        mail,
        office,
        opendoc,
        rtf,
        sheets,
        word,
    )

    converters = {
        **dict.fromkeys((".docx", ".docm", ".dotx", ".dotm"), word.docx),
        **dict.fromkeys((".pptx", ".pptm", ".ppsx", ".ppsm", ".potx", ".potm"), office.pptx),
        ".odt": opendoc.odt, ".odp": opendoc.odp, ".rtf": rtf.rtf,
        ".xlsx": sheets.xlsx, ".xlsm": sheets.xlsx, ".xltx": sheets.xlsx, ".xltm": sheets.xlsx,
        ".xls": sheets.xls, ".ods": sheets.ods,
    }  # fmt: skip
    try:
        if suffix in (".html", ".htm", ".xhtml"):
            return [html.page(html.sanitize(data, name))]
        if suffix in (".eml", ".msg"):
            if depth > mail.MAX_ATTACHMENT_DEPTH:
                raise UserError(f"{name}: messages attached too deeply")
            return (mail.eml if suffix == ".eml" else mail.msg)(data, name, sections, depth)
        if suffix in legacy.SUFFIXES:
            head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
            if head.startswith(b"{\\rtf"):  # Word saves RTF and web pages as .doc too
                return rtf.rtf(data, name)
            if head.startswith((b"<html", b"<!doctype html")):
                return [html.page(html.sanitize(data, name))]
            modern = legacy.convert(data, suffix, name)
            return sections(modern, "." + legacy.kind(suffix)[1], name, depth)
        converter = converters.get(suffix)
        if converter is None:
            raise UserError(f"{name}: unsupported file type '{suffix}'")
        if suffix in REQUIRED:  # a zip container: its XML parts only, inflated within budget
            data = budget.package(data, name)
        with warnings.catch_warnings():  # the readers' warnings never reach the terminal
            warnings.simplefilter("ignore")
            return converter(data, name)
    except (UserError, MemoryError, Cancelled):
        raise
    except RecursionError:
        raise UserError(
            f"{name} is nested too deeply to be read (a damaged or hostile file)"
        ) from None
    except Exception as exc:  # the readers raise many types for damaged files
        what = kind_name(suffix)
        raise UserError(
            f"{name} cannot be read as {what} ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:100]}); the file may be damaged: re-save it"
        ) from None


def lay_out(data: bytes, suffix: str, name: str) -> tuple[bytes, CitationMap]:
    """The laid-out PDF (bytes) and citation map of a document's bytes; UserError when
    refused (in this process: ``convert`` runs it in a child when it can be cancelled).
    The map holds the words to read where they differ from MuPDF's (``logical``)."""
    parts = sections(data, suffix, name)
    if not any(
        s.html.strip()
        or any(m.strip() for m in s.header.values())
        or any(m.strip() for m in s.footer.values())
        for s in parts
    ):
        raise UserError(f"{name} contains no text; pass a document that contains text")
    pdf, cmap = render(parts, name)
    from desktop_qa.core.documents.formats import logical

    cmap.words = logical.page_words(pdf, [s.html for s in parts], [p.drawn for p in cmap.pages])
    return pdf, cmap


def convert(
    path: str | os.PathLike[str], cancel: Callable[[], bool] | None = None
) -> tuple[bytes, CitationMap]:
    """The laid-out PDF (bytes) of a document and its citation map; UserError when refused.

    With ``cancel`` (the user's, or a read's deadline) the layout runs in a child
    process, killed the moment ``cancel()`` is true (Cancelled); without it, in this
    process (library workers and the page drawer are child processes already).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    limit = MAX_FILE_BYTES.get(suffix)
    data = _read(path, None if limit is None else limit + 1)
    if limit is not None and len(data) > limit:
        raise UserError(f"{path} is over the {mb(limit)} limit for its type")
    digest = hashlib.sha256(data).hexdigest()
    with _lock:
        hit = _RECENT.get(digest)
        if hit is not None:
            _RECENT.move_to_end(digest)
            return hit
    from desktop_qa.core.documents.formats import legacy

    if cancel is None or suffix in legacy.SUFFIXES:
        # In place: an old .doc or .ppt is converted by LibreOffice, a process of its own,
        # bounded in time and stopped when ``cancel()`` (``legacy.cancelled_by``).
        with legacy.cancelled_by(cancel):
            pdf, cmap = lay_out(data, suffix, str(path))
    else:  # in a child, stopped at once when ``cancel()`` (formats.isolated)
        from desktop_qa.core.documents.formats import isolated

        pdf, cmap = isolated.lay_out(data, suffix, str(path), cancel, lay_out)
    from desktop_qa.core.documents.formats import citations

    citations.store(digest, cmap)
    with _lock:
        _RECENT[digest] = (pdf, cmap)
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)
    return pdf, cmap


def laid_out(
    path: str | os.PathLike[str], cancel: Callable[[], bool] | None = None
) -> tuple[pymupdf.Document, CitationMap]:
    """The laid-out pages and their map: the words to read (``CitationMap.words``, when
    they differ from MuPDF's; ``CitationMap.reading_words``: a sheet's rows as paragraphs),
    and each page's furniture rectangles (``PageInfo.furniture``)."""
    import pymupdf

    pdf, cmap = convert(path, cancel)
    return pymupdf.open("pdf", pdf), cmap


def open_laid_out(
    path: str | os.PathLike[str], cancel: Callable[[], bool] | None = None
) -> pymupdf.Document:
    """The document as MuPDF pages (for extraction and for the viewer: the same layout)."""
    return laid_out(path, cancel)[0]


def page_names(doc: Any) -> list[str]:
    """Each page's name in the document's own terms ("slide 2", 'sheet "Budget"', "page 3");
    [] for formats not converted here (PDF, EPUB, text)."""
    if doc.path is None or doc.path.suffix.lower() not in SUFFIXES or doc.kind == "text":
        return []
    cmap = getattr(doc, "citations", None)  # made at conversion, kept with the content
    if cmap is None or len(cmap.pages) != doc.page_count:
        return []
    return [info.label for info in cmap.pages]


def row_context(doc: Any, start: int, end: int) -> tuple[str, int, int] | None:
    """An answer inside one table row (a sheet's or a document's), framed by its column names.

    ("Item: Laptop refresh; Owner: Marta Silva; Amount: 24,000", a, b) with
    ``context[a:b]`` the answer; None when the answer is not within one row
    below a header row (other formats, a table without column names).
    """
    if doc.path is None or doc.path.suffix.lower() not in SUFFIXES or doc.kind == "text":
        return None
    page = doc.page_of(start, end)
    cmap = None if page is None else getattr(doc, "citations", None)
    if cmap is None or not 0 <= page < len(cmap.pages):
        return None
    info = cmap.pages[page]
    if not info.headers and not info.table_headers:
        return None
    text = doc.text
    para_start = text.rfind("\n\n", 0, start)
    para_start = 0 if para_start < 0 else para_start + 2
    para_end = text.find("\n\n", end)
    para_end = len(text) if para_end < 0 else para_end
    if para_end - para_start > 20_000:
        return None
    ids = doc.char_box[para_start:para_end]
    wanted = sorted({int(i) for i in ids if i >= 0})
    frame = cmap.row_frame(page, [tuple(float(v) for v in doc.boxes[i]) for i in wanted])
    if frame is None:
        return None
    keys, names = frame
    where = dict(zip(wanted, keys, strict=True))
    pieces: list[tuple[object, int, int]] = []  # (column key, start, end) in doc.text
    for offset, box in enumerate(ids.tolist(), para_start):
        key = where.get(box) if box >= 0 else None
        if key is None:
            continue
        if pieces and pieces[-1][0] == key:
            pieces[-1] = (key, pieces[-1][1], offset + 1)
        else:
            pieces.append((key, offset, offset + 1))
    out, a, b = "", None, None
    for key, p0, p1 in pieces:
        out += ("; " if out else "") + f"{names.get(key, key)}: "
        base = len(out) - p0
        if a is None and start < p1:
            a = base + max(start, p0)
        if end <= p1 and b is None:
            b = base + max(end, p0)
        out += text[p0:p1]
    if a is None or b is None or b <= a:
        return None
    return out, a, b


def locate(doc: Any, start: int, end: int) -> str | None:
    """Where ``doc.text[start:end]`` is, in the document's terms; None for other formats.

    Pure: the map travels with the document (``Document.citations``, made when the
    file was converted and stored with its content), so citing an answer never
    reads or converts the file on the query thread.
    """
    cmap = getattr(doc, "citations", None)
    if cmap is None or doc.kind == "text" or len(cmap.pages) != doc.page_count:
        return None
    page = doc.page_of(start, end)
    if page is None:
        return None
    boxes = [b.rect for b in doc.boxes_for(start, end) if b.page == page]
    return cmap.locate(page, boxes)
