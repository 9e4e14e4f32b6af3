"""The library: many folders of documents in one SQLite store, asked as one scope.

* ``Library`` is one SQLite database (WAL) in the user data folder: the
  folders, every document found in them (path, size, mtime, content hash,
  state, one-line error), each document's extracted text and highlight
  arrays (zlib-compressed, keyed by content hash, so answering and
  highlighting never re-extract), its passages (character offsets) and one
  keyword index over the passages of all documents.
* ``KeywordIndex`` is the small interface the keyword search sits behind
  (add / remove / search); ``SqliteKeywordIndex`` is the only engine built:
  contentless FTS5 with the tokenizer and MATCH building of ``core.index``.
* ``update`` walks folders and indexes what changed, in worker processes
  with a per-file time limit, committing file by file (a killed run loses
  only the files in flight). It is a generator: it yields ``IndexProgress``
  and returns an ``IndexReport``.
* ``LibraryScope`` is a ``qa.Scope`` over the library (or one folder of it),
  so ``engine.answer`` asks a folder exactly as it asks one document.

Why the library keeps extracted content itself: the per-document cache holds
32 entries (512 MB) and re-extracting the documents an answer touches costs
far more than reading them back (docs/performance.md has the figures).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import sqlite3
import stat
import sys
import threading
import time
import urllib.parse
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from desktop_qa.core import paths
from desktop_qa.core.cache import ARRAYS
from desktop_qa.core.child import Child, ChildCrashed, JobFailed
from desktop_qa.core.document import (
    MUPDF_SUFFIXES,
    TEXT_SUFFIXES,
    Document,
    check_size,
    size_limit,
)
from desktop_qa.core.errors import UserError
from desktop_qa.core.index import DEFAULT_TOKENIZER, TOKENIZERS, match_expression
from desktop_qa.core.ocr import PAGE_SECONDS, OcrOptions
from desktop_qa.core.passages import Passage, make_passages
from desktop_qa.core.qa import Ranked

SCHEMA_VERSION = 1
SUFFIXES = TEXT_SUFFIXES | MUPDF_SUFFIXES  # the one list of supported extensions
# Seconds a worker may spend on one file without progress before it is killed: from the
# file's start, or (a scan) from the start of its last OCR page plus that page's own limit.
FILE_TIME_LIMIT = 60.0
DOCUMENT_MEMORY = 64  # documents a scope keeps decoded (text + arrays) at once

INDEXED, FAILED, PENDING = "indexed", "failed", "pending"


def database_path() -> Path:
    return paths.data_dir() / "library.sqlite"


# -- keyword index -----------------------------------------------------------------------------
class KeywordIndex(Protocol):
    """Where passages are searched by keywords; SQLite today, another engine later."""

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """Index passages given as (passage id, text)."""
        ...

    def remove(self, rows: Iterable[tuple[int, str]]) -> None:
        """Forget passages (the text is needed by a contentless index)."""
        ...

    def search(
        self, question: str, limit: int, documents: str | None = None
    ) -> list[tuple[int, float]]:
        """(passage id, score) best first; ``documents`` a path prefix to search under."""
        ...


class SqliteKeywordIndex:
    """Contentless FTS5 over every passage of the library, ranked by bm25.

    The text lives once, in the document store; the index keeps only terms.
    """

    def __init__(self, conn: sqlite3.Connection, tokenizer: str = DEFAULT_TOKENIZER) -> None:
        self.conn = conn
        self.tokenizer = tokenizer

    @staticmethod
    def create(conn: sqlite3.Connection, tokenizer: str = DEFAULT_TOKENIZER) -> None:
        spec = TOKENIZERS[tokenizer]
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS passage_fts USING "
            f"fts5(body, content='', tokenize='{spec}')"
        )

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        self.conn.executemany("INSERT INTO passage_fts(rowid, body) VALUES(?, ?)", rows)

    def remove(self, rows: Iterable[tuple[int, str]]) -> None:
        self.conn.executemany(
            "INSERT INTO passage_fts(passage_fts, rowid, body) VALUES('delete', ?, ?)", rows
        )

    def search(
        self, question: str, limit: int, documents: str | None = None
    ) -> list[tuple[int, float]]:
        expression = match_expression(question, self.tokenizer)
        if expression is None or limit < 1:
            return []
        if documents is None:
            rows = self.conn.execute(
                "SELECT rowid, bm25(passage_fts) FROM passage_fts WHERE passage_fts MATCH ? "
                "ORDER BY rank LIMIT ?",
                (expression, int(limit)),
            ).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT f.rowid, bm25(passage_fts) AS score FROM passage_fts f "
                "JOIN passage p ON p.id = f.rowid JOIN document d ON d.id = p.doc "
                "WHERE passage_fts MATCH ? AND d.path >= ? AND d.path < ? "
                "ORDER BY score LIMIT ?",
                (expression, *_prefix_bounds(documents), int(limit)),
            ).fetchall()
        return [(int(r), -float(s)) for r, s in rows]


# -- stored content ----------------------------------------------------------------------------
def pack_arrays(doc: Document) -> bytes:
    """The highlight arrays as one zlib blob: a JSON header, then raw little-endian bytes."""
    header: dict[str, Any] = {}
    chunks: list[bytes] = []
    offset = 0
    for name in ARRAYS:
        a = np.ascontiguousarray(getattr(doc, name))
        data = a.tobytes()
        header[name] = [a.dtype.str, list(a.shape), offset, len(data)]
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    return zlib.compress(len(head).to_bytes(4, "little") + head + b"".join(chunks), 6)


def unpack_arrays(blob: bytes) -> dict[str, np.ndarray]:
    raw = zlib.decompress(blob)
    size = int.from_bytes(raw[:4], "little")
    header = json.loads(raw[4 : 4 + size])
    body = memoryview(raw)[4 + size :]
    out = {}
    for name in ARRAYS:
        dtype, shape, offset, length = header[name]
        out[name] = np.frombuffer(body[offset : offset + length], np.dtype(dtype)).reshape(shape)
    return out


@dataclass(frozen=True)
class Extracted:
    """What a worker process sends back for one file (compressed where it is big)."""

    kind: str
    page_sizes: list[tuple[float, float]]
    text: str
    text_z: bytes
    arrays_z: bytes
    passages: list[tuple[int, int]]


def extract(path: str, ocr: OcrOptions | None = None) -> Extracted:
    """Read one file (in a worker process): text, arrays, passages (raises UserError).

    ``ocr`` carries the resume key (the file's hash) and the per-page progress
    callback, as when a document is opened alone.
    """
    from desktop_qa.core.document import load_document

    before = confined(path)  # swapped for a link since the walk: never followed
    doc = load_document(path, ocr=ocr)
    if confined(path) != before:
        raise UserError(f"{path} changed while it was read; it is read again on the next update")
    return Extracted(
        kind=doc.kind,
        page_sizes=[(float(w), float(h)) for w, h in doc.page_sizes],
        text=doc.text,
        text_z=zlib.compress(doc.text.encode("utf-8", "surrogatepass"), 6),
        arrays_z=b"" if doc.kind == "text" else pack_arrays(doc),
        passages=[(p.start, p.end) for p in make_passages(doc.text)],
    )


# -- progress and report -----------------------------------------------------------------------
@dataclass(frozen=True)
class IndexProgress:
    """Where an update is: files read of those that need reading, pages so far."""

    done: int
    total: int
    pages: int
    seconds: float
    current: str = ""
    file_page: int = 0  # the OCR page being read in ``current`` (0: no OCR under way)
    file_pages: int = 0  # ... of this many pages

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at this run's pace (None before the first file)."""
        if not self.done or self.seconds <= 0:
            return None
        return (self.total - self.done) * self.seconds / self.done


@dataclass
class IndexReport:
    """What one update did (counts a user or test can check)."""

    found: int = 0  # supported files under the folders
    unchanged: int = 0  # skipped: same size and mtime (or same hash)
    extracted: int = 0  # read by a worker this run
    reused: int = 0  # moved, renamed or copied: content found by hash, not re-read
    removed: int = 0  # gone from disk, removed from the index
    failed: int = 0  # could not be read this run (reason recorded)
    pages: int = 0  # pages extracted this run
    seconds: float = 0.0
    cancelled: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # folders not there: documents kept
    retried: int = 0  # failed files read again (stopped while progressing, or asked)

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "unchanged": self.unchanged,
            "extracted": self.extracted,
            "reused": self.reused,
            "removed": self.removed,
            "failed": self.failed,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "absent": self.absent,
            "retried": self.retried,
        }


@dataclass(frozen=True)
class DocumentRow:
    id: int
    path: str
    state: str
    error: str | None
    pages: int
    size: int


@dataclass(frozen=True)
class FolderRow:
    path: str
    documents: int
    indexed: int
    failed: int
    pending: int


# -- walking folders ---------------------------------------------------------------------------
LINK_OUTSIDE = "a symbolic link leading outside the library folders; not followed"


def walk(
    folder: Path,
    within: Iterable[str | os.PathLike[str]] | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[Path]:
    """Supported files under ``folder`` by their real path, each once: hidden folders and
    files skipped, no symlink loops.

    A symbolic link is judged by what it leads to, never by its name: followed
    only to a regular file of a supported type or a folder inside ``within``
    (the library's folders; ``folder`` by default), so ``notes.md ->
    ~/.ssh/id_ed25519`` or ``up -> ..`` is never read. Links leaving them are
    added to ``skipped`` as (path, reason); dangling links and links to pipes or
    devices are passed over silently.
    """
    root = Path(os.path.realpath(folder))
    inside = [os.path.realpath(f) for f in within] if within is not None else [str(root)]
    seen: set[tuple[int, int]] = set()
    found: set[str] = set()
    stack = [root]  # real paths only: every file below is reached without a link
    while stack:
        current = stack.pop()
        try:
            st = current.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:  # a symlink back up the tree, or the same folder twice
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    mode = os.stat(target).st_mode  # dangling or a loop: OSError
                    folder_link = stat.S_ISDIR(mode)
                    if not any(_under(target, f) for f in inside):
                        named = Path(entry.name).suffix.lower() in SUFFIXES
                        if skipped is not None and (folder_link or named or _supported(target)):
                            skipped.append((entry.path, f"{entry.path}: {LINK_OUTSIDE}"))
                        continue
                    if folder_link:
                        stack.append(Path(target))
                        continue
                    file = target if stat.S_ISREG(mode) and _supported(target) else None
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                    continue
                else:
                    supported = entry.is_file(follow_symlinks=False) and _supported(entry.name)
                    file = entry.path if supported else None
            except OSError:
                continue
            if file is not None and file not in found:
                found.add(file)
                yield Path(file)


def _supported(name: str) -> bool:
    return Path(name).suffix.lower() in SUFFIXES


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _prefix(folder: str) -> str:
    return folder.rstrip(os.sep) + os.sep


# -- paths in the database ---------------------------------------------------------------------
# A name that is not valid UTF-8 reaches Python surrogate-escaped ("caf\udce9.txt"), which
# SQLite text cannot hold. Stored, each surrogate becomes NUL and its 4 hex digits: NUL is
# never part of a file name, so the form is unambiguous, and it is made character by
# character, so a folder's stored path stays the prefix of its documents' stored paths.
_SURROGATE = re.compile("[\ud800-\udfff]")
_STORED_SURROGATE = re.compile("\x00([0-9a-f]{4})")


def to_db(text: str) -> str:
    """A path (or a message quoting one) as the database stores it; ``from_db`` inverts it."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\x00{ord(m.group()):04x}", text)


def from_db(text: str) -> str:
    """The path (or message) ``to_db`` stored, surrogate-escaped bytes and all."""
    if "\x00" not in text:
        return text
    return _STORED_SURROGATE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _prefix_bounds(prefix: str) -> tuple[str, str]:
    """SQL bounds ``low <= path < high`` of the stored paths starting with ``prefix``.

    ``high`` is the prefix with its last character (the separator) incremented, so
    every name below is inside, whatever its characters (emoji above U+FFFF too).
    """
    low = to_db(prefix)
    return low, low[:-1] + chr(ord(low[-1]) + 1)


def _bounds(folder: str) -> tuple[str, str]:
    """SQL bounds of the documents under ``folder``: the one test of "in this folder"."""
    return _prefix_bounds(_prefix(folder))


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
        digest = hashlib.sha256()
        total = 0
        for block in iter(lambda: fh.read(1 << 20), b""):
            total += len(block)
            if total > limit:  # grew past the limit while hashed
                check_size(path, total)
            digest.update(block)
    return digest.hexdigest()


def _opened_path(fd: int, path: str) -> str:
    """Where an open file really is (Linux: from /proc, so a swap after the open is seen)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


# -- worker processes --------------------------------------------------------------------------
def _read_job(job: tuple[str, str, float], note: Callable[[Any], None]) -> Extracted:
    """In a worker (``core.child``): extract one file; each OCR page's start is a note (i, n)."""
    path, key, page_seconds = job
    options = OcrOptions(
        page_seconds=page_seconds, resume_key=key, progress=lambda page, pages: note((page, pages))
    )
    try:
        return extract(path, options)
    except UserError as exc:
        raise JobFailed(exc.message) from None
    except MemoryError:
        raise JobFailed(f"{path} is too large to read in memory") from None
    except Exception as exc:  # a reader bug on a strange file: record it, go on
        raise JobFailed(f"{path}: could not be read ({type(exc).__name__}: {exc})") from None


class _Worker(Child):
    """A worker process (not daemonic: a daemonic process may not start children, and OCR
    needs one for its per-page limit and silenced stderr); it still dies with its parent."""

    def __init__(self, start_method: str) -> None:
        super().__init__(_read_job, start_method=start_method, daemon=False)
        self.job: str | None = None
        self.progressed = 0.0  # when the last OCR page started (0: none yet)
        self.page = 0
        self.pages = 0

    def start(self, path: str, key: str, time_limit: float, page_seconds: float) -> None:
        self.job = path
        self.progressed = 0.0
        self.page = self.pages = 0
        self.send((path, key, page_seconds), time_limit)


def _kill_all(workers: list[_Worker]) -> None:
    """At exit (or when a pool is dropped unclosed): non-daemonic workers would be waited for."""
    for worker in workers:
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(5)
    workers.clear()


class WorkerPool:
    """Worker processes that each extract one file at a time, killed when they stop progressing.

    A pathological PDF can spin in MuPDF for ever or crash it; only a process
    can be stopped from outside, so each file is read in one (``core.child``)
    and a worker that makes no progress for ``time_limit`` or dies is replaced
    and its file marked failed. Progress is an OCR page started: a 200-page
    scan may take as long as it needs, each page bounded by ``page_seconds``
    in the OCR child plus ``time_limit`` for the rest. Files stopped after
    some progress are in ``stalled`` (path: (page, pages)), so they can be retried.
    """

    def __init__(
        self,
        workers: int,
        time_limit: float = FILE_TIME_LIMIT,
        start_method: str | None = None,
        page_seconds: float = PAGE_SECONDS,
    ) -> None:
        self.start_method = start_method or default_start_method()
        self.size = max(1, workers)
        self.time_limit = time_limit
        self.page_seconds = page_seconds
        self.workers: list[_Worker] = []
        self.stalled: dict[str, tuple[int, int]] = {}
        self._finalizer = weakref.finalize(self, _kill_all, self.workers)

    def reading(self) -> tuple[str, int, int]:
        """(path, page, pages) of the file whose OCR page started last, or ("", 0, 0)."""
        busy = [w for w in self.workers if w.job and w.page]
        if not busy:
            return "", 0, 0
        w = max(busy, key=lambda w: w.progressed)
        return w.job or "", w.page, w.pages

    def run(
        self, paths: Iterable[str | tuple[str, str]], poll: float = 0.2
    ) -> Iterator[tuple[str, Extracted | None, str | None]]:
        """Yield (path, extracted, error) as files finish; ("", None, None) on each idle poll
        and each OCR page started. ``paths`` are paths or (path, resume key) pairs."""
        pending = iter(paths)
        exhausted = False
        while True:
            while not exhausted and len([w for w in self.workers if w.job]) < self.size:
                idle = next((w for w in self.workers if w.job is None), None)
                item = next(pending, None)
                if item is None:
                    exhausted = True
                    break
                if idle is None:
                    idle = _Worker(self.start_method)
                    self.workers.append(idle)
                path, key = (item, "") if isinstance(item, str) else item
                idle.start(path, key, self.time_limit, self.page_seconds)
            busy = [w for w in self.workers if w.job]
            if not busy:
                return
            ready = wait([w.conn for w in busy], timeout=poll)
            ticked = False
            for worker in busy:
                if worker.conn in ready:
                    path = worker.job or ""
                    try:
                        status, value = worker.receive()
                    except ChildCrashed:
                        status, value = "error", f"{path}: the reader crashed on this file"
                        self._replace(worker)
                    if status == "note":  # an OCR page started: the limit starts again
                        worker.page, worker.pages = value
                        worker.progressed = time.monotonic()
                        worker.extend(self.time_limit + self.page_seconds)
                        ticked = True
                        continue
                    worker.job = None
                    if status == "ok":
                        yield path, value, None
                    else:
                        yield path, None, value
                elif worker.overdue():
                    path = worker.job or ""
                    page, pages = worker.page, worker.pages
                    self._replace(worker)
                    if page:
                        self.stalled[path] = (page, pages)
                        yield (
                            path,
                            None,
                            f"{path}: reading stopped at page {page} of {pages}, "
                            f"no progress for {self.time_limit + self.page_seconds:.0f} s",
                        )
                    else:
                        yield (
                            path,
                            None,
                            f"{path}: reading took longer than {self.time_limit:.0f} s; "
                            "the file may be damaged or pathological",
                        )
            if not ready or ticked:
                yield "", None, None

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self.workers.remove(worker)

    def close(self) -> None:
        for worker in self.workers:
            if worker.job:
                worker.kill()
            else:
                worker.stop()
        self.workers.clear()
        self._finalizer.detach()


def default_start_method() -> str:
    """fork on Linux (a worker starts in milliseconds, PyMuPDF already imported), else spawn.

    Callers with other threads running (the app, ``--watch``) pass "spawn":
    a forked child would inherit locks those threads hold.
    """
    return "fork" if sys.platform.startswith("linux") else "spawn"


def default_workers(app: bool) -> int:
    """Cores - 1 in the app (the UI keeps one), every core on the command line."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if app else cores


# -- the store's errors: one line saying what is wrong and what to do -------------------------
BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's transaction (one file each)
READ_BUSY_TIMEOUT = 5.0  # readers never wait for writers in WAL, only for a crash recovery
# PRAGMA quick_check at open up to these sizes (0.3-1 ms per MB, warm): a writable open
# (update, add, ask) can rebuild at once; a read-only one (each question in the app) stays fast.
# Larger stores are checked as their pages are read.
QUICK_CHECK_BYTES = 512 * 1024 * 1024
QUICK_CHECK_READ_ONLY_BYTES = 32 * 1024 * 1024
_FULL, _BUSY, _LOCKED, _READONLY, _CORRUPT, _NOTADB = 13, 5, 6, 8, 11, 26
_CANTOPEN, _IOERR, _PERM = 14, 10, 3


class LibraryError(UserError):
    """The library store cannot be used as it is (full disk, locked, read-only, damaged)."""


class LibraryReadOnly(LibraryError):
    """The store or its folder cannot be written: listing and asking still work read-only."""


class LibraryBusy(LibraryError):
    """Another process holds the store's write lock for longer than ``BUSY_TIMEOUT``."""


class LibraryDamaged(LibraryError):
    """SQLite found a damaged page; the next writable open rebuilds the store."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


def _side_files(path: Path) -> tuple[Path, Path]:
    """SQLite's WAL and shared-memory files beside the store (same mode as the store)."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _marker(path: Path) -> Path:
    """Left when a damaged page is met mid-run, so the next writable open rebuilds."""
    return path.with_name(path.name + ".rebuild")


def _writable(path: Path) -> bool:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # made by the first open
    if not os.access(folder, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def _read_only_message(path: Path) -> str:
    return (
        f"{path}: the library is read-only (its file or folder cannot be written); make "
        f"{path.parent} writable to add, remove or update folders (listing and asking work)"
    )


def store_error(exc: sqlite3.Error, path: Path) -> LibraryError | None:
    """The one-line error for a failure of the store; None for one that is a bug of ours.

    A healthy store is never to be removed: only a damaged one is set aside,
    by the library itself.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary == _FULL or "disk is full" in text:
        return LibraryError(
            f"{path}: the disk holding the library is full; free space and run again"
        )
    if primary in (_BUSY, _LOCKED) or "database is locked" in text:
        return LibraryBusy(
            f"{path}: the library is locked by another process (another desktop-qa is "
            "updating it); wait for it or stop it, then run again"
        )
    if primary == _READONLY or "readonly database" in text:
        return LibraryReadOnly(_read_only_message(path))
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text:
        try:
            _marker(path).touch()
        except OSError:
            pass  # a read-only folder: the next open's checks find it again
        return LibraryDamaged(
            f"{path}: the library database is damaged ({text}); it is rebuilt from its "
            "folders by the next 'desktop-qa library update' or ask",
            text,
        )
    if primary in (_CANTOPEN, _IOERR, _PERM):
        return LibraryError(
            f"{path}: the library database cannot be read or written ({text}); check the "
            "disk and the folder's permissions, then run again"
        )
    return None


class _Cursor(sqlite3.Cursor):
    """A cursor whose SQLite failures are ``store_error`` lines (also mid-iteration)."""

    def _fail(self, exc: sqlite3.Error) -> LibraryError | sqlite3.Error:
        return store_error(exc, self.connection.store) or exc  # type: ignore[attr-defined]

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def executemany(self, sql: str, parameters: Any, /) -> _Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def executescript(self, script: str, /) -> _Cursor:
        try:
            return super().executescript(script)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None


class _Connection(sqlite3.Connection):
    """The library's connection: every SQLite failure becomes one ``LibraryError`` line.

    A full disk, a lock held too long, a read-only folder or a damaged page can
    happen at any statement, not only at open; bugs (SQL errors) stay bugs.
    """

    store: Path = Path("library.sqlite")

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _Cursor)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, script: str, /) -> Any:
        return self.cursor().executescript(script)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as exc:
            raise store_error(exc, self.store) or exc from None

    def __exit__(self, *exc: Any) -> Any:
        try:
            return super().__exit__(*exc)
        except sqlite3.Error as error:
            raise store_error(error, self.store) or error from None


# -- the store ---------------------------------------------------------------------------------
class Library:
    """The library database: folders, documents, their content, passages and keyword index.

    One connection, used from one thread at a time (the GUI serialises
    indexing and queries on the library; each command opens its own).
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        """Open (or create) the store; ``read_only`` for listing and asking without updating.

        A damaged store is moved aside and a new one made with the same folders
        (``notice`` says so, in one line); a read-only open refuses it instead.
        LibraryReadOnly when the store cannot be written (read-only callers then
        open with ``read_only=True``).
        """
        self.path = Path(path) if path is not None else database_path()
        self.read_only = read_only
        self.notice: str | None = None  # one line for the user: the library was rebuilt
        if read_only:
            if not self.path.is_file():
                raise UserError(
                    "the library is empty; add a folder with 'desktop-qa library add DIR'"
                )
            self.conn = self._connect_read_only()
            try:
                problem = self._damage()
            except BaseException:
                self.conn.close()
                raise
            if problem is not None:
                self.conn.close()
                raise LibraryDamaged(
                    f"{self.path}: the library database is damaged ({problem}); run "
                    "'desktop-qa library update' to rebuild it from its folders"
                )
        else:
            if not _writable(self.path):
                raise LibraryReadOnly(_read_only_message(self.path))
            problem = None
            try:
                self._connect()
                problem = self._damage()
            except LibraryDamaged as exc:
                problem = exc.reason
            if problem is not None:
                self._rebuild(problem)
        self.index: KeywordIndex = SqliteKeywordIndex(self.conn)

    def _connect(self) -> None:
        """The writable connection (WAL), the store and its folder private (0700/0600)."""
        paths.private_dir(self.path.parent)
        paths.private_file(self.path)  # 0600 before SQLite creates it (its -wal/-shm copy it)
        for side in _side_files(self.path):
            if side.exists():
                paths.private_file(side)  # a library made before the store was private
        self._inode = self.path.stat().st_ino
        self.conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, check_same_thread=False, factory=_Connection
        )
        self.conn.store = self.path
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self._create()
        self.conn.execute("PRAGMA foreign_keys = ON")

    def _connect_read_only(self) -> _Connection:
        """mode=ro; immutable when the folder cannot hold the -shm file (read-only medium).

        Readers never wait for a writer in WAL, so the busy wait is short: only a
        crashed writer's recovery holds them up.
        """
        try:  # a library made before the store was private (0644 in a 0755 folder)
            paths.private_dir(self.path.parent)
            for file in (self.path, *_side_files(self.path)):
                if file.exists():
                    paths.private_file(file)
        except OSError:
            pass  # a read-only medium: nothing can change there
        uri = "file:" + urllib.parse.quote(self.path.absolute().as_posix())
        conn = None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            conn = sqlite3.connect(
                uri + query,
                uri=True,
                timeout=READ_BUSY_TIMEOUT,
                check_same_thread=False,
                factory=_Connection,
            )
            conn.store = self.path
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                break
            except LibraryError:
                conn.close()
                if query.endswith("immutable=1") or _writable(self.path):
                    raise
        assert conn is not None
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _damage(self) -> str | None:
        """Why the store cannot be trusted, or None: cheap checks run at every open.

        An earlier run that met a damaged page left a marker; ``PRAGMA
        quick_check`` reads every page (2.7 ms for a 9.5 MB library of the test
        corpus, 103 ms for 100 MB: docs/performance.md), so a page whose rows are out of order is
        found before it silently loses answers; and the keyword index and the
        passages must agree in number, every indexed document have its content.
        """
        if _marker(self.path).exists():
            return "an earlier run found damaged pages"
        one = self.conn.execute
        if one("SELECT count(*) FROM sqlite_master WHERE name = 'document'").fetchone()[0] == 0:
            return None  # a new store: _create has not run (read-only) or just made it
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        limit = QUICK_CHECK_READ_ONLY_BYTES if self.read_only else QUICK_CHECK_BYTES
        if size <= limit:  # every page's structure: rows out of order read as lost
            result = [r[0] for r in one("PRAGMA quick_check(1)").fetchall()]
            if result != ["ok"]:
                found = " ".join(" ".join(result).replace("*** in database main ***", "").split())
                return found[:120]
        passages = one("SELECT count(*) FROM passage").fetchone()[0]
        indexed = one("SELECT count(*) FROM passage_fts_docsize").fetchone()[0]
        if passages != indexed:
            return f"{passages} passages but {indexed} in the keyword index"
        lost = one(
            "SELECT count(*) FROM document d WHERE d.state = ? AND NOT EXISTS "
            "(SELECT 1 FROM content c WHERE c.hash = d.hash)",
            (INDEXED,),
        ).fetchone()[0]
        if lost:
            return f"the content of {lost} documents is missing"
        return None

    def _rebuild(self, problem: str) -> None:
        """Move the damaged store aside and start a new one with the same folders.

        The documents are all still on disk: the next update reads them again.
        """
        folders: list[tuple[str, float]] = []
        if getattr(self, "conn", None) is not None:
            try:
                folders = list(self.conn.execute("SELECT path, added FROM folder"))
            except (LibraryError, sqlite3.Error):
                folders = []  # the folder table itself is lost
            try:
                self.conn.close()
            except sqlite3.Error:
                pass
        try:
            same = self.path.stat().st_ino == getattr(self, "_inode", None)
        except OSError:
            same = False
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        if same or not hasattr(self, "_inode"):  # else another process has rebuilt it already
            try:
                os.replace(self.path, aside)
                for side, moved in zip(_side_files(self.path), _side_files(aside), strict=True):
                    if side.exists():
                        os.replace(side, moved)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise LibraryError(
                    f"{self.path}: the library database is damaged ({problem}) and cannot be "
                    f"moved aside ({exc.strerror}); move it away to start a new library"
                ) from None
        _marker(self.path).unlink(missing_ok=True)
        self._connect()
        with self.conn:
            self.conn.executemany("INSERT OR IGNORE INTO folder(path, added) VALUES(?, ?)", folders)
        kept = (
            f"with its {len(folders)} folders (their documents are indexed again)"
            if folders
            else "(its folder list was lost: add your folders again)"
        )
        self.notice = (
            f"{self.path} was damaged ({problem}); moved it to {aside.name} and started "
            f"a new library {kept}"
        )

    def _create(self) -> None:
        """Make the tables of a new store; an existing one is only read (no write lock)."""
        one = self.conn.execute
        row = None  # a new store
        if one("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0]:
            row = one("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is not None:
            if int(row[0]) != SCHEMA_VERSION:
                raise LibraryError(
                    f"{self.path} was made by another version of desktop-qa (library schema "
                    f"{row[0]}, this one reads {SCHEMA_VERSION}); use that version, or move "
                    "the file away to start a new library"
                )
            return
        with self.conn:
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
            self.conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS folder(id INTEGER PRIMARY KEY, path TEXT UNIQUE,
                    added REAL);
                CREATE TABLE IF NOT EXISTS content(hash TEXT PRIMARY KEY, kind TEXT,
                    page_sizes TEXT, text BLOB, arrays BLOB);
                CREATE TABLE IF NOT EXISTS document(id INTEGER PRIMARY KEY, path TEXT UNIQUE,
                    size INTEGER, mtime INTEGER, hash TEXT, state TEXT, error TEXT,
                    pages INTEGER DEFAULT 0, indexed REAL);
                CREATE INDEX IF NOT EXISTS document_hash ON document(hash);
                CREATE TABLE IF NOT EXISTS passage(id INTEGER PRIMARY KEY,
                    doc INTEGER REFERENCES document(id), idx INTEGER, start INTEGER,
                    end INTEGER);
                CREATE INDEX IF NOT EXISTS passage_doc ON passage(doc, idx);
                """
            )
            SqliteKeywordIndex.create(self.conn)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES('schema', ?)", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- folders ------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        return [from_db(r[0]) for r in self.conn.execute("SELECT path FROM folder ORDER BY path")]

    def add_folder(self, folder: str | os.PathLike[str]) -> Path:
        """Remember a folder (indexed by the next ``update``); UserError if it is not one."""
        path = Path(folder).expanduser()
        if not path.exists():
            raise UserError(f"{path}: folder not found; check the path and try again")
        if not path.is_dir():
            raise UserError(f"{path} is not a folder; pass a folder of documents")
        path = path.resolve()
        with self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO folder(path, added) VALUES(?, ?)",
                (to_db(str(path)), time.time()),
            )
        return path

    def remove_folder(self, folder: str | os.PathLike[str]) -> int:
        """Forget a folder and every document only it held; returns documents removed."""
        path = str(Path(folder).expanduser().resolve())
        if path not in self.folders():
            raise UserError(f"{path} is not a library folder; see 'desktop-qa library list'")
        with self.conn:
            self.conn.execute("DELETE FROM folder WHERE path = ?", (to_db(path),))
        others = self.folders()
        removed = 0
        for row in self.documents(under=path):
            if not any(_under(row.path, f) for f in others):
                self._remove_document(row.id)
                removed += 1
        return removed

    def covering_folder(self, folder: Path) -> str | None:
        """The library folder that holds ``folder`` (itself or an ancestor), if any."""
        text = str(folder)
        for f in self.folders():
            if _under(text, f):
                return f
        return None

    def folder_rows(self) -> list[FolderRow]:
        out = []
        for f in self.folders():
            counts = dict.fromkeys((INDEXED, FAILED, PENDING), 0)
            for state, n in self.conn.execute(
                "SELECT state, count(*) FROM document WHERE path >= ? AND path < ? GROUP BY state",
                _bounds(f),
            ):
                counts[state] = n
            out.append(FolderRow(f, sum(counts.values()), *counts.values()))
        return out

    # -- documents ----------------------------------------------------------------------------
    def documents(self, *, under: str | None = None, state: str | None = None) -> list[DocumentRow]:
        sql = "SELECT id, path, state, error, pages, size FROM document"
        where: list[str] = []
        args: list[Any] = []
        if under is not None:
            where.append("path >= ? AND path < ?")
            args += _bounds(under)
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.conn.execute(sql + " ORDER BY path", args)
        return [
            DocumentRow(i, from_db(p), st, None if e is None else from_db(e), n, size)
            for i, p, st, e, n, size in rows
        ]

    def load(self, doc_id: int) -> Document:
        """A document as the reader and the highlights need it, from the store (no re-reading)."""
        row = self.conn.execute(
            "SELECT d.path, c.kind, c.page_sizes, c.text, c.arrays FROM document d "
            "JOIN content c ON c.hash = d.hash WHERE d.id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise UserError(f"document {doc_id} is no longer in the library; ask again")
        path, kind, sizes, text_z, arrays_z = row
        path = from_db(path)
        text = zlib.decompress(text_z).decode("utf-8", "surrogatepass")
        doc = Document(path=Path(path), kind=kind, text=text)
        if kind != "text":
            doc.page_sizes = [(float(w), float(h)) for w, h in json.loads(sizes)]
            for name, array in unpack_arrays(arrays_z).items():
                setattr(doc, name, array)
        return doc

    def _text_of(self, content_hash: str) -> str:
        row = self.conn.execute("SELECT text FROM content WHERE hash = ?", (content_hash,))
        blob = row.fetchone()
        return zlib.decompress(blob[0]).decode("utf-8", "surrogatepass") if blob else ""

    def _remove_document(self, doc_id: int) -> None:
        """Drop a document, its passages from the keyword index, and unshared content."""
        row = self.conn.execute("SELECT hash FROM document WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        with self.conn:
            self._unindex(doc_id, row[0])
            self.conn.execute("DELETE FROM document WHERE id = ?", (doc_id,))
            self._drop_content_if_unused(row[0])

    def _unindex(self, doc_id: int, content_hash: str | None) -> None:
        rows = self.conn.execute(
            "SELECT id, start, end FROM passage WHERE doc = ?", (doc_id,)
        ).fetchall()
        if rows and content_hash:
            text = self._text_of(content_hash)
            self.index.remove((pid, text[a:b]) for pid, a, b in rows)
        self.conn.execute("DELETE FROM passage WHERE doc = ?", (doc_id,))

    def _drop_content_if_unused(self, content_hash: str | None) -> None:
        if not content_hash:
            return
        used = self.conn.execute(
            "SELECT 1 FROM document WHERE hash = ? AND state = ? LIMIT 1", (content_hash, INDEXED)
        ).fetchone()
        if used is None:
            self.conn.execute("DELETE FROM content WHERE hash = ?", (content_hash,))

    def _index_document(self, doc_id: int, text: str, passages: Sequence[tuple[int, int]]) -> int:
        cur = self.conn.execute("SELECT coalesce(max(id), 0) FROM passage")
        base = int(cur.fetchone()[0]) + 1
        rows = [(base + i, doc_id, i, a, b) for i, (a, b) in enumerate(passages)]
        self.conn.executemany("INSERT INTO passage VALUES(?, ?, ?, ?, ?)", rows)
        self.index.add((pid, text[a:b]) for pid, _, _, a, b in rows)
        return len(rows)

    def _record(
        self,
        path: str,
        size: int,
        mtime: int,
        content_hash: str,
        state: str,
        error: str | None,
        pages: int,
    ) -> int:
        """Insert or update a document row; returns its id (the caller holds the transaction)."""
        path, error = to_db(path), None if error is None else to_db(error)
        row = self.conn.execute("SELECT id, hash FROM document WHERE path = ?", (path,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO document(path, size, mtime, hash, state, error, pages, indexed) "
                "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                (path, size, mtime, content_hash, state, error, pages, time.time()),
            )
            return int(cur.lastrowid or 0)
        doc_id, old_hash = row
        if old_hash != content_hash or state != INDEXED:
            self._unindex(doc_id, old_hash)
        self.conn.execute(
            "UPDATE document SET size = ?, mtime = ?, hash = ?, state = ?, error = ?, pages = ?, "
            "indexed = ? WHERE id = ?",
            (size, mtime, content_hash, state, error, pages, time.time(), doc_id),
        )
        if old_hash != content_hash:
            self._drop_content_if_unused(old_hash)
        return int(doc_id)

    # -- updating -----------------------------------------------------------------------------
    def update(
        self,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        *,
        workers: int | None = None,
        cancel: Callable[[], bool] | None = None,
        time_limit: float = FILE_TIME_LIMIT,
        start_method: str | None = None,
        retry: bool = False,
        page_seconds: float = PAGE_SECONDS,
    ) -> Generator[IndexProgress, None, IndexReport]:
        """Bring the index up to date with the files under ``folders`` (all by default).

        Yields progress; returns what was done. Each file is committed on its
        own, so cancelling (or killing the process) loses only files in flight.
        A folder that is not there (an unplugged disk) is skipped and its
        documents kept (``report.absent``). Failed files are read again when
        they stopped at the time limit while progressing, or all of them with
        ``retry``. ``page_seconds`` is the OCR limit of one page, as for a document alone.
        """
        started = time.perf_counter()
        report = IndexReport()
        roots = [Path(f).expanduser().resolve() for f in (folders or self.folders())]
        # Absent folders: nothing under them is walked, so nothing is taken as gone.
        report.absent = [str(r) for r in roots if not r.is_dir()]
        roots = [r for r in roots if str(r) not in report.absent]
        known = {
            from_db(r[1]): (r[0], from_db(r[1]), *r[2:])
            for r in self.conn.execute(
                "SELECT id, path, size, mtime, hash, state, error FROM document"
            )
        }
        retrying = {p for p in self._to_retry(retry) if p in known}
        for path in retrying:  # read again even if unchanged
            known[path] = (*known[path][:5], PENDING)
        seen: set[str] = set()
        todo: list[tuple[str, int, int]] = []  # (path, size, mtime) whose content may differ
        within = {*map(str, roots), *self.folders()}  # where a symbolic link may lead
        for root in roots:
            links: list[tuple[str, str]] = []  # leading outside: recorded, never followed
            for file in walk(root, within, links):
                text = str(file)
                if text in seen:
                    continue
                try:
                    st = os.stat(text)
                except OSError:
                    continue
                seen.add(text)
                report.found += 1
                row = known.get(text)
                if (
                    row is not None
                    and row[5] in (INDEXED, FAILED)
                    and row[2] == st.st_size
                    and row[3] == st.st_mtime_ns
                ):
                    report.unchanged += 1
                    continue
                todo.append((text, st.st_size, st.st_mtime_ns))
            for link, reason in links:
                if link in seen:
                    continue
                seen.add(link)
                report.found += 1
                row = known.get(link)
                if row is not None and row[5] == FAILED and not row[4] and row[6] == reason:
                    report.unchanged += 1
                    continue
                try:
                    st = os.lstat(link)
                except OSError:
                    continue
                with self.conn:  # the file it replaced (if any) leaves the index
                    self._record(link, st.st_size, st.st_mtime_ns, "", FAILED, reason, 0)
                report.failed += 1
                report.errors.append((link, reason))
        # Gone from disk (under the folders updated): candidates for moves, else removed.
        gone = {
            p: row
            for p, row in known.items()
            if p not in seen and any(_under(p, str(r)) for r in roots)
        }
        gone_by_hash: dict[str, list[tuple[Any, ...]]] = {}
        for row in gone.values():
            if row[4] and row[5] == INDEXED:
                gone_by_hash.setdefault(row[4], []).append(row)
        extract_list: list[tuple[str, int, int, str]] = []
        total = len(todo)
        done = 0
        yield IndexProgress(0, total, 0, time.perf_counter() - started)
        for path, size, mtime in todo:
            if cancel is not None and cancel():
                report.cancelled = True
                break
            try:
                digest = hash_document(path)
            except (OSError, UserError) as exc:
                why = exc.message if isinstance(exc, UserError) else f"{path}: {exc.strerror}"
                with self.conn:
                    self._record(path, size, mtime, "", FAILED, why, 0)
                report.failed += 1
                report.errors.append((path, why))
                done += 1
                continue
            row = known.get(path)
            if row is not None and row[4] == digest and row[5] in (INDEXED, FAILED):
                # Touched, not changed: only size/mtime are new.
                with self.conn:
                    self.conn.execute(
                        "UPDATE document SET size = ?, mtime = ? WHERE id = ?",
                        (size, mtime, row[0]),
                    )
                report.unchanged += 1
                done += 1
                continue
            moved = gone_by_hash.get(digest)
            if moved and row is None:
                old = moved.pop()
                gone.pop(old[1], None)
                with self.conn:
                    self.conn.execute(
                        "UPDATE document SET path = ?, size = ?, mtime = ? WHERE id = ?",
                        (to_db(path), size, mtime, old[0]),
                    )
                report.reused += 1
                done += 1
                continue
            if self._reuse(path, size, mtime, digest):
                report.reused += 1
                done += 1
                continue
            extract_list.append((path, size, mtime, digest))
        for row in gone.values():
            self._remove_document(row[0])
            report.removed += 1
        report.retried = sum(1 for p, *_ in extract_list if p in retrying)
        if extract_list and not report.cancelled:
            yield from self._extract_all(
                extract_list,
                report,
                done,
                total,
                started,
                cancel,
                workers,
                time_limit,
                start_method,
                page_seconds,
            )
        report.seconds = time.perf_counter() - started
        return report

    def _to_retry(self, every: bool) -> list[str]:
        """Failed files to read again: those stopped while progressing (``pages`` > 0 on a
        failed row is the page reached), or every failed file."""
        rows = self.conn.execute(
            "SELECT path FROM document WHERE state = ? AND (pages > 0 OR ?)", (FAILED, every)
        )
        return [r[0] for r in rows]

    def _reuse(self, path: str, size: int, mtime: int, digest: str) -> bool:
        """A copy of content already in the library: index it without reading the file."""
        row = self.conn.execute(
            "SELECT d.id, d.pages FROM document d JOIN content c ON c.hash = d.hash "
            "WHERE d.hash = ? AND d.state = ? LIMIT 1",
            (digest, INDEXED),
        ).fetchone()
        if row is None:
            return False
        source, pages = row
        spans = self.conn.execute(
            "SELECT start, end FROM passage WHERE doc = ? ORDER BY idx", (source,)
        ).fetchall()
        with self.conn:
            doc_id = self._record(path, size, mtime, digest, INDEXED, None, pages)
            self._unindex(doc_id, digest)
            self._index_document(doc_id, self._text_of(digest), spans)
        return True

    def _extract_all(
        self,
        items: list[tuple[str, int, int, str]],
        report: IndexReport,
        done: int,
        total: int,
        started: float,
        cancel: Callable[[], bool] | None,
        workers: int | None,
        time_limit: float,
        start_method: str | None,
        page_seconds: float = PAGE_SECONDS,
    ) -> Iterator[IndexProgress]:
        meta = {path: (size, mtime, digest) for path, size, mtime, digest in items}
        failed_before = {
            r[0]: int(r[1] or 0)
            for r in self.conn.execute(
                "SELECT path, pages FROM document WHERE state = ?", (FAILED,)
            )
            if r[0] in meta
        }
        method = start_method or default_start_method()
        if method == "fork":
            import pymupdf  # noqa: F401  (imported once here, not in every worker)
        size = min(workers or default_workers(False), len(items))
        pool = WorkerPool(size, time_limit, method, page_seconds)
        try:
            for path, extracted, error in pool.run((p, digest) for p, _, _, digest in items):
                if cancel is not None and cancel():
                    report.cancelled = True
                    break
                if not path:
                    name, page, pages = pool.reading()
                    yield IndexProgress(
                        done,
                        total,
                        report.pages,
                        time.perf_counter() - started,
                        Path(name).name if name else "",
                        page,
                        pages,
                    )
                    continue
                size, mtime, digest = meta[path]
                if extracted is None:
                    reached = 0
                    if path in pool.stalled:  # progressing when stopped: the next update resumes
                        page = pool.stalled[path][0]
                        if page > failed_before.get(path, 0):
                            reached = page
                            error = f"{error}; the next update goes on from there"
                        else:
                            error = f"{error} again; it is read again only when asked"
                    with self.conn:
                        self._record(path, size, mtime, digest, FAILED, error, reached)
                    report.failed += 1
                    report.errors.append((path, error or "could not be read"))
                else:
                    pages = len(extracted.page_sizes)
                    self._store(path, size, mtime, digest, extracted)
                    report.extracted += 1
                    report.pages += pages
                done += 1
                yield IndexProgress(
                    done, total, report.pages, time.perf_counter() - started, Path(path).name
                )
        finally:
            pool.close()

    def _store(self, path: str, size: int, mtime: int, digest: str, ex: Extracted) -> None:
        with self.conn:  # one transaction per file: a kill loses only files in flight
            self.conn.execute(
                "INSERT OR REPLACE INTO content VALUES(?, ?, ?, ?, ?)",
                (digest, ex.kind, json.dumps(ex.page_sizes), ex.text_z, ex.arrays_z),
            )
            doc_id = self._record(path, size, mtime, digest, INDEXED, None, len(ex.page_sizes))
            self._unindex(doc_id, digest)
            self._index_document(doc_id, ex.text, ex.passages)

    # -- figures ------------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        one = self.conn.execute
        return {
            "folders": one("SELECT count(*) FROM folder").fetchone()[0],
            "documents": one("SELECT count(*) FROM document").fetchone()[0],
            "indexed": one("SELECT count(*) FROM document WHERE state = ?", (INDEXED,)).fetchone()[
                0
            ],
            "failed": one("SELECT count(*) FROM document WHERE state = ?", (FAILED,)).fetchone()[0],
            "pages": one("SELECT coalesce(sum(pages), 0) FROM document").fetchone()[0],
            "passages": one("SELECT count(*) FROM passage").fetchone()[0],
        }


# -- asking the library ------------------------------------------------------------------------
class LibraryScope:
    """The library (or the part under one folder) as a ``qa.Scope`` for ``engine.answer``.

    ``source`` is the document's id in the library; documents are decoded
    from the store when a passage of theirs is read, and the last
    ``DOCUMENT_MEMORY`` stay decoded.
    """

    def __init__(self, library: Library, under: str | os.PathLike[str] | None = None) -> None:
        self.library = library
        self.under = None if under is None else str(Path(under).expanduser().resolve())
        self.name = self.under or "library"
        conn = library.conn
        if self.under is None:
            self._docs = conn.execute(
                "SELECT count(*) FROM document WHERE state = ?", (INDEXED,)
            ).fetchone()[0]
            self._passages = conn.execute("SELECT count(*) FROM passage").fetchone()[0]
            self._prefix = None
        else:
            self._prefix = _prefix(self.under)
            bounds = _prefix_bounds(self._prefix)
            self._docs = conn.execute(
                "SELECT count(*) FROM document WHERE state = ? AND path >= ? AND path < ?",
                (INDEXED, *bounds),
            ).fetchone()[0]
            self._passages = conn.execute(
                "SELECT count(*) FROM passage p JOIN document d ON d.id = p.doc "
                "WHERE d.path >= ? AND d.path < ?",
                bounds,
            ).fetchone()[0]
        self._memory: OrderedDict[int, Document] = OrderedDict()

    @property
    def total_passages(self) -> int:
        return int(self._passages)

    @property
    def document_count(self) -> int:
        return int(self._docs)

    def skipped(self) -> list[dict[str, str]]:
        """Files of the scope that could not be indexed, with their one-line reasons."""
        rows = self.library.documents(under=self.under, state=FAILED)
        return [{"document": r.path, "error": r.error or ""} for r in rows]

    def search(self, question: str, limit: int) -> list[Ranked]:
        hits = self.library.index.search(question, limit, self._prefix)
        if not hits:
            return []
        marks = ",".join("?" * len(hits))
        rows = {
            r[0]: r[1:]
            for r in self.library.conn.execute(
                f"SELECT id, doc, idx, start, end FROM passage WHERE id IN ({marks})",
                [h[0] for h in hits],
            )
        }
        out = []
        for pid, score in hits:
            if pid in rows:
                doc, idx, a, b = rows[pid]
                out.append(Ranked(int(doc), Passage(int(idx), int(a), int(b)), score))
        return out

    def passages(self) -> Iterable[Ranked]:
        sql = "SELECT p.doc, p.idx, p.start, p.end FROM passage p"
        args: tuple[str, ...] = ()
        if self._prefix is not None:
            sql += " JOIN document d ON d.id = p.doc WHERE d.path >= ? AND d.path < ?"
            args = _prefix_bounds(self._prefix)
        rows = self.library.conn.execute(sql + " ORDER BY p.doc, p.idx", args).fetchall()
        return (Ranked(int(d), Passage(int(i), int(a), int(b))) for d, i, a, b in rows)

    def document(self, source: int) -> Document:
        doc = self._memory.get(source)
        if doc is not None:
            self._memory.move_to_end(source)
            return doc
        doc = self.library.load(source)
        self._memory[source] = doc
        while len(self._memory) > DOCUMENT_MEMORY:
            self._memory.popitem(last=False)
        return doc

    def close(self) -> None:
        self._memory.clear()


# -- watching ----------------------------------------------------------------------------------
WATCH_POLL = 2.0  # seconds between checks that each watched folder is still there (or back)


def watch_limit_message(folder: str) -> str:
    """What to do when inotify has no watch left (watchdog's OSError ENOSPC)."""
    return (
        f"{folder}: not watched for changes: the system's inotify watch limit is reached; "
        "raise fs.inotify.max_user_watches (e.g. sudo sysctl fs.inotify.max_user_watches=524288)"
        "; watching starts by itself once there is room"
    )


class FolderWatcher:
    """Calls ``on_change()`` (from a watchdog thread) when a supported file under the folders
    is created, modified, moved or deleted, and ``on_status(line)`` when a folder stops or
    starts being watched (gone, back, or no inotify watch left).

    watchdog rather than Qt's QFileSystemWatcher: Qt needs one watch per folder
    (added by hand for every new sub-folder, and silently failing past the
    inotify limit), while watchdog's observers watch a whole tree recursively
    (inotify on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows) and
    work without Qt, so the CLI's ``library update --watch`` uses the same code.

    A watch ends with its folder (deleted, or an unplugged disk), so a thread
    checks every ``poll`` seconds that each folder is there and watched, and
    watches it again when it is back (then calls ``on_change``: files may have
    changed meanwhile). A folder that cannot be watched is tried again there too.
    """

    def __init__(
        self,
        folders: Iterable[str],
        on_change: Callable[[], None],
        on_status: Callable[[str], None] | None = None,
        *,
        poll: float = WATCH_POLL,
    ) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                names = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
                if event.is_directory or any(
                    Path(n).suffix.lower() in SUFFIXES for n in names if n
                ):
                    on_change()

        self.on_change = on_change
        self.on_status = on_status
        self.poll = poll
        self.handler = Handler()
        self.observer = Observer()
        self.observer.daemon = True
        self.observer.start()
        self._watches: dict[str, Any] = {str(f): None for f in folders}
        self._said: dict[str, str] = {}  # folder: the last state reported ("absent", "limit")
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        for folder in self._watches:
            self._check(folder, first=True)
        self._thread = threading.Thread(target=self._keep_watching, daemon=True)
        self._thread.start()

    @property
    def watching(self) -> list[str]:
        """The folders watched now."""
        with self._lock:
            return [f for f, w in self._watches.items() if w is not None]

    def _say(self, folder: str, state: str, line: str) -> None:
        if self._said.get(folder) == state:
            return
        self._said[folder] = state
        if self.on_status is not None:
            self.on_status(line)

    def _alive(self, watch: Any) -> bool:
        return any(e.watch == watch and e.is_alive() for e in self.observer.emitters)

    def _check(self, folder: str, first: bool = False) -> None:
        with self._lock:
            watch = self._watches[folder]
            there = Path(folder).is_dir()
            if watch is not None:
                if there and self._alive(watch):
                    return
                try:
                    self.observer.unschedule(watch)
                except Exception:  # the emitter ended with its folder
                    pass
                self._watches[folder] = None
            if not there:
                self._say(
                    folder,
                    "absent",
                    f"{folder}: folder absent; its documents are kept and watching resumes "
                    "when it is back",
                )
                return
            try:
                self._watches[folder] = self.observer.schedule(self.handler, folder, recursive=True)
            except OSError as exc:
                if exc.errno == 28:  # ENOSPC: "inotify watch limit reached"
                    self._say(folder, "limit", watch_limit_message(folder))
                else:
                    self._say(
                        folder, "error", f"{folder}: not watched for changes ({exc.strerror})"
                    )
                return
            came_back = self._said.pop(folder, None) is not None
        if came_back and not first:
            if self.on_status is not None:
                self.on_status(f"{folder}: watching again")
        if not first:
            self.on_change()  # files may have changed while it was not watched

    def _keep_watching(self) -> None:
        while not self._stopped.wait(self.poll):
            for folder in list(self._watches):
                try:
                    self._check(folder)
                except Exception:  # never let the checker die: try again next time
                    pass

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self.observer.stop()
        self.observer.join(5)
