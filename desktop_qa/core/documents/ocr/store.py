"""OCR results page by page, so a cancelled or stopped OCR resumes where it ended.

Each page's words are stored as soon as it is read, keyed by the file's hash
and ``OcrOptions.signature`` (a different engine, language data or resolution
never reuses a page); the store is dropped once the whole document is in the
document cache, and at most ``PAGE_STORE_KEEP`` partial ones are kept.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from desktop_qa.core.documents.ocr.layout import Word
from desktop_qa.core.system import files, paths

PAGE_STORE_KEEP = 16  # partial per-page OCR results kept for resuming


class PageStore:
    """Words of every OCR'd page of one file under one signature, written page by page."""

    def __init__(self, key: str, signature: str) -> None:
        tag = hashlib.sha256(signature.encode()).hexdigest()[:12]
        self.path = paths.cache_dir() / "ocr" / f"{key}-{tag}.sqlite"
        self.signature = signature
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is None:
            try:
                paths.private_dir(self.path.parent)  # page text of the owner's documents
                paths.private_file(self.path)
                conn = sqlite3.connect(self.path)
                conn.execute("CREATE TABLE IF NOT EXISTS meta(signature TEXT)")
                conn.execute("CREATE TABLE IF NOT EXISTS page(no INTEGER PRIMARY KEY, words TEXT)")
                row = conn.execute("SELECT signature FROM meta").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES(?)", (self.signature,))
                    conn.commit()
                elif row[0] != self.signature:
                    raise ValueError("foreign entry")
                self._conn = conn
            except (OSError, sqlite3.Error, ValueError):
                self._conn = None
                self.remove()
        return self._conn

    def get(self, page_no: int) -> list[Word] | None:
        if not self.path.is_file():
            return None
        conn = self._open()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT words FROM page WHERE no = ?", (page_no,)).fetchone()
            return [tuple(w) for w in json.loads(row[0])] if row else None  # type: ignore[misc]
        except (sqlite3.Error, ValueError, TypeError):
            return None

    def put(self, page_no: int, words: list[Word]) -> None:
        conn = self._open()
        if conn is None:
            return
        try:
            conn.execute("INSERT OR REPLACE INTO page VALUES(?, ?)", (page_no, json.dumps(words)))
            conn.commit()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def remove(self) -> None:
        self.close()
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass

    @staticmethod
    def prune(keep: int = PAGE_STORE_KEEP) -> None:
        """Drop the oldest partial results beyond ``keep`` files."""
        folder = paths.cache_dir() / "ocr"
        try:
            stores = list(folder.glob("*.sqlite"))
        except OSError:
            return
        files.delete_oldest(stores, max_files=keep)
