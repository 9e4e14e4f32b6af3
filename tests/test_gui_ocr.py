"""The window on a scanned PDF: OCR progress text, the answer highlighted, marked as OCR."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.storage.settings import Settings
from desktop_qa.gui.panels import SettingsDialog
from desktop_qa.gui.results import HTML_ROLE
from desktop_qa.gui.session import Session
from tests import pdfgen
from tests.test_ocr import short_pages

QUESTION = "What is the launch code?"
WAIT = 90000  # OCR of three pages on a busy 2-core machine


@pytest.fixture
def scan3(tmp_path: Path) -> Path:
    src = pdfgen.write_pdf(tmp_path / "src.pdf", short_pages(3, 2, lines=3))
    return pdfgen.scan_pdf(src, tmp_path / "scan.pdf", dpi=200)


def test_scanned_pdf_shows_ocr_progress_and_highlights_the_answer(
    qtbot, make_window, oracle_pack, scan3
):
    session = Session(Settings(), persist=False)
    window = make_window(Reader(load_pack(oracle_pack)), session=session, size=(1000, 760))
    steps: list[tuple[str, str]] = []
    # The bar's text as the user sees it, at each step.
    session.documentStatus.connect(lambda text, *_: steps.append((text, window.progress.format())))
    try:
        with qtbot.waitSignal(session.documentLoaded, timeout=WAIT):
            window.open_file(scan3)
        ocr_steps = [t for t, _ in steps if t.startswith("OCR")]
        assert ocr_steps == [f"OCR: page {i} of 3 scanned pages" for i in (1, 2, 3)]
        # The look for scanned pages comes first, said as such.
        assert steps[0][0] == "Looking for scanned pages"
        assert all(shown == text for text, shown in steps)
        window.focus_question()
        qtbot.keyClicks(window.question, QUESTION)
        with qtbot.waitSignal(session.queryFinished, timeout=WAIT):
            qtbot.keyClick(window.question, Qt.Key.Key_Return)
        best = session.result.answers[0]
        assert (best.text, best.page, best.ocr) == ("Alpha Bravo", 2, True)
        assert "OCR text" in window.results.list.item(0).data(HTML_ROLE)
        strong, _ = window.pdf_view.highlights(page=1)
        assert strong == list(best.boxes) and strong
    finally:
        session.shutdown()


def test_settings_dialog_sets_ocr_mode_and_languages(qtbot):
    dialog = SettingsDialog(Settings(ocr_mode="auto", ocr_languages="eng"))
    qtbot.addWidget(dialog)
    assert dialog.ocr_values() == ("auto", "eng")
    dialog.ocr_mode.setCurrentIndex(dialog.ocr_mode.findData("never"))
    item = dialog.ocr_languages.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert dialog.ocr_values() == ("never", "eng")  # none ticked: English
    assert Settings.from_json({"ocr_mode": "bogus", "ocr_languages": "../x"}).ocr_options() == (
        Settings().ocr_options()
    )


def test_a_scan_with_ocr_off_says_where_to_turn_it_on(qtbot, make_window, scan3):
    """The scan opens and shows its page; the answers panel words the remedy as the
    window's menu, never as a command-line flag (issue 19: every document opens)."""
    window = make_window(ocr_mode="never")
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(scan3)
    message = (
        f"{scan3} has no text layer, only images (a scan?); OCR is off: "
        "turn OCR on (Tools ▸ Settings ▸ OCR) and open it again"
    )
    assert window.viewer.currentWidget() is window.pdf_view
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    assert window.pdf_view.renderer.renders >= 1  # the page is shown
    assert window.results.header_text() == message and "--" not in message
    assert window.last_message is None  # no dialog: the document is there to look at
    with qtbot.waitSignal(window.session.queryFailed, timeout=WAIT) as failed:
        window.session.ask(QUESTION)
    assert failed.args[0] == message


def test_a_scan_with_missing_language_data_opens_and_names_the_setting(qtbot, make_window, scan3):
    """Language data missing: the page is shown; the line says which setting to change."""
    window = make_window(ocr_mode="auto", ocr_languages="xyz")  # no such data installed
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(scan3)
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    assert window.pdf_view.renderer.renders >= 1
    header = window.results.header_text()
    assert "OCR language data for 'xyz' is not installed" in header
    # What an installed app can do: a file in its folder, or the setting (pip: a source install).
    assert "xyz.traineddata in" in header and "pip" not in header
    assert header.endswith(
        "; or tick installed ones (Tools ▸ Settings ▸ OCR languages) and open it again"
    )


def test_a_book_with_a_text_layer_counts_ocr_out_of_its_scanned_pages(
    qtbot, make_window, oracle_pack, tmp_path
):
    """Four pages with a text layer and one scanned: "OCR: page 1 of 1 scanned page", not
    "page 3 of 5"; the bar is as wide as its words (none clipped, the first letter kept)."""
    import pymupdf

    text = pdfgen.write_pdf(tmp_path / "text.pdf", short_pages(5, 2, lines=3))
    scan = pdfgen.scan_pdf(text, tmp_path / "scan.pdf", dpi=200)
    mixed = pymupdf.open(str(text))
    mixed.delete_page(2)
    with pymupdf.open(str(scan)) as scanned:
        mixed.insert_pdf(scanned, from_page=2, to_page=2, start_at=2)
    mixed.save(str(tmp_path / "mixed.pdf"))
    session = Session(Settings(), persist=False)
    window = make_window(Reader(load_pack(oracle_pack)), session=session, size=(1000, 760))
    steps: list[tuple[str, int, int, bool]] = []

    def look(text: str, *_args: object) -> None:
        bar = window.progress
        room = bar.contentsRect().width()
        fits = bar.fontMetrics().horizontalAdvance(bar.text()) <= room
        steps.append((text, bar.value(), bar.maximum(), fits))

    pending: list[str] = []
    session.documentStatus.connect(look)
    session.documentPending.connect(pending.append)
    try:
        # The pages with text open first; the scanned one is read after (issue 28.8),
        # its progress in the status line, counted out of the scanned pages.
        with qtbot.waitSignal(session.documentCompleted, timeout=WAIT):
            window.open_file(tmp_path / "mixed.pdf")
        ocr_lines = [line for line in pending if line.startswith("OCR")]
        assert ocr_lines and ocr_lines[0].startswith("OCR: page 1 of 1 scanned page"), pending
        assert not any("of 5" in line for line in pending + [s[0] for s in steps])
        assert steps[0][0] == "Looking for scanned pages"
        assert all(fits for *_, fits in steps), steps
        assert session.document.page_ocr.tolist() == [0, 0, 1, 0, 0]
    finally:
        session.shutdown()
