"""The library: many folders of documents in one SQLite store, asked as one scope.

* ``Library`` (``update``: a ``Store``, ``store``, kept up to date) is one
  SQLite database (WAL, ``connection``) in the user data folder: the
  folders, every document found in them (path, size, mtime, content hash,
  state, one-line error), each document's extracted text and highlight
  arrays (zlib-compressed, keyed by content hash, so answering and
  highlighting never re-extract), its passages (character offsets) and one
  keyword index over the passages of all documents.
* The keyword index is ``core.search.index``'s, the document scope's too: the
  small ``KeywordIndex`` interface (add / remove / search) over contentless
  FTS5, told here how its passages map to document paths (``_narrow``), so
  a folder is searched alone.
* ``update`` walks folders and indexes what changed, in worker processes
  with a per-file time limit, committing file by file (a killed run loses
  only the files in flight). It is a generator: it yields ``IndexProgress``
  and returns an ``IndexReport``.
* ``LibraryScope`` is a ``qa.Scope`` over the library (or one folder of it),
  so ``engine.answer`` asks a folder exactly as it asks one document.

Why the library keeps extracted content itself: the per-document cache holds
32 entries (512 MB) and re-extracting the documents an answer touches costs
far more than reading them back (docs/performance.md has the figures).

One module per job: ``names`` (paths as stored, folder bounds), ``walk``
(folders, link rules), ``read`` (one found file: confined, hashed,
extracted), ``workers`` (the processes that read), ``connection`` (SQLite
failures as one line), ``store`` (the database), ``update`` (its steps),
``scope`` (asking), ``watch`` (following changes).
"""

from desktop_qa.core.storage.library.connection import (
    BUSY_TIMEOUT,
    LibraryBusy,
    LibraryDamaged,
    LibraryError,
    LibraryReadOnly,
    store_error,
)
from desktop_qa.core.storage.library.names import from_db, to_db
from desktop_qa.core.storage.library.read import Extracted, confined, extract, hash_document
from desktop_qa.core.storage.library.schema import FAILED, INDEXED, PENDING, SCHEMA_VERSION
from desktop_qa.core.storage.library.scope import DOCUMENT_MEMORY, LibraryScope
from desktop_qa.core.storage.library.store import (
    DocumentRow,
    FolderRow,
    Store,
    database_path,
)
from desktop_qa.core.storage.library.update import IndexProgress, IndexReport, Library
from desktop_qa.core.storage.library.walk import LINK_OUTSIDE, SUFFIXES, walk
from desktop_qa.core.storage.library.watch import WATCH_POLL, FolderWatcher, watch_limit_message
from desktop_qa.core.storage.library.workers import (
    FILE_TIME_LIMIT,
    WorkerPool,
    default_start_method,
    default_workers,
)

__all__ = [
    "BUSY_TIMEOUT",
    "DOCUMENT_MEMORY",
    "FAILED",
    "FILE_TIME_LIMIT",
    "INDEXED",
    "LINK_OUTSIDE",
    "PENDING",
    "SCHEMA_VERSION",
    "SUFFIXES",
    "WATCH_POLL",
    "DocumentRow",
    "Extracted",
    "FolderRow",
    "FolderWatcher",
    "IndexProgress",
    "IndexReport",
    "Library",
    "LibraryBusy",
    "LibraryDamaged",
    "LibraryError",
    "LibraryReadOnly",
    "LibraryScope",
    "Store",
    "WorkerPool",
    "confined",
    "database_path",
    "default_start_method",
    "default_workers",
    "extract",
    "from_db",
    "hash_document",
    "store_error",
    "to_db",
    "walk",
    "watch_limit_message",
]
