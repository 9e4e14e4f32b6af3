"""A new document answers fast: pages with text are asked while scanned pages are OCR'd.

Issue 28 point 8. A generated PDF of four text pages, one of them replaced by
its image-only scan: ``open_document(defer_ocr=True)`` leaves that page out
(``pending_pages``), the answer says so, and the page joins once read
(``complete_document``; ``ask`` does both, and waits for it when the other
pages hold no answer).
"""

from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main
from desktop_qa.core.errors import Cancelled
from desktop_qa.core.reading import engine
from desktop_qa.core.storage import cache, opening
from desktop_qa.core.system.files import sha256_file
from tests import pdfgen
from tests.test_ocr import QUESTION, short_pages

SCANNED = 2  # 0-based: page 3 is the scan


def _mixed(folder: Path, fact_page: int) -> Path:
    """Four text pages (FACT on 1-based ``fact_page``), page 3 swapped for its scan."""
    src = pdfgen.write_pdf(folder / "source.pdf", short_pages(4, fact_page))
    scan = pdfgen.scan_pdf(src, folder / "scan.pdf", dpi=200)
    out = pymupdf.open()
    with pymupdf.open(src) as text, pymupdf.open(scan) as image:
        out.insert_pdf(text, from_page=0, to_page=SCANNED - 1)
        out.insert_pdf(image, from_page=SCANNED, to_page=SCANNED)
        out.insert_pdf(text, from_page=SCANNED + 1, to_page=3)
    path = folder / "mixed.pdf"
    out.save(str(path))
    return path


@pytest.fixture(scope="module")
def fact_on_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _mixed(tmp_path_factory.mktemp("scan-fact"), fact_page=SCANNED + 1)


@pytest.fixture(scope="module")
def fact_on_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _mixed(tmp_path_factory.mktemp("text-fact"), fact_page=1)


def test_deferred_open_leaves_the_scan_out_then_joins_it(fact_on_scan: Path) -> None:
    opened = opening.open_document(fact_on_scan, defer_ocr=True)
    digest = sha256_file(fact_on_scan)
    assert opened.pending_pages == (SCANNED,)
    assert "Alpha Bravo" not in opened.doc.text and opened.doc.text.strip()
    assert opened.doc.page_count == 4  # the page is there to view, without its words yet
    assert not cache.entry_path(digest).exists()  # a partial document is never cached

    whole = opening.complete_document(opened)
    assert whole.pending_pages == ()
    assert "Alpha Bravo" in whole.doc.text
    assert int(whole.doc.page_ocr[SCANNED]) == 1
    assert cache.entry_path(digest).exists()
    # The partial document still answers (a question may be reading it).
    assert "Alpha Bravo" not in opened.doc.text
    # Opened again: whole, from the cache, nothing pending.
    again = opening.open_document(fact_on_scan, defer_ocr=True)
    assert again.pending_pages == () and again.doc.text == whole.doc.text


def test_completing_a_document_reports_progress_is_cancelled_and_keeps_a_whole_one(
    fact_on_scan: Path,
) -> None:
    """What the window passes on (progress, Esc) reaches the deferred OCR's reading."""
    opened = opening.open_document(fact_on_scan, defer_ocr=True)
    with pytest.raises(Cancelled):
        opening.complete_document(opened, cancel=lambda: True)
    assert opened.pending_pages == (SCANNED,)  # still usable, still without the page
    seen: list[tuple[int, int]] = []
    whole = opening.complete_document(
        opened, progress=lambda done, total: seen.append((done, total))
    )
    assert "Alpha Bravo" in whole.doc.text and seen and seen[-1][0] == seen[-1][1]
    assert opening.complete_document(whole) is whole  # nothing pending: nothing to do


def test_a_scan_only_document_is_not_deferred(tmp_path: Path) -> None:
    """With no text to ask, deferring would leave nothing: the pages are OCR'd at once."""
    src = pdfgen.write_pdf(tmp_path / "s.pdf", short_pages(2, 1))
    scan = pdfgen.scan_pdf(src, tmp_path / "scan.pdf", dpi=200)
    opened = opening.open_document(scan, defer_ocr=True)
    assert opened.pending_pages == ()
    assert "Alpha Bravo" in opened.doc.text


def test_answer_from_text_pages_says_which_pages_were_not_read(
    fact_on_text: Path, oracle_pack: Path
) -> None:
    from desktop_qa.core import Query, Reader, load_pack

    reader = Reader(load_pack(oracle_pack))
    with opening.open_document(fact_on_text, defer_ocr=True) as opened:
        result = engine.final(engine.answer(opened, Query(QUESTION), reader))
    assert result.answers and result.answers[0].text == "Alpha Bravo"
    assert result.read.pending_pages == (SCANNED,)
    data = result.to_json()
    assert data["pending_pages"] == [SCANNED + 1]
    assert data["whole_document"] is False  # a page is missing from what was read


def test_ask_answers_from_text_pages_and_caches_the_whole_document(
    fact_on_text: Path, oracle_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ask", str(fact_on_text), QUESTION, "--model", str(oracle_pack), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answers"][0]["text"] == "Alpha Bravo" and out["answers"][0]["page"] == 1
    assert out["pending_pages"] == [SCANNED + 1]
    # The scan was read before the command ended: the next ask has every page.
    assert cache.entry_path(sha256_file(fact_on_text)).exists()
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["pending_pages"] == []
    assert main(argv[:-1]) == 0  # the text table
    assert "not read yet" not in capsys.readouterr().out


def test_ask_waits_for_the_scan_when_the_text_pages_hold_no_answer(
    fact_on_scan: Path, oracle_pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ask", str(fact_on_scan), QUESTION, "--model", str(oracle_pack), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [line for line in captured.err.splitlines() if "untrained" not in line] == []
    assert out["answers"][0]["text"] == "Alpha Bravo"
    assert out["answers"][0]["page"] == SCANNED + 1 and out["answers"][0]["ocr"] is True
    assert out["pending_pages"] == []


def test_text_output_names_the_pages_not_read_yet(
    fact_on_text: Path, oracle_pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(fact_on_text.read_bytes() + b"\n%another copy\n")  # not cached yet
    assert main(["ask", str(copy), QUESTION, "--model", str(oracle_pack)]) == 0
    out = capsys.readouterr().out
    assert "Alpha Bravo" in out
    assert "not read yet: page 3, scanned, still being OCR'd" in out


@pytest.mark.slow  # OCR in a worker, then the question read twice, in the window
def test_the_window_asks_text_pages_first_and_again_once_the_scan_is_read(
    qtbot, make_window, oracle_pack: Path, tmp_path: Path
) -> None:
    """The document opens before its scanned page is read; a question asked meanwhile is
    answered from the other pages, says which page it missed, and is asked again (with
    that page) once it is read."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop_qa.core import Reader, load_pack
    from desktop_qa.core.storage.settings import Settings
    from desktop_qa.gui.session import Session

    mixed = _mixed(tmp_path, fact_page=SCANNED + 1)
    session = Session(Settings(), persist=False)
    window = make_window(Reader(load_pack(oracle_pack)), session=session)
    results: list = []
    session.queryFinished.connect(results.append)
    status: list[str] = []
    session.documentPending.connect(status.append)
    try:
        with qtbot.waitSignal(session.documentLoaded, timeout=60000):
            window.open_file(mixed)
        assert session.document.pending_ocr == (SCANNED,)  # shown before its OCR
        with qtbot.waitSignal(session.documentCompleted, timeout=90000):
            session.ask(QUESTION)
        assert status and "scanned page" in status[0]
        qtbot.waitUntil(lambda: any(r.answers for r in results), timeout=60000)
        # A result made before the scan was read (if the reading ended before) missed it.
        assert all(r.read.pending_pages == (SCANNED,) for r in results if not r.answers)
        final = next(r for r in results if r.answers)
        assert final.read.pending_pages == ()
        assert (final.answers[0].text, final.answers[0].page) == ("Alpha Bravo", SCANNED + 1)
        assert session.document.pending_ocr == () and "Alpha Bravo" in session.document.text
    finally:
        session.shutdown()


def test_a_text_layer_of_unusable_characters_is_ocrd() -> None:
    """More than a tenth of the characters unusable (U+FFFD, controls, private-use glyphs)."""
    from desktop_qa.core.documents.ocr.pages import needs_ocr

    def words(text: str) -> list:
        return [(0.0, 0.0, 1.0, 1.0, w, 0, 0, i) for i, w in enumerate(text.split())]

    clean = "The launch code is Alpha Bravo and it is secret, said the report."
    assert not needs_ocr(None, words(clean), "auto")
    for bad in ("\ufffd", "\x07", "\ue123"):
        garbled = " ".join(w[:-1] + bad * 2 for w in clean.split())
        assert needs_ocr(None, words(garbled), "auto"), repr(bad)
    assert not needs_ocr(None, words(clean.replace("a", "\ufffd", 1)), "auto")  # one stray
    assert not needs_ocr(None, words("\t".join(clean.split())), "auto")  # tabs are fine
