"""A document's stored content: one format for the document cache and the library.

What extraction makes of a file (its kind, page sizes, text and the
per-character highlight arrays) is stored as one ``content`` row, the same
in a cache entry and in the library's store: the text as zlib'd UTF-8, the
arrays as one zlib'd blob (a JSON header naming each array's dtype, shape
and place, plus the document's ``meta``: outline, page labels, why it cannot
be asked; then the raw bytes), the extraction pipeline's version, and a
sha256 of all of it. Reading checks the checksum, so damage on disk is never
served as a document, and callers compare ``pipeline`` with
``PIPELINE_VERSION``, so content made by an older extraction is made again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_qa.core.documents.document import Document
from desktop_qa.core.documents.formats.citations import CitationMap
from desktop_qa.core.documents.navigation import OutlineEntry

# Bump whenever extraction, passages or the keyword index change: cache entries and
# library content made before are then made again from their files.
# 4: running heads and footers kept out of passages (``furniture``), outline, page labels,
# documents opened for viewing without text (``unanswerable``).
# 5: a converted format's citation map stored with its content (``citations``).
# 6: a line ending in a dash joins the next without a space ("wrong—even").
# 7: spreadsheets: every column, values as shown, each row its own paragraph (no gutter);
# a table row of a converted document is its own paragraph too.
# 8: converted documents: Word read in full with headers and footers as furniture, the
# source's characters for shaped scripts, an e-mail's subject as furniture (formats/).
PIPELINE_VERSION = 8
# The per-document arrays stored beside the text.
ARRAYS = (
    "char_box",
    "char_page",
    "boxes",
    "box_page",
    "box_line",
    "char_x",
    "page_ocr",
    "furniture",
)
# zlib level of the library (a 300-page PDF's 11 MB shrink to 2.4 MB; 0.9 s in a worker).
# The cache writes level 0 (stored blocks): its entries open 50 ms sooner and it holds few.
LEVEL = 6

TABLE = (
    "CREATE TABLE IF NOT EXISTS content(hash TEXT PRIMARY KEY, kind TEXT, page_sizes TEXT, "
    "text BLOB, arrays BLOB, pipeline INTEGER DEFAULT 0, checksum TEXT DEFAULT '')"
)
# Columns a store made before content carried its pipeline and checksum lacks.
ADDED_COLUMNS = (
    "ALTER TABLE content ADD COLUMN pipeline INTEGER DEFAULT 0",
    "ALTER TABLE content ADD COLUMN checksum TEXT DEFAULT ''",
)


class ContentError(ValueError):
    """Stored content that cannot be trusted (damaged, truncated, of another format)."""


@dataclass(frozen=True)
class Stored:
    """A document's content as stored: compressed, versioned, checksummed."""

    kind: str
    page_sizes: str  # JSON [[width, height], ...]
    text: bytes  # zlib of the UTF-8 text (surrogates kept: "surrogatepass")
    arrays: bytes  # zlib of the arrays' header and bytes; b"" in a library's older text rows
    pipeline: int = PIPELINE_VERSION
    checksum: str = ""

    @property
    def current(self) -> bool:
        """Made by this extraction pipeline (else it is to be made again)."""
        return self.pipeline == PIPELINE_VERSION


def _checksum(kind: str, page_sizes: str, text: bytes, arrays: bytes, pipeline: int) -> str:
    digest = hashlib.sha256(f"{pipeline}:{kind}:{len(text)}:{len(arrays)}:".encode())
    for part in (page_sizes.encode(), text, arrays):
        digest.update(part)
    return digest.hexdigest()


def encode(doc: Document, *, level: int = LEVEL) -> Stored:
    """The stored form of a document, zlib ``level`` (read back the same at any level)."""
    header: dict[str, Any] = {}
    chunks: list[bytes] = []
    offset = 0
    for name in ARRAYS:
        a = np.ascontiguousarray(getattr(doc, name))
        data = a.tobytes()
        header[name] = [a.dtype.str, list(a.shape), offset, len(data)]
        chunks.append(data)
        offset += len(data)
    header["meta"] = _meta(doc)
    head = json.dumps(header).encode()
    arrays = zlib.compress(len(head).to_bytes(4, "little") + head + b"".join(chunks), level)
    text = zlib.compress(doc.text.encode("utf-8", "surrogatepass"), level)
    sizes = json.dumps([[float(w), float(h)] for w, h in doc.page_sizes])
    pipeline = PIPELINE_VERSION
    return Stored(
        doc.kind, sizes, text, arrays, pipeline, _checksum(doc.kind, sizes, text, arrays, pipeline)
    )


def verify(stored: Stored, *, unchecked: bool = False) -> None:
    """ContentError unless the checksum matches; ``unchecked``: content stored before it had
    one (a library made by an older version) is accepted without."""
    if not stored.checksum and unchecked:
        return
    expected = _checksum(
        stored.kind, stored.page_sizes, stored.text, stored.arrays, stored.pipeline
    )
    if stored.checksum != expected:
        raise ContentError("stored content fails its checksum")


def text_of(stored: Stored) -> str:
    """The text alone (indexing its passages needs no arrays)."""
    try:
        return zlib.decompress(stored.text).decode("utf-8", "surrogatepass")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ContentError(f"stored text cannot be read ({exc})") from None


def _meta(doc: Document) -> dict[str, Any]:
    """What a document holds beside its text and arrays (only what it has, to stay small)."""
    meta: dict[str, Any] = {}
    if doc.outline:
        meta["outline"] = [[e.level, e.title, e.page] for e in doc.outline]
    if doc.page_labels:
        meta["page_labels"] = list(doc.page_labels)
    if doc.citations is not None:
        meta["citations"] = doc.citations.to_json()
    if doc.unanswerable is not None:
        # The line names the file: stored without its path, which is the opener's again
        # (the same bytes may be opened from another place).
        reason, named = doc.unanswerable, str(doc.path) if doc.path else ""
        if named and reason.startswith(named):
            meta["unanswerable"] = [reason[len(named) :], doc.unanswerable_hint, True]
        else:
            meta["unanswerable"] = [reason, doc.unanswerable_hint, False]
    return meta


def _set_meta(doc: Document, meta: dict[str, Any]) -> None:
    doc.outline = [
        OutlineEntry(int(level), str(title), None if page is None else int(page))
        for level, title, page in meta.get("outline", [])
    ]
    doc.page_labels = [str(label) for label in meta.get("page_labels", [])]
    if "citations" in meta:
        doc.citations = CitationMap.from_json(meta["citations"])
    if "unanswerable" in meta:
        reason, hint, named = meta["unanswerable"]
        prefix = str(doc.path) if named and doc.path else ""
        doc.unanswerable, doc.unanswerable_hint = prefix + str(reason), hint


def _arrays(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    raw = zlib.decompress(blob)
    size = int.from_bytes(raw[:4], "little")
    header = json.loads(raw[4 : 4 + size])
    body = memoryview(raw)[4 + size :]
    out = {}
    for name in ARRAYS:
        if name not in header:  # stored by an older pipeline: the field keeps its default
            continue
        dtype, shape, offset, length = header[name]
        if offset + length > len(body):
            raise ContentError(f"array {name} lies beyond the stored bytes")
        out[name] = np.frombuffer(body[offset : offset + length], np.dtype(dtype)).reshape(shape)
    return out, header.get("meta") or {}


def decode(
    stored: Stored, path: Path | None, content_hash: str = "", *, unchecked: bool = False
) -> Document:
    """The document again, checksum checked (ContentError when it cannot be trusted)."""
    verify(stored, unchecked=unchecked)
    try:
        doc = Document(
            path=path,
            kind=stored.kind,
            text=text_of(stored),
            page_sizes=[(float(w), float(h)) for w, h in json.loads(stored.page_sizes)],
            content_hash=content_hash,
        )
        if stored.arrays:
            arrays, meta = _arrays(stored.arrays)
            for name, array in arrays.items():
                setattr(doc, name, array)
            _set_meta(doc, meta)
    except ContentError:
        raise
    except Exception as exc:  # a header or blob of another format
        raise ContentError(f"stored content cannot be read ({type(exc).__name__})") from None
    return doc


# -- the content table (a cache entry's one row, the library's row per content hash) -----------
def create_table(conn: sqlite3.Connection) -> None:
    conn.execute(TABLE)


def put(conn: sqlite3.Connection, content_hash: str, stored: Stored) -> None:
    """Store (or replace) the content of these bytes; the caller holds the transaction."""
    conn.execute(
        "INSERT OR REPLACE INTO content(hash, kind, page_sizes, text, arrays, pipeline, checksum) "
        "VALUES(?, ?, ?, ?, ?, ?, ?)",
        (
            content_hash,
            stored.kind,
            stored.page_sizes,
            stored.text,
            stored.arrays,
            stored.pipeline,
            stored.checksum,
        ),
    )


def get(conn: sqlite3.Connection, content_hash: str) -> Stored | None:
    """The stored content of these bytes, or None.

    A table of a store made before content carried its pipeline and checksum
    reads as pipeline 0 without a checksum.
    """
    cur = conn.execute("SELECT * FROM content WHERE hash = ?", (content_hash,))
    cur.row_factory = sqlite3.Row
    row = cur.fetchone()
    if row is None:
        return None
    names = row.keys()
    return Stored(
        kind=str(row["kind"]),
        page_sizes=str(row["page_sizes"] or "[]"),
        text=bytes(row["text"]),
        arrays=bytes(row["arrays"] or b""),
        pipeline=int(row["pipeline"] or 0) if "pipeline" in names else 0,
        checksum=str(row["checksum"] or "") if "checksum" in names else "",
    )


def get_text(conn: sqlite3.Connection, content_hash: str) -> str | None:
    """The stored text of these bytes alone (un-indexing its passages needs no arrays)."""
    row = conn.execute("SELECT text FROM content WHERE hash = ?", (content_hash,)).fetchone()
    return None if row is None else text_of(Stored("", "[]", bytes(row[0]), b""))
