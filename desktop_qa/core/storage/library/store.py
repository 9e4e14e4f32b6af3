"""The library's store: folders, documents, their stored content, passages and keyword index.

Its file is opened here (private, WAL, read-only where it must be) and set aside
and rebuilt from its folders when damaged; its tables and their checks are
``schema``'s.
"""

from __future__ import annotations

import os
import sqlite3
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from desktop_qa.core.documents.document import (
    Document,
)
from desktop_qa.core.errors import UserError
from desktop_qa.core.search.index import KeywordIndex, SqliteKeywordIndex
from desktop_qa.core.storage import content
from desktop_qa.core.storage.content import ContentError
from desktop_qa.core.storage.library.connection import (
    BUSY_TIMEOUT,
    READ_BUSY_TIMEOUT,
    LibraryDamaged,
    LibraryError,
    LibraryReadOnly,
    _Connection,
    _marker,
    _read_only_message,
    _side_files,
    _writable,
)
from desktop_qa.core.storage.library.names import _bounds, _prefix_bounds, _under, from_db, to_db
from desktop_qa.core.storage.library.schema import FAILED, INDEXED, PENDING, create, damage
from desktop_qa.core.system import paths, portable


def database_path() -> Path:
    """The one library of this user, in the data folder (``DESKTOP_QA_DATA_DIR`` moves it)."""
    return paths.data_dir() / "library.sqlite"


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


def _narrow(prefix: str) -> tuple[str, str, tuple[str, str]]:
    """How the keyword index keeps to the documents whose stored path starts with ``prefix``."""
    return (
        "JOIN passage p ON p.id = f.rowid JOIN document d ON d.id = p.doc",
        "d.path >= ? AND d.path < ?",
        _prefix_bounds(prefix),
    )


# -- the store ---------------------------------------------------------------------------------
class Store:
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
                raise UserError("the library is empty", hint="library_empty")
            self.conn = self._connect_read_only()
            try:
                problem = damage(self.conn, self.path, read_only=self.read_only)
            except BaseException:
                self.conn.close()
                raise
            if problem is not None:
                self.conn.close()
                raise LibraryDamaged(
                    f"{self.path}: the library database is damaged ({problem})",
                    hint="library_update",
                )
        else:
            if not _writable(self.path):
                raise LibraryReadOnly(_read_only_message(self.path))
            problem = None
            try:
                self._connect()
                problem = damage(self.conn, self.path, read_only=self.read_only)
            except LibraryDamaged as exc:
                problem = exc.reason
            if problem is not None:
                self._rebuild(problem)
        self.index: KeywordIndex = SqliteKeywordIndex(self.conn, narrowing=_narrow)

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
        self.conn.row_factory = sqlite3.Row  # rows are read by name
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        create(self.conn, self.path)
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
            conn.row_factory = sqlite3.Row  # rows are read by name
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

    def _rebuild(self, problem: str) -> None:
        """Move the damaged store aside and start a new one with the same folders.

        The documents are all still on disk: the next update reads them again.
        """
        folders: list[tuple[str, float]] = []
        if getattr(self, "conn", None) is not None:
            try:
                rows = self.conn.execute("SELECT path, added FROM folder")
                folders = [(r["path"], r["added"]) for r in rows]
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

    def close(self) -> None:
        """Close the connection (a writer's WAL is checkpointed by SQLite)."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- folders ------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        """The folders the library holds, as added (sorted)."""
        rows = self.conn.execute("SELECT path FROM folder ORDER BY path")
        return [from_db(r["path"]) for r in rows]

    def add_folder(self, folder: str | os.PathLike[str]) -> Path:
        """Remember a folder (indexed by the next ``update``); UserError if it is not one."""
        path = Path(folder).expanduser()
        if not path.exists():
            raise UserError(f"{path}: folder not found; check the path and try again")
        if not path.is_dir():
            raise UserError(f"{path} is not a folder; pass a folder of documents")
        path = path.resolve()
        known = self._folder_as_added(str(path))
        if known is not None:  # C:\Docs added again as c:\docs (Windows, macOS): one folder
            return Path(known)
        with self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO folder(path, added) VALUES(?, ?)",
                (to_db(str(path)), time.time()),
            )
        return path

    def remove_folder(self, folder: str | os.PathLike[str]) -> int:
        """Forget a folder and every document only it held; returns documents removed.

        One transaction: a kill or Ctrl+C at any moment leaves the library as it was
        before (SQLite rolls the unfinished removal back at the next open) or after,
        never a folder gone with its documents still listed and answerable.
        """
        path = str(Path(folder).expanduser().resolve())
        path = self._folder_as_added(path) or path  # c:\docs for C:\Docs (Windows, macOS)
        if path not in self.folders():
            raise UserError(f"{path} is not a library folder", hint="library_folders")
        removed = 0
        with self.conn:
            self.conn.execute("DELETE FROM folder WHERE path = ?", (to_db(path),))
            others = self.folders()
            for row in self.documents(under=path):
                if not any(_under(row.path, f) for f in others):
                    self._drop_document(row.id)
                    removed += 1
        return removed

    def covering_folder(self, folder: Path) -> str | None:
        """The library folder that holds ``folder`` (itself or an ancestor), if any."""
        for f in self.folders():
            if portable.is_under(folder, f):
                return f
        return None

    def spelt_as_added(self, folder: Path) -> Path:
        """``folder`` with the part a library folder covers spelt as that folder was added
        (``c:\\docs\\sub`` -> ``C:\\Docs\\sub`` on Windows and macOS), so its documents keep
        their stored paths; ``folder`` itself when no library folder holds it."""
        covering = self.covering_folder(folder)
        if covering is None:
            return folder
        rest = str(folder)[len(covering.rstrip(os.sep)) :].lstrip(os.sep)
        return Path(covering) / rest if rest else Path(covering)

    def _folder_as_added(self, folder: str) -> str | None:
        """The library folder ``folder`` names, spelt as added: without case on Windows and
        macOS, whose file systems ignore it (``portable.path_key``)."""
        key = portable.path_key(folder)
        return next((f for f in self.folders() if portable.path_key(f) == key), None)

    def folder_rows(self) -> list[FolderRow]:
        """Each folder with its documents counted by state (``library list``, the panel)."""
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
        """Documents by path, those ``under`` a folder or in one ``state`` (failed only)."""
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
            DocumentRow(
                r["id"],
                from_db(r["path"]),
                r["state"],
                None if r["error"] is None else from_db(r["error"]),
                r["pages"],
                r["size"],
            )
            for r in rows
        ]

    def document_by_path(self, path: str | os.PathLike[str]) -> DocumentRow | None:
        """The row of the document stored at ``path`` (as found, not resolved), or None:
        the window opens a library answer's document by the path the answer names."""
        r = self.conn.execute(
            "SELECT id, path, state, error, pages, size FROM document WHERE path = ?",
            (to_db(os.fspath(path)),),
        ).fetchone()
        if r is None:
            return None
        error = None if r["error"] is None else from_db(r["error"])
        return DocumentRow(r["id"], from_db(r["path"]), r["state"], error, r["pages"], r["size"])

    def load(self, doc_id: int) -> Document:
        """A document as the reader and the highlights need it, from the store (no re-reading)."""
        row = self.conn.execute(
            "SELECT path, hash FROM document WHERE id = ?", (doc_id,)
        ).fetchone()
        stored = None if row is None else content.get(self.conn, row["hash"])
        if stored is None:
            raise UserError(f"document {doc_id} is no longer in the library; ask again")
        path = from_db(row["path"])
        try:  # content stored by a version without checksums is read as it is
            # With its content hash: answers cite it without hashing the file again.
            return content.decode(stored, Path(path), str(row["hash"]), unchecked=True)
        except ContentError as exc:
            try:
                _marker(self.path).touch()
            except OSError:
                pass
            raise LibraryDamaged(
                f"{self.path}: the library's stored content of {path} is damaged ({exc})",
                str(exc),
                hint="library_rebuild",
            ) from None

    def _text_of(self, content_hash: str) -> str:
        return content.get_text(self.conn, content_hash) or ""

    def _remove_document(self, doc_id: int) -> None:
        """Drop a document, its passages from the keyword index, and unshared content
        (one transaction)."""
        with self.conn:
            self._drop_document(doc_id)

    def _drop_document(self, doc_id: int) -> None:
        """``_remove_document`` inside the caller's transaction."""
        row = self.conn.execute("SELECT hash FROM document WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        self._unindex(doc_id, row["hash"])
        self.conn.execute("DELETE FROM document WHERE id = ?", (doc_id,))
        self._drop_content_if_unused(row["hash"])

    def _unindex(self, doc_id: int, content_hash: str | None) -> None:
        rows = self.conn.execute(
            "SELECT id, start, end FROM passage WHERE doc = ?", (doc_id,)
        ).fetchall()
        if rows and content_hash:
            text = self._text_of(content_hash)
            self.index.remove((r["id"], text[r["start"] : r["end"]]) for r in rows)
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
        doc_id, old_hash = row["id"], row["hash"]
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
    # -- figures ------------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """Counts of the whole library: documents by state, pages, passages."""
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
