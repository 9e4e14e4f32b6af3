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

import re
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from desktop_qa.core.search import sentences
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
MAX_TERMS = 32
MAX_SENTENCE = 400  # characters of a run-on "sentence" kept around the question's words

_WORD = re.compile(r"\w+", re.UNICODE)

# Function words and question words: they match nearly every passage, so they
# only dilute bm25. Content words of the question do the ranking.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each either
    else ever every few for from further had has have having he her here hers herself him
    himself his how however i if in into is it its itself just let me might more most much
    must my myself no nor not now of off on once only or other our ours ourselves out over own
    please same shall she should since so some such tell than that the their theirs them
    themselves then there these they this those through thus to too under until up upon us
    very was we were what whatever when whenever where whereas wherever whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves
    s t d ll m re ve
    """.split()
)


@dataclass(frozen=True)
class Hit:
    """A passage that matched, with its bm25 score (higher is better)."""

    passage: int
    score: float


def query_terms(question: str, *, min_length: int = 1) -> list[str]:
    """Content words of a question, lower-cased, de-duplicated, in order."""
    words = [w.lower() for w in _WORD.findall(question)]
    words = [w.strip("_") for w in words]
    content = [w for w in words if w and w not in STOP_WORDS and len(w) >= min_length]
    if not content:  # "Who is it?": better a weak query than none
        content = [w for w in words if w and len(w) >= min_length]
    seen: dict[str, None] = {}
    for w in content:
        seen.setdefault(w, None)
    return list(seen)[:MAX_TERMS]


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


# -- keyword answers ---------------------------------------------------------------------------
def _stem(word: str) -> str:
    """A crude stem for picking a sentence: the first five letters ("terminat" ~ "termin")."""
    return word[:5]


def query_stems(question: str) -> set[str]:
    """Crude stems of the question's content words."""
    return {_stem(t) for t in query_terms(question)}


def word_stems(text: str) -> set[str]:
    """Crude stems of every word of ``text``."""
    return {_stem(w.lower()) for w in _WORD.findall(text)}


def best_sentence(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """The sentence of ``text[start:end]`` that best answers the question's words.

    Keyword answers show a sentence highlighted rather than a whole passage,
    so the user's eye lands on the match, and the reader's first window is
    centred on it. Sentences (abbreviation-aware, ``sentences.split``) score
    by the question's words they hold, how close together those stand and the
    kind of answer asked for (``sentences``); the earliest wins ties.
    """
    keys = {sentences.word_key(t): 1.0 for t in query_terms(question)}
    kind = sentences.question_kind(question)
    best: tuple[int, int] | None = None
    best_score = -1.0
    for a, b in sentences.split(text, start, end):
        piece = text[a:b]
        held = len(sentences.held_keys({w.lower() for w in _WORD.findall(piece)}, keys))
        score = held + (
            sentences.closeness(piece, keys) + sentences.has_kind(kind, piece, keys) if held else 0
        )
        if score > best_score:
            best, best_score = (a, b), score
    if best is None:
        return start, end
    return cut_runon(text, best[0], best[1], query_stems(question))


def cut_runon(text: str, a: int, b: int, stems: set[str]) -> tuple[int, int]:
    """A run-on "sentence" (a table, a list) cut to the MAX_SENTENCE characters around the
    question's words (whole words); a sentence no longer than that, as it is."""
    if b - a <= MAX_SENTENCE:
        return a, b
    end = b
    a = _densest(text, a, b, stems)
    b = min(b, a + MAX_SENTENCE)
    space = text.rfind(" ", a, b)
    b = space if space > a and b < end else b
    return a, b


def _densest(text: str, start: int, end: int, stems: set[str]) -> int:
    """Where a MAX_SENTENCE-character cut of ``text[start:end]`` holds most question words."""
    hits = [
        (m.start(), _stem(m.group().lower()))
        for m in _WORD.finditer(text, start, end)
        if _stem(m.group().lower()) in stems
    ]
    best, best_count = start, 0
    for i, (pos, _) in enumerate(hits):
        left = max(start, pos - MAX_SENTENCE // 4)
        count = len({stem for p, stem in hits[i:] if p < left + MAX_SENTENCE})
        if count > best_count:
            best, best_count = left, count
    if best > start:  # start on a word
        space = text.find(" ", best, end)
        best = space + 1 if 0 <= space < end else best
    return best
