"""Nothing the window says is clipped (issue 26, point 5): with every panel open (the
library with a failed document, the outline, the find bar, the no-model panel, a reading
or indexing line), at 1280x800 and 1920x1080, each visible label's, button's and
column's text fits the room it has, measured with the widget's own font metrics."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QWidget,
)

from desktop_qa.core.reading import engine
from desktop_qa.core.storage.library import IndexProgress, Library
from desktop_qa.gui.indexing import progress_text
from desktop_qa.gui.messages import duration_text
from tests.pdfgen import handbook, page_lines, write_pdf

WAIT = 60000
SIZES = ((1280, 800), (1920, 1080))


def _label_need(label: QLabel) -> tuple[float, float]:
    """(width, height) the label's text needs at its present width, laid out as QLabel does."""
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setDocumentMargin(0)
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(label.text())
    )
    if rich:
        doc.setHtml(label.text())
    else:
        doc.setPlainText(label.text())
    room = label.contentsRect().width() - 2 * label.margin()
    if label.wordWrap():
        doc.setTextWidth(room)
    return doc.idealWidth(), doc.size().height()


def clipped(window: QWidget) -> list[str]:
    """Every visible text that does not fit its widget, each as "kind 'text': why"."""
    out: list[str] = []
    for w in window.findChildren(QWidget):
        if not w.isVisible() or w.width() <= 1:
            continue
        if isinstance(w, QLabel) and w.text() and w.pixmap().isNull():
            need_w, need_h = _label_need(w)
            room = w.contentsRect().width() - 2 * w.margin()
            if need_w > room + 1:
                out.append(f"label {w.text()[:60]!r}: needs {need_w:.0f} px, has {room}")
            elif w.wordWrap() and need_h > w.contentsRect().height() + 2:
                out.append(f"label {w.text()[:60]!r}: needs {need_h:.0f} px high, has {w.height()}")
        elif isinstance(w, (QPushButton, QCheckBox)) and w.text():
            if w.width() < w.sizeHint().width():
                out.append(f"button {w.text()!r}: {w.width()} px of {w.sizeHint().width()}")
        elif isinstance(w, QProgressBar) and w.isTextVisible() and w.text():
            need = w.fontMetrics().horizontalAdvance(w.text())
            if need > w.contentsRect().width() - 4:
                out.append(f"progress {w.text()!r}: needs {need} px, has {w.width()}")
        elif isinstance(w, QComboBox) and w.currentText():
            if w.width() < w.sizeHint().width():
                out.append(f"box {w.currentText()!r}: {w.width()} px of {w.sizeHint().width()}")
        elif isinstance(w, QTreeWidget):
            for column in range(w.columnCount()):
                if w.isColumnHidden(column):
                    continue
                need, has = w.sizeHintForColumn(column), w.columnWidth(column)
                if need > has:
                    title = w.headerItem().text(column)
                    out.append(f"column {title!r}: needs {need} px, has {has}")
    return out


@pytest.fixture
def library_folder(tmp_path: Path) -> Path:
    """A small library: a manual, a document with a long name, and a damaged PDF."""
    folder = tmp_path / "docs"
    folder.mkdir()
    handbook(folder / "manual.pdf", pages=4, answer_page=2)
    write_pdf(folder / "quarterly-report-of-the-finance-committee-2026.pdf", [[page_lines(7)]])
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    with Library() as lib:
        lib.add_folder(folder)
        engine.final(lib.update(workers=1))
    return folder


def test_nothing_is_clipped_with_every_panel_open(qtbot, make_window, handbook_pdf, library_folder):
    window = make_window(size=None)  # no model: the no-model panel and keyword answers
    window.session.load_model()
    qtbot.waitUntil(lambda: window.first_run.isVisibleTo(window), timeout=WAIT)
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    ui = window.library
    qtbot.waitUntil(lambda: not ui.controller.indexing, timeout=WAIT)
    ui.dock.show()
    window.outline.show()
    window.findbar.open_bar()
    assert any(state == "failed" for _p, state, _r in ui.panel.rows())
    # The indexing line, as it reads while a big folder is indexed.
    p = IndexProgress(96, 167, 5400, 40.0, "scan.pdf", 2, 2)
    ui._status(progress_text(p, 33.0))
    ui.panel.indexing(p, 33.0)
    window.show_message("the question is empty; type a question first")
    window.set_busy("Opening quarterly-report-of-the-finance-committee-2026.pdf…")
    window.show_progress(1, 2, "OCR: page 2 of 2 scanned pages")
    for width, height in SIZES:
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width: window.width() == w, timeout=WAIT)
        qtbot.wait(100)
        problems = clipped(window)
        assert not problems, f"at {width}x{height}:\n" + "\n".join(problems)


def test_a_time_is_never_cut_from_its_unit():
    """ "about 33 s)" wraps as one: the number and its unit are joined by a no-break space."""
    for seconds in (1, 33, 89, 600):
        text = duration_text(seconds)
        assert " " not in text and "\u00a0" in text, text
