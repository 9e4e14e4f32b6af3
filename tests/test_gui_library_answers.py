"""A library answer in the window: its page drawn before its highlight, citations naming
its document (copy, Markdown, CSV, JSON)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import json
from pathlib import Path

from PySide6.QtGui import QImage

from desktop_qa.gui.library import SCOPE_LIBRARY
from tests.test_gui_library import QUESTION, WAIT, add_and_wait, folder, template, window

__all__ = ["folder", "template", "window"]  # fixtures


def edge_pixels(image: QImage) -> int:
    """Pixels of the current answer's orange frame (STRONG_EDGE over white or grey)."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if c.red() > 200 and 80 < c.green() < 150 and c.blue() < 60:
                count += 1
    return count


def ask_library(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    s = window.session
    window.library.scope_library()
    assert window.library.scope == SCOPE_LIBRARY
    window.question.setText(QUESTION)
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT):
        window.answers.submit(False)


def test_a_library_answer_opens_its_page_drawn_then_framed(qtbot, window, folder):
    add_and_wait(qtbot, window, folder)
    s = window.session
    seen: list[tuple[list[int], int]] = []

    def on_loaded(_doc: object) -> None:  # after the window's own slot: shown, highlighted
        view = window.pdf_view
        seen.append((view.missing_pages(), edge_pixels(view.viewport().grab().toImage())))

    s.answerDocumentLoaded.connect(on_loaded)
    ask_library(qtbot, window)
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    missing, framed = seen[0]
    assert missing  # the page is not drawn yet ...
    assert framed == 0  # ... so no box is drawn over it
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    assert edge_pixels(window.pdf_view.viewport().grab().toImage()) > 20  # drawn, then framed


def test_library_citations_name_the_document_in_every_format(qtbot, window, folder, tmp_path):
    add_and_wait(qtbot, window, folder)
    ask_library(qtbot, window)
    s = window.session
    answer = s.current_answer
    name = Path(answer.document).name
    assert name in ("manual.pdf", "memo.pdf")
    assert window.copy_citation() == f"“{answer.text}” ({name}, page {answer.page})"
    window.session.step(1)  # the next answer, another document: its own name
    other = s.current_answer
    text = window.copy_citation()
    assert f"({Path(other.document).name}, page {other.page})" in text
    names = {Path(a.document).name for a in s.result.answers}
    md, table, js = tmp_path / "a.md", tmp_path / "a.csv", tmp_path / "a.json"
    for path in (md, table, js):
        assert window.export_answers(path)
    markdown = md.read_text("utf-8")
    assert all(n in markdown for n in names)
    rows = list(csv.DictReader(table.open(encoding="utf-8", newline="")))
    assert {Path(r["document"]).name for r in rows} == names
    data = json.loads(js.read_text("utf-8"))
    assert {Path(a["document"]).name for a in data["answers"]} == names
