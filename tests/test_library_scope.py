"""The library scope in-process: what a folder (or the whole library) holds, finds and reads.

Small text files indexed once per test (a fraction of a second), so mutation
testing (docs/testing.md) can run these: ``tests/test_library.py`` checks the
same scope end to end through the CLI and PDFs, more slowly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import engine
from desktop_qa.core.reading.query import Query
from desktop_qa.core.storage.library import FAILED, INDEXED, Library, LibraryScope, extract
from desktop_qa.core.storage.library import scope as library_scope
from desktop_qa.core.storage.library import update as library_update

FILLER = "Nothing of note happens in this paragraph, which talks about the weather. " * 12


def paragraphs(*facts: str) -> str:
    """Paragraphs too long to share a passage: one passage per fact."""
    return "\n\n".join(f"{FILLER}{fact}" for fact in facts) + "\n"


class InProcessPool:
    """The worker pool's interface, each file extracted here: no worker process, so the
    fixture is the same however the test process was started (mutmut runs tests in its own
    process, beside its threads); the pool itself is tested in test_library*.py."""

    stalled: dict[str, tuple[int, int]] = {}

    def __init__(self, *args: object) -> None:
        pass

    def run(self, jobs):  # type: ignore[no-untyped-def]
        for path, _ in jobs:
            try:
                yield path, extract(path), None
            except UserError as exc:
                yield path, None, str(exc)

    def reading(self) -> tuple[str, int, int]:
        return "", 0, 0

    def close(self) -> None:
        pass


@pytest.fixture()
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """docs/a (two notes and a broken PDF), docs/ab (a name extending "a"), docs/top.txt."""
    root = tmp_path / "docs"
    (root / "a").mkdir(parents=True)
    (root / "ab").mkdir()
    (root / "a" / "one.txt").write_text(
        paragraphs("The depot lease ends in May.", "The launch code is Alpha Bravo.")
    )
    (root / "a" / "two.md").write_text(paragraphs("The harbour pilot is Joan.", "Tea at five."))
    (root / "a" / "broken.pdf").write_bytes(b"%PDF-1.7 not really a PDF")
    (root / "ab" / "three.txt").write_text(
        paragraphs("The launch code of the other folder is Charlie Delta.", "Coffee.", "Rain.")
    )
    (root / "top.txt").write_text(paragraphs("The launch code at the top is Echo."))
    monkeypatch.setattr(library_update, "WorkerPool", InProcessPool)
    lib = Library(tmp_path / "library.sqlite")
    lib.add_folder(root)
    report = engine.final(lib.update(workers=1))
    assert (report.extracted, report.failed) == (4, 1), report.errors
    yield lib, root.resolve()
    lib.close()


def texts(scope: LibraryScope, ranked) -> list[str]:  # type: ignore[no-untyped-def]
    return [scope.document(r.source).text[r.passage.start : r.passage.end] for r in ranked]


def name_of(lib: Library, source: int) -> str:
    (row,) = [r for r in lib.documents() if r.id == source]
    return Path(row.path).name


def test_a_folder_counts_only_its_indexed_documents_and_their_passages(library) -> None:
    lib, root = library
    whole = LibraryScope(lib)
    assert whole.name == "library"
    assert (whole.document_count, whole.total_passages) == (4, 2 + 2 + 3 + 1)
    folder = LibraryScope(lib, root / "a")
    assert folder.name == str(root / "a")
    assert (folder.document_count, folder.total_passages) == (2, 4)  # not docs/ab, not broken.pdf
    assert (
        LibraryScope(lib, root / "ab").document_count,
        LibraryScope(lib, root / "ab").total_passages,
    ) == (1, 3)
    assert LibraryScope(lib, root).document_count == 4
    assert (
        LibraryScope(lib, root / "missing").document_count,
        LibraryScope(lib, root / "missing").total_passages,
    ) == (0, 0)


def test_a_folder_is_named_resolved_from_a_home_relative_path(
    library, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, root = library
    monkeypatch.setenv("HOME", str(root))
    scope = LibraryScope(lib, "~/a/../a")
    assert scope.name == str(root / "a")
    assert scope.document_count == 2


def test_skipped_lists_the_failed_files_of_the_scope_with_their_reasons(library) -> None:
    lib, root = library
    (failed,) = LibraryScope(lib, root / "a").skipped()
    assert failed["document"] == str(root / "a" / "broken.pdf")
    assert failed["error"]
    assert LibraryScope(lib).skipped() == [failed]
    assert LibraryScope(lib, root / "ab").skipped() == []
    lib.conn.execute("UPDATE document SET error = NULL WHERE state = ?", (FAILED,))
    assert LibraryScope(lib).skipped() == [{"document": failed["document"], "error": ""}]
    assert [r.state for r in lib.documents(under=str(root / "a"))].count(FAILED) == 1


def test_search_finds_ranks_and_limits_to_the_folder(library) -> None:
    lib, root = library
    everywhere = LibraryScope(lib)
    hits = everywhere.search("What is the launch code?", 10)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score > 0 for h in hits)
    found = texts(everywhere, hits)
    assert all("launch code" in t for t in found)
    assert {name_of(lib, h.source) for h in hits} == {"one.txt", "three.txt", "top.txt"}
    assert len(everywhere.search("What is the launch code?", 2)) == 2

    folder = LibraryScope(lib, root / "a")
    (hit,) = folder.search("What is the launch code?", 10)
    assert name_of(lib, hit.source) == "one.txt"
    assert hit.passage.index == 1  # the second passage of one.txt
    assert texts(folder, [hit])[0].endswith("The launch code is Alpha Bravo.")
    assert folder.search("Who is the harbour pilot?", 10)[0].passage.index == 0
    assert folder.search("Charlie Delta", 10) == []  # in docs/ab only
    assert folder.search("?!", 10) == []


def test_a_passage_lost_from_the_store_is_left_out_not_a_crash(library) -> None:
    lib, root = library
    scope = LibraryScope(lib, root / "a")
    (hit,) = scope.search("launch code", 10)
    lost = lib.conn.execute(
        "SELECT id FROM passage WHERE doc = ? AND idx = ?", (hit.source, hit.passage.index)
    ).fetchone()[0]
    lib.conn.execute("DELETE FROM passage WHERE id = ?", (lost,))  # the index still holds it
    assert scope.search("launch code", 10) == []
    hits = LibraryScope(lib).search("launch code", 10)
    assert len(hits) == 2
    assert {name_of(lib, h.source) for h in hits} == {"three.txt", "top.txt"}


def test_passages_are_every_passage_of_the_folder_in_reading_order(library) -> None:
    lib, root = library
    folder = LibraryScope(lib, root / "a")
    ranked = list(folder.passages())
    names = [name_of(lib, r.source) for r in ranked]
    assert sorted(set(names)) == ["one.txt", "two.md"]
    for name in set(names):
        of_doc = [r.passage for r, n in zip(ranked, names, strict=True) if n == name]
        assert [p.index for p in of_doc] == list(range(len(of_doc)))
        assert [p.start for p in of_doc] == sorted(p.start for p in of_doc)
        assert all(p.end > p.start for p in of_doc)
    assert [r.source for r in ranked] == sorted(r.source for r in ranked)
    assert all(r.score == 0 for r in ranked)
    text = texts(folder, ranked)
    assert sum("Alpha Bravo" in t for t in text) == 1 and sum("Tea at five" in t for t in text) == 1
    assert len(list(LibraryScope(lib).passages())) == LibraryScope(lib).total_passages == 8


def test_documents_are_read_from_the_store_and_a_bounded_number_kept(
    library, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, root = library
    monkeypatch.setattr(library_scope, "DOCUMENT_MEMORY", 2)
    loads: list[int] = []
    real_load = lib.load

    def counting_load(doc_id: int):  # type: ignore[no-untyped-def]
        loads.append(doc_id)
        return real_load(doc_id)

    monkeypatch.setattr(lib, "load", counting_load)
    scope = LibraryScope(lib)
    ids = [r.id for r in lib.documents(state=INDEXED)]
    one, two, three = ids[:3]
    first = scope.document(one)
    assert Path(first.path).name == name_of(lib, one) and "launch code" in first.text
    assert scope.document(one) is first and loads == [one]  # kept decoded
    scope.document(two)
    scope.document(one)  # the most recently used stays ...
    scope.document(three)  # ... and the least recently used (two) goes
    assert loads == [one, two, three]
    assert scope.document(one) is first
    scope.document(two)
    assert loads == [one, two, three, two]
    assert len(scope._memory) == 2
    scope.close()
    scope.document(one)
    assert loads[-1] == one  # closed: decoded again


def test_keyword_answers_from_a_folder_name_its_documents(library) -> None:
    lib, root = library
    result = engine.keyword_answers(LibraryScope(lib, root / "a"), Query("launch code"))
    assert result.answers[0].text == "The launch code is Alpha Bravo."
    assert result.answers[0].document == str(root / "a" / "one.txt")
    assert os.path.dirname(result.answers[0].document) == str(root / "a")
    assert result.read.documents == 2 and result.read.total_passages == 4
    assert result.read.whole_document is True  # the keyword index covers every passage
