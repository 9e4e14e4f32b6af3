"""Issue 19 in the window: text-less PDFs open, the outline panel, the find bar, page labels."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pymupdf
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader
from desktop_qa.gui.results import HTML_ROLE
from tests.conftest import CORPUS, need_shared
from tests.pdfgen import handbook, page_lines, write_pdf

WAIT = 15000


def _open(qtbot, window, path: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(path)
    qtbot.waitUntil(window.render_idle, timeout=WAIT)


def _drawn(window) -> bool:  # type: ignore[no-untyped-def]
    """The page in view is drawn: some pixel of the page view is not white nor grey."""
    image = window.pdf_view.viewport().grab().toImage()
    page = window.pdf_view.page_rect(window.pdf_view.current_page() - 1).toRect()
    colours = {
        image.pixelColor(x, y).rgb()
        for x in range(max(page.left(), 0), min(page.right(), image.width()), 3)
        for y in range(max(page.top(), 0), min(page.bottom(), image.height()), 3)
    }
    return len(colours) > 2  # more than the white page (and its edge)


# -- 1. a PDF without text opens for viewing ---------------------------------------------------
def test_text_less_pdf_opens_shows_page_one_and_says_why_no_answers(qtbot, make_window):
    path = need_shared(CORPUS / "img-regular.pdf")
    window = make_window(ocr_mode="never")
    _open(qtbot, window, path)
    assert window.viewer.currentWidget() is window.pdf_view
    assert window.pdf_view.current_page() == 1 and _drawn(window)
    header = window.results.header_text()
    assert window.session.opened.unanswerable is not None
    assert "no text layer" in header and "Tools ▸ Settings ▸ OCR" in header and "--" not in header
    with qtbot.waitSignal(window.session.queryFailed, timeout=WAIT) as failed:
        window.session.ask("what is shown?")
    assert failed.args[0] == header  # asking says the same line, in red under the bar


# -- 2. outline panel --------------------------------------------------------------------------
TOC = [[1, "Preface", 1], [1, "Part One", 2], [2, "Chapter 1", 3], [2, "Chapter 2", 5]]


def _outlined(path: Path) -> Path:
    write_pdf(path, [[page_lines(p)] for p in range(6)])
    doc = pymupdf.open(str(path))
    doc.set_toc(TOC)
    doc.saveIncr()
    doc.close()
    return path


def test_outline_f12_arrows_enter_jump_esc_back_and_it_follows_the_page(
    qtbot, make_window, tmp_path
):
    window = make_window()
    _open(qtbot, window, _outlined(tmp_path / "outlined.pdf"))
    outline, view = window.outline, window.pdf_view
    assert not outline.isVisible()
    qtbot.keyClick(window.question, Qt.Key.Key_F12)  # from the question bar, where focus is
    assert outline.isVisible() and outline.tree.hasFocus()
    assert outline.current_title() == "Preface"
    # Down: "Part One", Down: "Chapter 1" (its child, expanded), Down: "Chapter 2".
    for _ in range(3):
        qtbot.keyClick(outline.tree, Qt.Key.Key_Down)
    assert outline.current_title() == "Chapter 2" and view.current_page() == 1
    qtbot.keyClick(outline.tree, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.current_page() == 5, timeout=WAIT)
    assert outline.tree.hasFocus()  # Enter jumps and stays, to pick again
    qtbot.keyClick(outline.tree, Qt.Key.Key_Escape)
    assert view.hasFocus() and outline.isVisible()
    view.go_to_page(3)  # the page scrolls: its section is selected
    assert outline.current_title() == "Chapter 1"
    view.go_to_page(1)
    assert outline.current_title() == "Preface"
    window.toggle_outline()  # F12 from the page: focus into the panel
    assert outline.tree.hasFocus()
    qtbot.keyClick(outline.tree, Qt.Key.Key_F12)  # F12 inside it hides it
    assert not outline.isVisible() and view.hasFocus()


def test_a_document_without_outline_says_so(qtbot, make_window, handbook_pdf):
    window = make_window()
    _open(qtbot, window, handbook_pdf)
    window.toggle_outline()
    tree = window.outline.tree
    assert tree.topLevelItemCount() == 1
    assert tree.topLevelItem(0).text(0) == "No outline in this document"
    qtbot.keyClick(tree, Qt.Key.Key_Return)  # leads nowhere, changes nothing
    assert window.pdf_view.current_page() == 1


def test_an_epub_outline_in_the_panel(qtbot, make_window, tmp_path):
    from tests.test_viewer_core import epub_with_toc

    window = make_window()
    _open(qtbot, window, epub_with_toc(tmp_path))
    window.toggle_outline()
    assert window.outline.tree.topLevelItem(0).text(0) == "Chapter One"
    assert window.outline.current_title() == "Chapter One"


# -- 3. find bar -------------------------------------------------------------------------------
def _words_pdf(path: Path) -> Path:
    """Five pages; "Blue Whale" twice on page 2, once on page 4 (as "BLUE WHALE")."""
    pages = [[page_lines(p, n_lines=20)] for p in range(5)]
    pages[1][0][3] = "the blue whale swims and the blue"
    pages[1][0][4] = "whale sings at night"
    pages[3][0][6] = "a BLUE WHALE is large"
    return write_pdf(path, pages)


def outlined_words_pdf(path: Path) -> Path:
    """Both at once (the X server walk): six pages with the outline, the words on 2, 2, 4."""
    pages = [[page_lines(p)] for p in range(6)]
    pages[1][0][3] = "the blue whale swims and the blue"
    pages[1][0][4] = "whale sings at night"
    pages[3][0][6] = "a BLUE WHALE is large"
    write_pdf(path, pages)
    doc = pymupdf.open(str(path))
    doc.set_toc(TOC)
    doc.saveIncr()
    doc.close()
    return path


def test_find_bar_counts_highlights_every_hit_and_steps_across_pages(
    qtbot, make_window, handbook_pdf, tmp_path
):
    window = make_window()
    bar, view = window.findbar, window.pdf_view
    _open(qtbot, window, _words_pdf(tmp_path / "words.pdf"))
    qtbot.keyClick(window.question, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert bar.active and bar.field.hasFocus()
    qtbot.keyClicks(bar.field, "blue whale")
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bar.count_text() == "1 of 3", timeout=WAIT)
    hits = bar.hits
    assert [h.page for h in hits] == [1, 1, 3]
    strong, light = view.highlights(page=1)
    # The current hit framed, the other one on its page tinted: every hit on the page.
    assert strong == list(hits[0].boxes) and light == list(hits[1].boxes)
    assert view.current_page() == 2
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)  # Enter again: next
    assert bar.count_text() == "2 of 3" and view.highlights(page=1)[0] == list(hits[1].boxes)
    qtbot.keyClick(bar.field, Qt.Key.Key_F3)  # F3 while the bar is open: next match
    assert bar.count_text() == "3 of 3"
    qtbot.waitUntil(lambda: view.current_page() == 4, timeout=WAIT)
    assert view.highlights(page=3)[0] == list(hits[2].boxes)
    qtbot.keyClick(bar.field, Qt.Key.Key_F3)  # wraps
    assert bar.count_text() == "1 of 3"
    qtbot.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count_text() == "3 of 3"
    qtbot.keyClick(bar.field, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count_text() == "2 of 3"
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.active and view.hasFocus()
    assert view.highlights() == ([], [])  # this document has no answers to put back
    bar.field.setText("no such words")
    bar.open_bar()
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bar.count_text() == "No match", timeout=WAIT)
    bar.field.setText("blue whale")
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bar.count_text() == "1 of 3", timeout=WAIT)
    _open(qtbot, window, handbook_pdf)  # another document: the old hits go with the old one
    view.go_to_page(2)
    assert bar.count_text() == "" and view.highlights() == ([], [])


def test_esc_in_the_find_bar_restores_the_answer_highlights(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    window = make_window(Reader(load_pack(oracle_pack)))
    _open(qtbot, window, handbook_pdf)
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT):
        window.session.ask("What is the launch code?")
    answers = window.pdf_view.highlights()
    assert answers[0]
    window.findbar.open_bar()
    qtbot.keyClicks(window.findbar.field, "alpha bravo")
    qtbot.keyClick(window.findbar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.findbar.count_text().endswith(" of 1"), timeout=WAIT)
    assert window.pdf_view.highlights() != answers
    qtbot.keyClick(window.findbar.field, Qt.Key.Key_F3)  # one hit: stays on it
    assert window.session.current == 0  # F3 stepped the hits, not the answers
    qtbot.keyClick(window.findbar.field, Qt.Key.Key_Escape)
    assert window.pdf_view.highlights() == answers
    qtbot.keyClick(window.pdf_view, Qt.Key.Key_F3)  # bar closed: F3 steps answers again
    assert window.session.current == 1


def test_find_bar_in_a_text_file_highlights_its_words(qtbot, make_window, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("First line.\n\nThe ﬁrst whale.\nAnother FIRST one.\n", "utf-8")
    window = make_window()
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(notes)
    assert window.viewer.currentWidget() is window.text_view
    window.menus.find_action.trigger()
    qtbot.keyClicks(window.findbar.field, "first")
    qtbot.keyClick(window.findbar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.findbar.count_text() == "1 of 3", timeout=WAIT)
    text = window.session.document.text
    strong, light = window.text_view.highlights()
    assert [text[a:b].casefold() for a, b in strong + light] == ["first"] * 3
    qtbot.keyClick(window.findbar.field, Qt.Key.Key_F3)
    assert window.text_view.highlights()[0] == [(window.findbar.hits[1].start,
                                                  window.findbar.hits[1].end)]  # fmt: skip


# -- 4. page labels ----------------------------------------------------------------------------
def _labelled(path: Path) -> Path:
    """Six pages labelled i, ii, 1-4; the fact on the fifth page (label "3")."""
    handbook(path, pages=6, answer_page=5, columns=1)
    doc = pymupdf.open(str(path))
    doc.set_page_labels(
        [{"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
         {"startpage": 2, "prefix": "", "style": "D", "firstpagenum": 1}]
    )  # fmt: skip
    doc.saveIncr()
    doc.close()
    return path


def test_page_box_results_and_citation_use_the_printed_label(
    qtbot, make_window, oracle_pack, tmp_path
):
    window = make_window(Reader(load_pack(oracle_pack)))
    _open(qtbot, window, _labelled(tmp_path / "labelled.pdf"))
    box = window.page_box
    assert box.text() == "i" and window.page_count_label.text().strip() == "(1 of 6)"
    window.focus_page()
    qtbot.keyClicks(box, "ii")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pdf_view.current_page() == 2, timeout=WAIT)
    assert box.text() == "ii" and window.page_count_label.text().strip() == "(2 of 6)"
    window.focus_page()
    qtbot.keyClicks(box, "3")  # a label first: page 5, printed "3"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pdf_view.current_page() == 5, timeout=WAIT)
    assert window.page_count_label.text().strip() == "(5 of 6)"
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT):
        window.session.ask("What is the launch code?")
    best = window.session.result.answers[0]
    assert (best.page, best.page_label) == (5, "3")
    assert " · page 3" in window.results.list.item(0).data(HTML_ROLE)
    assert window.copy_citation().endswith("(labelled.pdf, page 3)")
    assert QApplication.clipboard().text().endswith("(labelled.pdf, page 3)")


def test_documents_without_labels_keep_the_page_number(qtbot, make_window, handbook_pdf):
    window = make_window()
    _open(qtbot, window, handbook_pdf)
    assert window.page_box.text() == "1" and window.page_count_label.text().strip() == "of 60"


def _filling(view) -> int:  # type: ignore[no-untyped-def]
    """The 1-based page with the most rows of pixels in the view."""
    height = view.viewport().height()

    def shown(page: int) -> int:
        rect = view.page_rect(page)
        return round(min(rect.bottom(), height) - max(rect.top(), 0.0))

    return max(range(view.page_count), key=shown) + 1


def test_page_box_shows_the_page_jumped_to_else_the_one_filling_the_view(
    qtbot, make_window, tmp_path
):
    window = make_window()
    _open(qtbot, window, _words_pdf(tmp_path / "words.pdf"))  # five pages
    view, box, bar = window.pdf_view, window.page_box, window.findbar
    vbar = view.verticalScrollBar()
    # Scrolled by hand: page 2 fills the lower 60% of the view, page 1 the upper 40%.
    vbar.setValue(int(vbar.value() + view.page_rect(1).top() - 0.4 * view.viewport().height()))
    assert _filling(view) == 2 and box.value() == 2
    # Zoomed out, three pages in view: a find hit on page 4, centred, is the page shown.
    view.set_zoom(0.3)
    vbar.setValue(0)
    assert box.value() == 1
    bar.open_bar()
    qtbot.keyClicks(bar.field, "blue whale")
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bar.count_text() == "1 of 3", timeout=WAIT)
    bar.step(True)
    bar.step(True)
    assert bar.current_hit().page == 3 and box.value() == 4
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    # The last page typed: the view cannot bring it to the top, the box still says it.
    window.focus_page()
    qtbot.keyClicks(box, "5")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert vbar.value() == vbar.maximum() and _filling(view) != 5
    assert box.value() == 5 and view.current_page() == 5
    # Scrolled by hand again: the page filling the view.
    vbar.setValue(vbar.value() - 40)
    assert box.value() == _filling(view) != 5


def test_zoom_keeps_the_spot_in_view_centre_for_keys_mouse_for_the_wheel(
    qtbot, make_window, handbook_pdf
):
    """Zooming in or out leaves the words you were reading where they were.

    The keys (Ctrl+=, Ctrl+-) hold the view's centre; Ctrl+wheel holds the
    point under the mouse; fit width holds the centre's height on the page.
    """
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    window = make_window()
    _open(qtbot, window, handbook_pdf)
    view = window.pdf_view
    view.go_to_page(30)
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() + 200)
    centre = QPointF(view.viewport().width() / 2, view.viewport().height() / 2)

    def spot(at: QPointF) -> tuple[int, float, float]:
        page, point = view.view_to_page(at)
        return page, point.x(), point.y()

    def same(before, after, *, x: bool = True) -> bool:
        tol = 1.0 / view.zoom + 0.5  # a pixel of scroll, in PDF points, and rounding
        return (
            before[0] == after[0]
            and abs(before[2] - after[2]) <= tol
            and (not x or abs(before[1] - after[1]) <= tol)
        )

    ctrl = Qt.KeyboardModifier.ControlModifier
    for key in (Qt.Key.Key_Equal, Qt.Key.Key_Equal, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
        before, zoom = spot(centre), view.zoom
        qtbot.keyClick(window, key, ctrl)
        assert view.zoom != zoom and same(before, spot(centre)), (key, before, spot(centre))
    # Ctrl+wheel over a point left of and above the centre: that point stays.
    mouse = QPointF(view.viewport().width() / 4, view.viewport().height() / 3)
    for delta in (120, -120, -120):
        before = spot(mouse)
        wheel = QWheelEvent(
            mouse,
            view.viewport().mapToGlobal(mouse),
            QPoint(),
            QPoint(0, delta),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.ControlModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view.viewport(), wheel)
        assert same(before, spot(mouse)), (delta, before, spot(mouse))
    before = spot(centre)
    qtbot.keyClick(window, Qt.Key.Key_0, ctrl)
    assert view.fit_width and same(before, spot(centre), x=False), (before, spot(centre))


def test_a_page_that_cannot_be_drawn_says_so_and_the_others_are_drawn(qtbot, make_window, tmp_path):
    """A page MuPDF never finishes (or crashes on) is given up in its child process:

    the window stays live, the page says it could not be drawn, the pages around it
    are drawn, and a screenshot run does not wait for it.
    """
    from desktop_qa.core.documents.render import PageDrawer
    from desktop_qa.gui.pageview import CANNOT_DRAW
    from tests.test_render import CRASHES, HANGS, troubled_job

    window = make_window(size=(900, 1500))
    view = window.pdf_view
    view.renderer.drawer = drawer = PageDrawer(seconds=1.0, job_fn=troubled_job)
    assert drawer.ready(wait=True)  # so every page goes to the child (no warm-up here)
    _open(qtbot, window, _words_pdf(tmp_path / "words.pdf"))
    view.set_zoom(0.25)  # all five pages in view: HANGS (page 3) and CRASHES (page 4) too
    view.verticalScrollBar().setValue(0)
    assert view.visible_pages() == [0, 1, 2, 3, 4]
    assert view.page_rect(4).bottom() < view.viewport().height()
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    assert view.renderer.failed() == {HANGS, CRASHES}
    assert drawer.in_child >= 3 and drawer.here == 0
    assert view.missing_pages() == []
    image = view.viewport().grab().toImage()
    white = QColor(Qt.GlobalColor.white).rgb()
    for page in range(5):
        rect = view.page_rect(page).toRect()
        middle = rect.center().y()

        def inked(rows: range, rect=rect) -> bool:
            return any(
                image.pixelColor(x, y).rgb() != white
                for x in range(rect.left() + 2, rect.right() - 2)
                for y in rows
            )

        # A drawn page has its lines from top to bottom; one not drawn is white but
        # for the one line in its middle that says so.
        away = range(rect.top() + 2, middle - 10)
        if page in (HANGS, CRASHES):
            assert not inked(away) and inked(range(middle - 8, middle + 8)), page
        else:
            assert inked(away), page
    assert CANNOT_DRAW == "This page could not be drawn"


# -- 5. the shortcuts list ---------------------------------------------------------------------
def test_help_lists_the_outline_and_find_keys(make_window):
    rows = dict(make_window().shortcut_rows())
    assert rows["F12"] == "Outline"
    assert rows["Ctrl+Shift+F"] == "Find Words"
    assert rows["Ctrl+F"] == "Question"  # Ctrl+F stays the question bar
    assert "F3 / Shift+F3 (find bar open)" in rows
