"""The store's tables: made, migrated from an older schema, and checked at every open.

Apart from ``store`` because what a library file must hold (and how to tell it
is damaged) is one job, and what the library does with its folders and
documents is another; both speak SQL to the same connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_qa.core.search.index import SqliteKeywordIndex
from desktop_qa.core.storage import content
from desktop_qa.core.storage.library.connection import (
    QUICK_CHECK_BYTES,
    QUICK_CHECK_READ_ONLY_BYTES,
    LibraryError,
    _marker,
)

SCHEMA_VERSION = 2  # 2: content carries its pipeline version and checksum (core.storage.content)
# Every library of schema 1 was built by pipeline 3 (the library came after it): its content
# is stamped so, and re-read only when the pipeline moves on.
SCHEMA_1_PIPELINE = 3

INDEXED, FAILED, PENDING = "indexed", "failed", "pending"  # a document's state


def create(conn: sqlite3.Connection, path: Path) -> None:
    """Make the tables of a new store; an existing one is only read (no write lock).

    A schema-1 store is migrated in place; LibraryError for one of another version.
    """
    one = conn.execute
    row = None  # a new store
    if one("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0]:
        row = one("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is not None and int(row["value"]) == 1:
        migrate_from_1(conn)
        return
    if row is not None:
        if int(row["value"]) != SCHEMA_VERSION:
            raise LibraryError(
                f"{path} was made by another version of desktop-qa (library schema "
                f"{row['value']}, this one reads {SCHEMA_VERSION}); use that version, or move "
                "the file away to start a new library"
            )
        return
    with conn:
        conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
        conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS folder(id INTEGER PRIMARY KEY, path TEXT UNIQUE,
                added REAL);
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
        content.create_table(conn)
        SqliteKeywordIndex.create(conn)
        conn.execute("INSERT OR IGNORE INTO meta VALUES('schema', ?)", (str(SCHEMA_VERSION),))


def migrate_from_1(conn: sqlite3.Connection) -> None:
    """A schema-1 store gains its content's pipeline and checksum columns (in place)."""
    with conn:
        for statement in content.ADDED_COLUMNS:
            conn.execute(statement)
        conn.execute("UPDATE content SET pipeline = ?", (SCHEMA_1_PIPELINE,))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))


def damage(conn: sqlite3.Connection, path: Path, *, read_only: bool) -> str | None:
    """Why the store cannot be trusted, or None: cheap checks run at every open.

    An earlier run that met a damaged page left a marker; ``PRAGMA
    quick_check`` reads every page (2.7 ms for a 9.5 MB library of the test
    corpus, 103 ms for 100 MB: docs/performance.md), so a page whose rows are out of order is
    found before it silently loses answers; and the keyword index and the
    passages must agree in number, every indexed document have its content.
    """
    if _marker(path).exists():
        return "an earlier run found damaged pages"
    one = conn.execute
    if one("SELECT count(*) FROM sqlite_master WHERE name = 'document'").fetchone()[0] == 0:
        return None  # a new store: ``create`` has not run (read-only) or just made it
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    limit = QUICK_CHECK_READ_ONLY_BYTES if read_only else QUICK_CHECK_BYTES
    if size <= limit:  # every page's structure: rows out of order read as lost
        result = [r[0] for r in one("PRAGMA quick_check(1)").fetchall()]
        if result != ["ok"]:
            found = " ".join(" ".join(result).replace("*** in database main ***", "").split())
            return found[:120]
    passages = one("SELECT count(*) FROM passage").fetchone()[0]
    indexed = SqliteKeywordIndex(conn).size()
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
