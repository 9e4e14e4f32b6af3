"""The library's SQLite connection, whose every failure is one line saying what is wrong
(full disk, locked, read-only, damaged); bugs (SQL errors) stay bugs.

What to do about a lock or a damaged store is a hint key (``library_busy``,
``library_rebuild``): the CLI names its commands, the app its menus.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from desktop_qa.core.errors import UserError

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

    def __init__(self, message: str, reason: str = "", *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
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
        return LibraryBusy(f"{path}: the library is locked by another process", hint="library_busy")
    if primary == _READONLY or "readonly database" in text:
        return LibraryReadOnly(_read_only_message(path))
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text:
        try:
            _marker(path).touch()
        except OSError:
            pass  # a read-only folder: the next open's checks find it again
        return LibraryDamaged(
            f"{path}: the library database is damaged ({text})", text, hint="library_rebuild"
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
