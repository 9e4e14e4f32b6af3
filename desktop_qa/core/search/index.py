"""The keyword index (SQLite FTS5, bm25) of a document's or a library's passages.

Reading every window of a 300-page document takes minutes on a laptop CPU;
bm25 over the passages picks the few worth reading first in milliseconds, and
answers on its own when no model pack is installed. The tokenizer was chosen
by measurement (benchmarks/document.py, docs/performance.md): porter stemming
on top of unicode61 finds the passage holding the fact more often than plain
unicode61 or trigram, because questions use other word forms than the text
("When does the lease terminate?" vs "The lease terminates on ...").

One index for both scopes: ``KeywordIndex`` is the interface (add, remove,
search), ``SqliteKeywordIndex`` its engine; ``PassageIndex`` is one
document's passages over it (the document scope), and the library keeps
every document's passages in one (``core.storage.library``).
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from desktop_qa.core.search.keywords import query_terms
from desktop_qa.core.search.passages import Passage

TOKENIZERS = {
    "porter": "porter unicode61 remove_diacritics 2",
    "unicode61": "unicode61 remove_diacritics 2",
    "trigram": "trigram",
}
DEFAULT_TOKENIZER = "porter"
# Passages the reader reads first (benchmarks/document.py: recall@12 on the
# generated 240-fact set is the figure docs/performance.md reports).
TOP_PASSAGES = 12


@dataclass(frozen=True)
class Hit:
    """A passage that matched, with its bm25 score (higher is better)."""

    passage: int
    score: float


def match_expression(question: str, tokenizer: str = DEFAULT_TOKENIZER) -> str | None:
    """An FTS5 MATCH string: every term quoted (so no user text is syntax), OR-ed.

    None when the question has no usable word; bm25 then rewards passages that
    hold more (and rarer) of the terms.
    """
    min_length = 3 if tokenizer == "trigram" else 1  # trigrams need 3 characters
    terms = query_terms(question, min_length=min_length)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class KeywordIndex(Protocol):
    """Where passages are searched by keywords: SQLite here, a search server later.

    The document scope and the library scope both search through it, so the
    reading never depends on the engine behind it.
    """

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        """Index passages given as (passage id, text)."""
        ...

    def remove(self, rows: Iterable[tuple[int, str]]) -> None:
        """Forget passages (the text is needed by a contentless index)."""
        ...

    def search(self, question: str, limit: int, documents: str | None = None) -> list[Hit]:
        """The best ``limit`` passages, best first; ``documents`` a path prefix to search under."""
        ...


# The SQL limiting a search to the documents under a path prefix: the joins from the
# index (aliased ``f``, its rowid the passage id), a condition, and the condition's arguments.
Narrowing = Callable[[str], tuple[str, str, Sequence[Any]]]


class SqliteKeywordIndex:
    """Contentless FTS5 (``passage_fts``) ranked by bm25: the one keyword index engine.

    The text lives once, elsewhere (the document, the library's store); the
    index keeps only terms. ``narrowing`` says how passages map to document
    paths where they can be searched by folder (the library's tables).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        tokenizer: str = DEFAULT_TOKENIZER,
        narrowing: Narrowing | None = None,
    ) -> None:
        self.conn = conn
        self.tokenizer = tokenizer
        self.narrowing = narrowing

    @staticmethod
    def create(conn: sqlite3.Connection, tokenizer: str = DEFAULT_TOKENIZER) -> None:
        """The index's table (kept if it is there)."""
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

    def size(self) -> int:
        """Passages indexed (checked against the passages they stand for)."""
        return int(self.conn.execute("SELECT count(*) FROM passage_fts_docsize").fetchone()[0])

    def check(self) -> None:
        """Touch the FTS5 structure, so a damaged index fails here (sqlite3.Error), not
        mid-question."""
        self.conn.execute("SELECT count(*) FROM passage_fts WHERE passage_fts MATCH 'a'").fetchone()

    def search(self, question: str, limit: int, documents: str | None = None) -> list[Hit]:
        """Never raises on user text: every term is quoted (``match_expression``)."""
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
            if self.narrowing is None:
                raise ValueError("this index does not know where its documents are")
            joins, condition, args = self.narrowing(documents)
            rows = self.conn.execute(
                f"SELECT f.rowid, bm25(passage_fts) AS score FROM passage_fts f {joins} "
                f"WHERE passage_fts MATCH ? AND {condition} ORDER BY score LIMIT ?",
                (expression, *args, int(limit)),
            ).fetchall()
        return [Hit(int(r), -float(s)) for r, s in rows]


class PassageIndex:
    """One document's passages (character spans of Document.text) and their keyword index."""

    def __init__(
        self, conn: sqlite3.Connection, passages: Sequence[Passage], tokenizer: str
    ) -> None:
        self.conn = conn
        self.passages = list(passages)
        self.tokenizer = tokenizer
        self.keywords: KeywordIndex = SqliteKeywordIndex(conn, tokenizer)

    @staticmethod
    def create_schema(conn: sqlite3.Connection, tokenizer: str = DEFAULT_TOKENIZER) -> None:
        """Tables of an index (the text is in Document.text already)."""
        conn.execute("CREATE TABLE passage(id INTEGER PRIMARY KEY, start INTEGER, end INTEGER)")
        SqliteKeywordIndex.create(conn, tokenizer)
        conn.execute("CREATE TABLE index_meta(key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO index_meta VALUES('tokenizer', ?)", (tokenizer,))

    @staticmethod
    def fill(
        conn: sqlite3.Connection,
        text: str,
        passages: Sequence[Passage],
        tokenizer: str = DEFAULT_TOKENIZER,
    ) -> None:
        conn.executemany(
            "INSERT INTO passage VALUES(?, ?, ?)", ((p.index, p.start, p.end) for p in passages)
        )
        SqliteKeywordIndex(conn, tokenizer).add((p.index, text[p.start : p.end]) for p in passages)

    @classmethod
    def build(
        cls,
        text: str,
        passages: Sequence[Passage],
        *,
        tokenizer: str = DEFAULT_TOKENIZER,
    ) -> PassageIndex:
        """An in-memory index (documents that are not cached, tests, comparisons)."""
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        cls.create_schema(conn, tokenizer)
        cls.fill(conn, text, passages, tokenizer)
        conn.commit()
        return cls(conn, passages, tokenizer)

    @classmethod
    def open(cls, path: Path) -> PassageIndex:
        """An index stored in a cache file, opened read-only (raises sqlite3.Error)."""
        uri = "file:" + urllib.parse.quote(Path(path).absolute().as_posix())  # "#", "?", "%"
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
        try:
            row = conn.execute("SELECT value FROM index_meta WHERE key = 'tokenizer'").fetchone()
            if row is None:
                raise sqlite3.DatabaseError("index without its tokenizer")
            tokenizer = row[0]
            rows = conn.execute("SELECT id, start, end FROM passage ORDER BY id").fetchall()
            if tokenizer not in TOKENIZERS or [r[0] for r in rows] != list(range(len(rows))):
                raise sqlite3.DatabaseError("index tables are inconsistent")
            SqliteKeywordIndex(conn, tokenizer).check()
        except Exception:
            conn.close()
            raise
        return cls(conn, [Passage(i, s, e) for i, s, e in rows], tokenizer)

    def search(self, question: str, limit: int = TOP_PASSAGES) -> list[Hit]:
        """The best ``limit`` passages for the question, best first (never raises on user text)."""
        return self.keywords.search(question, limit)

    def close(self) -> None:
        self.conn.close()
