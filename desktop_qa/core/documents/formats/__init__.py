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
from collections import OrderedDict
from pathlib import Path
from typing import (  # doc: a core.documents.document.Document (no import: no circle)
    TYPE_CHECKING,
    Any,
)

from desktop_qa.core.documents.formats.checks import (
    MAX_FILE_BYTES,
    SUFFIXES,
    check_bytes,
    kind_name,
)
from desktop_qa.core.documents.formats.citations import CitationMap
from desktop_qa.core.documents.formats.layout import Section, render
from desktop_qa.core.errors import UserError, mb

if TYPE_CHECKING:
    import pymupdf


__all__ = ["MAX_FILE_BYTES", "SUFFIXES", "check", "convert", "locate", "open_laid_out"]

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
    """The HTML sections of a document's bytes (``name`` says which, in messages)."""
    from desktop_qa.core.documents.formats import html, mail, office, opendoc, rtf

    check_bytes(data, suffix, name)
    converters = {
        ".docx": office.docx, ".docm": office.docx, ".pptx": office.pptx, ".pptm": office.pptx,
        ".xlsx": office.xlsx, ".xlsm": office.xlsx, ".odt": opendoc.odt, ".odp": opendoc.odp,
        ".ods": opendoc.ods, ".rtf": rtf.rtf,
    }  # fmt: skip
    try:
        if suffix in (".html", ".htm", ".xhtml"):
            return [Section(html.sanitize(data, name), "page {page}")]
        if suffix == ".eml":
            if depth > mail.MAX_ATTACHMENT_DEPTH:
                raise UserError(f"{name}: messages attached too deeply")
            return mail.eml(data, name, sections, depth)
        converter = converters.get(suffix)
        if converter is None:
            raise UserError(f"{name}: unsupported file type '{suffix}'")
        return converter(data, name)
    except (UserError, MemoryError):
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


def convert(path: str | os.PathLike[str]) -> tuple[bytes, CitationMap]:
    """The laid-out PDF (bytes) of a document and its citation map; UserError when refused."""
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
    parts = sections(data, suffix, str(path))
    if not any(s.html.strip() for s in parts):
        raise UserError(f"{path} contains no text; pass a document that contains text")
    pdf, cmap = render(parts, str(path))
    from desktop_qa.core.documents.formats import citations

    citations.store(digest, cmap)
    with _lock:
        _RECENT[digest] = (pdf, cmap)
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)
    return pdf, cmap


def open_laid_out(path: str | os.PathLike[str]) -> pymupdf.Document:
    """The document as MuPDF pages (for extraction and for the viewer: the same layout)."""
    import pymupdf

    pdf, _ = convert(path)
    return pymupdf.open("pdf", pdf)


def locate(doc: Any, start: int, end: int) -> str | None:
    """Where ``doc.text[start:end]`` is, in the document's terms; None for other formats."""
    if doc.path is None or doc.path.suffix.lower() not in SUFFIXES or doc.kind == "text":
        return None
    page = doc.page_of(start, end)
    if page is None:
        return None
    cmap = _map_for(doc)
    if cmap is None:
        return None
    boxes = [b.rect for b in doc.boxes_for(start, end) if b.page == page]
    return cmap.locate(page, boxes)


def _map_for(doc: Any) -> CitationMap | None:
    from desktop_qa.core.documents.formats import citations

    digest = doc.content_hash
    if not digest:
        try:
            with open(doc.path, "rb") as fh:  # type: ignore[arg-type]
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError:
            return None
    with _lock:
        hit = _RECENT.get(digest)
    if hit is not None:
        return hit[1]
    cmap = citations.load(digest)
    if cmap is not None:
        return cmap
    try:
        _, cmap = convert(doc.path)  # type: ignore[arg-type]
    except UserError:
        return None
    return cmap if len(cmap.pages) == doc.page_count else None
