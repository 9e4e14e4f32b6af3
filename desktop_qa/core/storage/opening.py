"""Opening a file: through the document cache, scanned pages OCR'd now or while asking.

``open_document`` reads a document (``documents``) unless the cache holds its
bytes, stores what it read, and returns the ``reading.engine.OpenedDocument``
(document plus passage index) questions are asked of. With ``defer_ocr`` the
pages that need OCR are left out so the rest can be asked at once;
``complete_document`` reads them and opens the document whole (issue 28).
Opening belongs here, beside the cache, not in the reading: reading never
touches the disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from desktop_qa.core.documents.document import check_input, check_password, load_document
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.documents.pdf import ocr_pages
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.reading.engine import OpenedDocument, document_passages
from desktop_qa.core.search.index import PassageIndex
from desktop_qa.core.storage import cache
from desktop_qa.core.system.files import sha256_file

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


def open_document(
    path: str | os.PathLike[str],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    password: str | None = None,
    cache_protected: bool = False,
    ocr: OcrOptions | None = None,
    require_text: bool = True,
    defer_ocr: bool = False,
) -> OpenedDocument:
    """Open a document read-only, from the cache when its bytes were seen before.

    Raises UserError with a one-line message (missing, damaged, no text, ...).
    ``require_text=False`` is the viewer's open: a page-based document MuPDF can
    render but no text can be read from (a scan OCR found nothing in, OCR off,
    language data missing) opens anyway, its one-line reason in
    ``OpenedDocument.unanswerable`` (``answer`` raises it as the UserError the
    question path has always given); a damaged file opens with the pages that
    could be read.
    A password-protected PDF needs ``password`` (PasswordRequired otherwise),
    also when its text is cached; its text is cached only if
    ``cache_protected`` (the user allowed it: the text is what the password
    protects), and an older entry for it is removed when not. ``ocr``: when
    and how scanned pages are OCR'd (default auto, English); a cache entry made
    with other OCR settings is not reused.
    ``defer_ocr``: pages that need OCR and were never OCR'd are left out (the
    result's ``pending_pages``), so the rest can be asked at once; such a document
    is not cached. ``complete_document`` reads them and opens it whole.
    """
    path = Path(path).expanduser()
    check_input(path)  # path and type checks run even when the cache holds these bytes
    digest = _hash(path)
    # Bytes the cache saw open without a password need no PyMuPDF check (a fast start).
    known = bool(digest) and cache.known_unprotected(digest or "")
    protected = False if known else check_password(path, password)
    ocr = OcrOptions() if ocr is None else ocr
    variant = ocr.signature()
    if digest and protected and not cache_protected:
        _drop_entry(digest)
        digest = None
    if digest:
        if cancel is not None and cancel():
            raise Cancelled()
        hit = cache.load(digest, path, variant=variant)
        if hit is not None:
            doc, index = hit
            if require_text and doc.unanswerable is not None:
                index.close()
                raise UserError(doc.unanswerable, hint=doc.unanswerable_hint)
            if not protected and not known:
                cache.mark_unprotected(digest)
            if progress is not None:
                pages = max(doc.page_count, 1)
                progress(pages, pages)
            return OpenedDocument(doc, index)
    doc = load_document(
        path,
        progress=progress,
        cancel=cancel,
        password=password,
        ocr=ocr.with_key(digest or ""),
        require_text=False,
        defer_ocr=defer_ocr and bool(digest),
    )
    passages = document_passages(doc)
    # Store only if the file did not change while it was read (else key and content differ);
    # a text-less document is kept too (its OCR is not tried again), unless reading it
    # again may find text (OCR ran out of time, language data was missing) or it would
    # replace the entry these bytes have for other OCR settings (one that has text).
    index = None
    keep = not doc.pending_ocr and (
        doc.unanswerable is None
        or not (doc.retry_may_help or (digest and cache.entry_path(digest).exists()))
    )
    if digest and keep and _hash(path) == digest:
        doc.content_hash = digest
        index = cache.store(doc, passages, variant=variant, protected=protected)
    if index is None:
        index = PassageIndex.build(doc.text, passages)
    if require_text and doc.unanswerable is not None:
        index.close()
        raise UserError(doc.unanswerable, hint=doc.unanswerable_hint)
    return OpenedDocument(doc, index)


def complete_document(
    opened: OpenedDocument,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    password: str | None = None,
    cache_protected: bool = False,
    ocr: OcrOptions | None = None,
) -> OpenedDocument:
    """The document ``opened`` with its pending pages OCR'd and joined (and cached).

    ``opened`` came from ``open_document(defer_ocr=True)``; the pages it left
    out are OCR'd on every core (``ocr.progress`` hears each), then the file is
    opened again: its other pages are extracted again, the OCR'd ones come from
    where ``ocr_pages`` stored them. A document with nothing pending is returned
    as it is. ``opened`` stays usable (a question may still be reading it).
    """
    pending = opened.pending_pages
    path = opened.doc.path
    if not pending or path is None:
        return opened
    ocr = OcrOptions() if ocr is None else ocr
    digest = _hash(path)
    if digest:
        ocr_pages(path, pending, password=password, ocr=ocr.with_key(digest), cancel=cancel)
    return open_document(
        path,
        progress=progress,
        cancel=cancel,
        password=password,
        cache_protected=cache_protected,
        ocr=ocr,
        require_text=False,
    )


def _drop_entry(digest: str) -> None:
    try:
        cache.entry_path(digest).unlink(missing_ok=True)
    except OSError:
        pass


def _hash(path: Path) -> str | None:
    try:
        return sha256_file(path) if path.is_file() else None
    except OSError:
        return None  # load_document reports the problem in its own words
