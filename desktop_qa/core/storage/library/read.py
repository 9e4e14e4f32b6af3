"""Reading one found file safely: still itself (not swapped for a link, a pipe or a
device), hashed without blocking or passing its size limit, and extracted (in a worker)
into the stored-content format of ``core.storage.content``.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from desktop_qa.core.documents.document import (
    check_size,
    size_limit,
)
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.errors import UserError
from desktop_qa.core.search.passages import make_passages
from desktop_qa.core.storage import content
from desktop_qa.core.storage.content import Stored
from desktop_qa.core.system.files import sha256_stream

# -- reading a found file safely ---------------------------------------------------------------
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def confined(path: str) -> tuple[int, int, int, int]:
    """The identity of a found file, checked to still be a regular file at its own real path.

    The walk yields real paths; a file swapped since for a link (or a folder on
    its way for a link to elsewhere), a pipe or a device fails here, before it
    is opened (UserError), so what lies outside the library is never read.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        why = f"{path}: {exc.strerror}; it is looked at again on the next update"
        raise UserError(why) from None
    if stat.S_ISLNK(st.st_mode) or os.path.realpath(path) != path:
        raise _swapped(path)
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"{path} is not a regular file (a pipe or a device?); not read")
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _swapped(path: str) -> UserError:
    return UserError(f"{path}: replaced by a symbolic link (or moved) since it was found; not read")


def hash_document(path: str) -> str:
    """sha256 of a found file, never blocking, never through a link, never past its size limit.

    Opened with O_NOFOLLOW | O_NONBLOCK, then checked on the open file
    (``fstat``): a FIFO swapped in after the walk cannot block the update, a
    link is not followed, and a file over ``document.size_limit`` (a 1 TiB
    sparse "%PDF") is refused before a byte is read. UserError names the reason;
    OSError is the system's.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _swapped(path) from None
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(f"{path} is not a regular file (a pipe or a device?); not read")
        check_size(path, st.st_size)
        if _opened_path(fd, path) != path:
            raise _swapped(path)
        limit = size_limit(path)[0]
        total = 0

        def bounded(block: bytes) -> None:
            nonlocal total
            total += len(block)
            if total > limit:  # grew past the limit while hashed
                check_size(path, total)

        return sha256_stream(fh, bounded)


def _opened_path(fd: int, path: str) -> str:
    """Where an open file really is (Linux: from /proc, so a swap after the open is seen)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


# -- what a worker reads ----------------------------------------------------------------------
@dataclass(frozen=True)
class Extracted:
    """What a worker process sends back for one file: its content as stored (compressed in
    the worker, so the parent only writes it) and its passages."""

    content: Stored
    pages: int
    passages: list[tuple[int, int]]


def extract(path: str, ocr: OcrOptions | None = None) -> Extracted:
    """Read one file (in a worker process): text, arrays, passages (raises UserError).

    ``ocr`` carries the resume key (the file's hash) and the per-page progress
    callback, as when a document is opened alone.
    """
    from desktop_qa.core.documents.document import load_document

    before = confined(path)  # swapped for a link since the walk: never followed
    doc = load_document(path, ocr=ocr)
    if confined(path) != before:
        raise UserError(f"{path} changed while it was read; it is read again on the next update")
    return Extracted(
        content=content.encode(doc),
        pages=doc.page_count,
        passages=[(p.start, p.end) for p in make_passages(doc.text, exclude=doc.furniture)],
    )
