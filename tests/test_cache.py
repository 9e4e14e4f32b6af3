"""Document cache: hits for unchanged bytes, misses for changed ones, never trusts damage."""

from __future__ import annotations

import os
import shutil
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest

from desktop_qa.core.documents.document import Document
from desktop_qa.core.storage import cache, content, opening
from desktop_qa.core.system.files import sha256_file


def same(a: Document, b: Document) -> None:
    assert a.text == b.text and a.kind == b.kind and a.page_sizes == b.page_sizes
    for name in content.ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.fixture
def count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = opening.load_document

    def counting(path, **kwargs):
        calls.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(opening, "load_document", counting)
    return calls


def test_second_open_comes_from_cache(handbook_pdf: Path, tmp_path: Path, count_extractions):
    first = opening.open_document(handbook_pdf).doc
    copy = tmp_path / "renamed.pdf"
    shutil.copy(handbook_pdf, copy)
    pages: list[tuple[int, int]] = []
    second = opening.open_document(copy, progress=lambda d, t: pages.append((d, t))).doc
    assert count_extractions == [handbook_pdf]  # same bytes elsewhere: still a hit
    same(first, second)
    assert second.path == copy and second.content_hash == sha256_file(handbook_pdf)
    assert pages == [(60, 60)]
    assert second.boxes_for(0, 20) == first.boxes_for(0, 20)
    assert list(cache.documents_dir().glob("*.sqlite")) == [cache.entry_path(first.content_hash)]


def test_changed_file_is_read_again(tmp_path: Path, count_extractions):
    path = tmp_path / "notes.txt"
    path.write_text("The lease ends in May.", encoding="utf-8")
    assert opening.open_document(path).doc.text == "The lease ends in May."
    path.write_text("The lease ends in June.", encoding="utf-8")
    assert opening.open_document(path).doc.text == "The lease ends in June."
    assert len(count_extractions) == 2


def damage_text(entry: Path) -> None:
    conn = sqlite3.connect(entry)
    conn.execute("UPDATE content SET text = ?", (zlib.compress(b"The lease ends in 1999."),))
    conn.commit()
    conn.close()


def damage_bytes(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    for i in range(len(data) // 3, len(data), 997):
        data[i] ^= 0xFF
    entry.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [damage_text, damage_bytes, lambda e: e.write_bytes(b"junk")])
def test_corrupt_entry_is_rebuilt(tmp_path: Path, damage, count_extractions):
    path = tmp_path / "notes.txt"
    path.write_text("The lease ends in May.\n\n" * 200, encoding="utf-8")
    opened = opening.open_document(path)
    entry = cache.entry_path(opened.doc.content_hash)
    opened.close()
    damage(entry)
    again = opening.open_document(path)
    assert again.doc.text == "The lease ends in May.\n\n" * 200
    assert len(count_extractions) == 2
    assert cache.load(again.doc.content_hash, path) is not None  # rewritten, valid
    assert again.search("When does the lease end?", 5)


def test_other_pipeline_version_is_ignored(tmp_path, monkeypatch, count_extractions):
    path = tmp_path / "notes.txt"
    path.write_text("Some text.", encoding="utf-8")
    opening.open_document(path)
    monkeypatch.setattr(content, "PIPELINE_VERSION", content.PIPELINE_VERSION + 1)
    opening.open_document(path)
    assert len(count_extractions) == 2
    names = [p.name for p in cache.documents_dir().iterdir()]
    assert names == [f"{sha256_file(path)}-p{content.PIPELINE_VERSION}.sqlite"]


def test_prune_keeps_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    paths = []
    for i in range(5):
        path = tmp_path / f"doc{i}.txt"
        path.write_text(f"Document number {i}.", encoding="utf-8")
        paths.append(path)
    for i, path in enumerate(paths):
        doc = opening.open_document(path).doc
        entry = cache.entry_path(doc.content_hash)
        os.utime(entry, (1000 + i, 1000 + i))
    cache.prune(max_entries=3)
    left = sorted(p.name for p in cache.documents_dir().glob("*.sqlite"))
    expected = sorted(cache.entry_path(sha256_file(p)).name for p in paths[2:])
    assert left == expected
    cache.clear()
    assert not list(cache.documents_dir().glob("*.sqlite"))


def test_ocr_store_and_graph_cache_keep_their_newest(tmp_path: Path):
    """Partial OCR results and optimized graphs stay bounded: the newest few are kept,
    and a graph leaves with its checksum file (a lone .sha256 would never be cleaned)."""
    from desktop_qa.core.documents.ocr import pages as ocr
    from desktop_qa.core.reading import reader
    from desktop_qa.core.system import paths

    def files(folder: Path, suffix: str, n: int) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        made = []
        for i in range(n):
            f = folder / f"f{i}{suffix}"
            f.write_bytes(b"x")
            os.utime(f, (1000 + i, 1000 + i))  # f0 oldest
            made.append(f)
        return made

    stores = files(paths.cache_dir() / "ocr", ".sqlite", 5)
    ocr.PageStore.prune(keep=2)
    assert sorted(p.name for p in (paths.cache_dir() / "ocr").iterdir()) == [
        "f3.sqlite",
        "f4.sqlite",
    ]
    assert not stores[0].exists()

    folder = tmp_path / "graphs"
    graphs = files(folder, ".onnx", reader.SAVED_GRAPHS_KEPT + 2)
    for g in graphs:
        g.with_suffix(".sha256").write_text("{}")
    reader._prune_saved(folder)
    newest = graphs[2:]
    assert sorted(folder.iterdir()) == sorted(
        [*newest, *(g.with_suffix(".sha256") for g in newest)]
    )


def test_unwritable_cache_still_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("DESKTOP_QA_CACHE_DIR", str(blocker))
    path = tmp_path / "notes.txt"
    path.write_text("The lease ends in May.", encoding="utf-8")
    opened = opening.open_document(path)
    assert opened.doc.text == "The lease ends in May."
    assert opened.search("lease end", 5)[0].passage.index == 0


def test_missing_file_is_a_user_error(tmp_path: Path):
    from desktop_qa.core.errors import UserError

    with pytest.raises(UserError, match="not found"):
        opening.open_document(tmp_path / "nope.pdf")
    with pytest.raises(UserError, match="folder"):
        opening.open_document(tmp_path)


def _sidecar(saved: Path) -> dict:
    import json

    return json.loads(saved.with_suffix(".sha256").read_text())


def test_saved_optimized_graph_is_reused_and_rebuilt_when_damaged(oracle_pack: Path):
    from desktop_qa.core import load_pack
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.core.system import paths

    pack = load_pack(oracle_pack)
    Reader(pack, cache_optimized=True)
    (saved,) = (paths.cache_dir() / "models").glob("*.onnx")
    check = saved.with_suffix(".sha256")
    assert _sidecar(saved) == {
        "saved": sha256_file(saved),
        "source": pack.files["model.onnx"],
    }
    written = (saved.stat().st_ino, check.stat().st_mtime_ns)
    os.utime(saved, (1, 1))
    Reader(pack, cache_optimized=True)  # reused: loaded (and touched), not written again
    assert (saved.stat().st_ino, check.stat().st_mtime_ns) == written
    assert saved.stat().st_mtime > 1
    saved.write_bytes(saved.read_bytes()[:-7] + b"garbage")
    reader = Reader(pack, cache_optimized=True)  # damaged: rebuilt, never loaded
    assert _sidecar(saved) == {
        "saved": sha256_file(saved),
        "source": pack.files["model.onnx"],
    }
    windows = reader.windows("code?", [(0, 0, "The code is alpha one bravo.")])
    start, end = reader.run(windows)
    assert start.shape == end.shape and start.max() == 10.0


def _stored_document(conn: sqlite3.Connection) -> Document:
    (digest,) = conn.execute("SELECT hash FROM content").fetchone()
    stored = content.get(conn, digest)
    assert stored is not None
    return content.decode(stored, None)


def damage_text_same_length(entry: Path) -> None:
    """Another text of the same length, well-formed: every passage still lies inside it."""
    conn = sqlite3.connect(entry)
    text = _stored_document(conn).text
    i = len(text) // 2
    changed = text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1 :]
    conn.execute("UPDATE content SET text = ?", (zlib.compress(changed.encode()),))
    conn.commit()
    conn.close()


def damage_array_same_shape(entry: Path) -> None:
    """Highlight boxes moved: same dtype and shape, other values, a well-formed blob."""
    conn = sqlite3.connect(entry)
    doc = _stored_document(conn)
    doc.char_box = doc.char_box ^ 0x55
    conn.execute("UPDATE content SET arrays = ?", (content.encode(doc).arrays,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("damage", [damage_text_same_length, damage_array_same_shape])
def test_entry_that_looks_valid_but_fails_its_checksum_is_rebuilt(
    handbook_pdf: Path, damage, count_extractions
):
    """Only the checksum sees this damage: the entry is well-formed and in bounds."""
    opened = opening.open_document(handbook_pdf)
    first = opened.doc
    entry = cache.entry_path(first.content_hash)
    opened.close()
    damage(entry)
    assert cache.load(first.content_hash, handbook_pdf) is None  # not trusted, deleted
    assert not entry.exists()
    again = opening.open_document(handbook_pdf)
    assert len(count_extractions) == 2
    same(first, again.doc)
    again.close()


def test_cached_unprotected_document_opens_without_pymupdf(handbook_pdf: Path):
    """A cached open of bytes known to need no password skips PyMuPDF (the CLI's fast start),
    and an entry from before that was recorded learns it at its next open."""
    import json
    import subprocess
    import sys

    opened = opening.open_document(handbook_pdf)
    digest = sha256_file(handbook_pdf)
    opened.close()
    entry = cache.entry_path(digest)
    with sqlite3.connect(entry) as conn:  # an entry written before the flag existed
        meta = json.loads(conn.execute("SELECT value FROM doc_meta").fetchone()[0])
        assert meta.pop("protected") is False
        conn.execute("UPDATE doc_meta SET value = ?", (json.dumps(meta),))
    conn.close()
    assert not cache.known_unprotected(digest)
    opening.open_document(handbook_pdf).close()  # checked with PyMuPDF, then recorded
    assert cache.known_unprotected(digest)
    code = (
        "import json, sys; from desktop_qa.cli import main; "
        f"code = main(['ask', {str(handbook_pdf)!r}, 'What is the launch code?', '--json']); "
        "print(json.dumps({'code': code, 'pymupdf': 'pymupdf' in sys.modules}))"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
        )
        .stdout.strip()
        .splitlines()
    )
    answer, state = json.loads(out[0]), json.loads(out[-1])
    assert state == {"code": 0, "pymupdf": False}
    assert answer["answers"], answer


@pytest.mark.parametrize("damage", [damage_text, damage_bytes, lambda e: e.write_bytes(b"junk")])
def test_a_damaged_entry_is_a_miss_and_removed(tmp_path: Path, damage):
    path = tmp_path / "notes.txt"
    path.write_text("The lease ends in May.\n\n" * 200, encoding="utf-8")
    opened = opening.open_document(path)
    digest = opened.doc.content_hash
    opened.close()
    entry = cache.entry_path(digest)
    damage(entry)
    assert cache.load(digest, path) is None
    assert not entry.exists()


def test_a_bug_while_loading_an_entry_is_raised_and_the_entry_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Issue 29.3: a programming error is not a damaged entry (it was deleted as one)."""
    path = tmp_path / "notes.txt"
    path.write_text("The lease ends in May.", encoding="utf-8")
    opened = opening.open_document(path)
    digest = opened.doc.content_hash
    opened.close()

    def buggy(*_args: object, **_kwargs: object) -> Document:
        raise AttributeError("'Stored' object has no attribute 'txt'")

    with monkeypatch.context() as patch:
        patch.setattr(content, "decode", buggy)
        with pytest.raises(AttributeError):
            cache.load(digest, path)
    assert cache.entry_path(digest).is_file()
