"""Making an answer is pure: a document carries its citation map and its content hash.

Issue 29 point 1: reading never touches the disk or a converter. An Office
document's citation ("sheet "Budget", row 20, cell C20") comes from the map made
when it was converted and stored with its content, so an answer from a fresh
open, from the cache and from the library is cited with the file gone and the
converter switched off; a library document keeps its content hash.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core import Query, Reader, load_pack
from desktop_qa.core.documents import formats
from desktop_qa.core.reading import engine
from desktop_qa.core.storage import opening
from desktop_qa.core.system.files import sha256_file
from tests import formatgen
from tests.formatgen import ANSWER

CITED = 'sheet "Budget", row 20, cell C20'


def _no_converting(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("an answer converted the file")

    from desktop_qa.core.documents.formats import citations

    monkeypatch.setattr(formats, "convert", refuse)
    monkeypatch.setattr(formats, "open_laid_out", refuse)
    monkeypatch.setattr(citations, "load", refuse)  # no map read from the disk either
    monkeypatch.setattr(formats, "_RECENT", type(formats._RECENT)())  # a fresh process


def _best(opened: engine.OpenedDocument, reader: Reader) -> tuple[str, str | None]:
    result = engine.final(engine.answer(opened, Query("What is the code?"), reader))
    return result.answers[0].text, result.answers[0].location


def test_an_answer_is_cited_without_the_file_or_the_converter(
    tmp_path: Path, oracle_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = Reader(load_pack(oracle_pack))
    path = formatgen.xlsx(tmp_path / "budget.xlsx")
    fresh = opening.open_document(path)
    cached = opening.open_document(path)  # the cache entry the first open stored
    assert fresh.doc.citations is not None and cached.doc.citations is not None
    away = path.rename(tmp_path / "moved.xlsx")
    _no_converting(monkeypatch)
    try:
        assert _best(fresh, reader) == (ANSWER, CITED)
        assert _best(cached, reader) == (ANSWER, CITED)
    finally:
        away.rename(path)


def test_a_library_document_keeps_its_content_hash_and_citations(
    tmp_path: Path, oracle_pack: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from desktop_qa.core.storage.library import Library

    folder = tmp_path / "docs"
    folder.mkdir()
    path = formatgen.xlsx(folder / "budget.xlsx")
    assert main(["library", "add", str(folder), "--json"]) == 0
    capsys.readouterr()
    with Library(read_only=True) as lib:
        row = lib.document_by_path(path)
        assert row is not None
        doc = lib.load(row.id)
    assert doc.content_hash == sha256_file(path)  # no hashing the file again per answer
    assert doc.citations is not None
    _no_converting(monkeypatch)
    argv = ["ask", "--library", "What is the code?", "--model", str(oracle_pack), "--json"]
    assert main(argv) == 0
    best = json.loads(capsys.readouterr().out)["answers"][0]
    assert (best["text"], best["location"]) == (ANSWER, CITED)
