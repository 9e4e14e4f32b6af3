"""Asking the library (or one folder of it) as one ``qa.Scope``."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from desktop_qa.core.documents.document import (
    Document,
)
from desktop_qa.core.reading.loop import Ranked
from desktop_qa.core.search.passages import Passage
from desktop_qa.core.storage.library.names import _prefix, _prefix_bounds
from desktop_qa.core.storage.library.store import FAILED, INDEXED, Store

DOCUMENT_MEMORY = 64  # documents a scope keeps decoded (text + arrays) at once


# -- asking the library ------------------------------------------------------------------------
class LibraryScope:
    """The library (or the part under one folder) as a ``qa.Scope`` for ``engine.answer``.

    ``source`` is the document's id in the library; documents are decoded
    from the store when a passage of theirs is read, and the last
    ``DOCUMENT_MEMORY`` stay decoded.
    """

    def __init__(self, library: Store, under: str | os.PathLike[str] | None = None) -> None:
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
            r["id"]: r
            for r in self.library.conn.execute(
                f"SELECT id, doc, idx, start, end FROM passage WHERE id IN ({marks})",
                [h.passage for h in hits],
            )
        }
        out = []
        for hit in hits:
            r = rows.get(hit.passage)
            if r is not None:
                passage = Passage(int(r["idx"]), int(r["start"]), int(r["end"]))
                out.append(Ranked(int(r["doc"]), passage, hit.score))
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
