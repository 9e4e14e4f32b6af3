"""Per-document cache: extracted text, boxes, passages and keyword index in one SQLite file.

Extracting a 300-page PDF takes seconds; reading the cached result takes
milliseconds, so a document opened before opens at once. An entry is keyed by
the sha256 of the file's bytes (a renamed or moved file still hits, an edited
one misses) and by ``content.PIPELINE_VERSION`` (bump it whenever extraction, passages
or the index change, so stale entries are never read).

An entry also records the OCR settings' signature (``ocr.OcrOptions.signature``:
mode, engine, MuPDF version, a hash of the language data); opening with another
signature is a miss, so a document OCR'd one way is never served for another.

Trust nothing on disk: the text and arrays are stored as ``core.storage.content``
stores them (the library's format too), with the pipeline version and a
sha256 checked on load; anything unreadable, inconsistent or mismatched is deleted
and the document re-extracted. Entries are written to a temporary file and
renamed into place (``os.replace``), so a crash never leaves half an entry.

Size limit: at most ``MAX_ENTRIES`` documents and ``MAX_BYTES`` in all; the
least recently opened entries go first (an entry's mtime is touched on use).
A 300-page PDF takes about 15 MB. A document whose entry would exceed
``MAX_ENTRY_BYTES`` on its own is not stored (it is indexed in memory, and
extracted again on the next open), so the limit holds for every entry.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from desktop_qa.core.documents.document import Document
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.search.index import DEFAULT_TOKENIZER, PassageIndex
from desktop_qa.core.search.passages import Passage
from desktop_qa.core.storage import content
from desktop_qa.core.system import files, paths, portable

MAX_ENTRIES = 32
MAX_BYTES = 512 * 1024 * 1024
MAX_ENTRY_BYTES = MAX_BYTES
SUFFIX = ".sqlite"
LEVEL = 0  # content uncompressed (zlib stored blocks): a cached open is about speed


def documents_dir() -> Path:
    return paths.cache_dir() / "documents"


def entry_path(content_hash: str) -> Path:
    return documents_dir() / f"{content_hash}-p{content.PIPELINE_VERSION}{SUFFIX}"


def _variant(variant: str | None) -> str:
    """The OCR signature an entry was made with; None: the default OCR settings'."""
    return OcrOptions().signature() if variant is None else variant


def _remove(path: Path) -> None:
    files.remove(path)  # open elsewhere (Windows): the next prune or load retries


def load(
    content_hash: str, path: Path, *, variant: str | None = None
) -> tuple[Document, PassageIndex] | None:
    """The cached document and index for these bytes, or None (missing or not trustworthy).

    ``variant`` is the OCR signature; an entry made with another one is a miss
    (and is replaced by the next ``store``).
    """
    entry = entry_path(content_hash)
    variant = _variant(variant)
    if not entry.is_file():
        return None
    index: PassageIndex | None = None
    try:
        index = PassageIndex.open(entry)
        conn = index.conn
        row = conn.execute("SELECT value FROM doc_meta WHERE key = 'doc'").fetchone()
        meta: Any = json.loads(row[0]) if row is not None else None
        if not isinstance(meta, dict):
            raise ValueError("entry without its document's description")
        stored = content.get(conn, content_hash)
        if stored is None or not stored.current or meta.get("content_hash") != content_hash:
            raise ValueError("entry of another pipeline or file")
        if meta.get("variant", "") != variant:
            index.close()  # valid, for other OCR settings: kept until a store replaces it
            return None
        doc = content.decode(stored, path, content_hash)
        if index.passages and index.passages[-1].end > len(doc.text):
            raise ValueError("passages beyond the text")
    except (sqlite3.Error, ValueError, OSError):  # corrupt, truncated, foreign: never trust
        # (ContentError is a ValueError.) Anything else is a bug of ours: it is raised,
        # and the entry, which may be sound, is kept.
        if index is not None:
            index.close()
        _remove(entry)
        return None
    try:
        os.utime(entry)  # most recently used: pruned last
    except OSError:
        pass
    return doc, index


def known_unprotected(content_hash: str) -> bool:
    """True when the entry for these bytes says they open without a password.

    The same bytes are protected or not for good, so an entry written from an
    unprotected open lets ``open_document`` skip opening the file with PyMuPDF
    (about 0.1-0.5 s of import at every CLI start). False when there is no entry,
    it is unreadable, predates the flag or was stored for a protected file.
    """
    entry = entry_path(content_hash)
    try:
        conn = sqlite3.connect(f"{entry.as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, ValueError):
        return False
    try:
        row = conn.execute("SELECT value FROM doc_meta WHERE key = 'doc'").fetchone()
        meta = json.loads(row[0]) if row else {}
        return meta.get("content_hash") == content_hash and meta.get("protected") is False
    except (sqlite3.Error, ValueError, TypeError, AttributeError):
        return False
    finally:
        conn.close()


def mark_unprotected(content_hash: str) -> None:
    """Record in an existing entry that its bytes opened without a password.

    Entries written before the flag existed get it at their next open, so their
    following opens are fast too. Best effort: a read-only cache stays as it is.
    """
    entry = entry_path(content_hash)
    try:
        conn = sqlite3.connect(entry, timeout=0.1)
    except sqlite3.Error:
        return
    try:
        row = conn.execute("SELECT value FROM doc_meta WHERE key = 'doc'").fetchone()
        meta = json.loads(row[0]) if row else None
        if isinstance(meta, dict) and meta.get("content_hash") == content_hash:
            meta["protected"] = False
            with conn:
                conn.execute("UPDATE doc_meta SET value = ? WHERE key = 'doc'", (json.dumps(meta),))
    except (sqlite3.Error, ValueError, TypeError):
        pass
    finally:
        conn.close()


def store(
    doc: Document,
    passages: list[Passage],
    *,
    tokenizer: str = DEFAULT_TOKENIZER,
    variant: str | None = None,
    protected: bool | None = None,
) -> PassageIndex | None:
    """Write the entry for ``doc`` (which must have ``content_hash``); return its index.

    ``protected``: whether the file needed a password (recorded so a later open of
    unprotected bytes need not check; None: not known, checked every time).
    None when the cache folder is not writable: the caller then indexes in memory.
    """
    if not doc.content_hash:
        return None
    arrays_bytes = sum(getattr(doc, name).nbytes for name in content.ARRAYS)
    # Text is stored once and indexed once (FTS5): at least twice its length.
    if 2 * len(doc.text) + arrays_bytes > MAX_ENTRY_BYTES:
        return None
    final = entry_path(doc.content_hash)
    try:
        paths.private_dir(final.parent)  # entries are 0600 (mkstemp), their folder 0700
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=final.parent)
        os.close(fd)
    except OSError:
        return None
    tmp = Path(tmp_name)
    try:
        meta: dict[str, Any] = {"content_hash": doc.content_hash, "variant": _variant(variant)}
        if protected is not None:
            meta["protected"] = protected
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")  # fsync below, once, before the rename
            conn.execute("CREATE TABLE doc_meta(key TEXT PRIMARY KEY, value)")
            conn.execute("INSERT INTO doc_meta VALUES('doc', ?)", (json.dumps(meta),))
            content.create_table(conn)
            content.put(conn, doc.content_hash, content.encode(doc, level=LEVEL))
            PassageIndex.create_schema(conn, tokenizer)
            PassageIndex.fill(conn, doc.text, passages)
            conn.commit()
        finally:
            conn.close()
        if tmp.stat().st_size > MAX_ENTRY_BYTES:
            raise ValueError("entry over the size limit")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        portable.replace(tmp, final)
    except Exception:  # disk full, read-only folder, too large for the cache: index in memory
        _remove(tmp)
        return None
    prune(keep=final)
    try:
        return PassageIndex.open(final)
    except Exception:
        return None


def prune(
    *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, keep: Path | None = None
) -> None:
    """Delete least recently used entries beyond the limits, and stale temporary files."""
    folder = documents_dir()
    try:
        items = list(folder.iterdir())
    except OSError:
        return
    entries: list[Path] = []
    for item in items:
        if item.name.startswith(".tmp-"):
            try:
                stale = item != keep and _older_than(item.stat().st_mtime, 3600)
            except OSError:
                continue
            if stale:
                _remove(item)  # left by a crash
            continue
        if item.suffix != SUFFIX:
            continue
        if not item.name.endswith(f"-p{content.PIPELINE_VERSION}{SUFFIX}"):
            _remove(item)  # written by another pipeline version: never read again
            continue
        entries.append(item)
    files.delete_oldest(entries, max_files=max_entries, max_bytes=max_bytes, keep=keep)


def _older_than(mtime: float, seconds: float) -> bool:
    import time

    return time.time() - mtime > seconds


def clear() -> None:
    """Remove every cached document (a "clear cache" action; tests)."""
    prune(max_entries=0, max_bytes=0)
