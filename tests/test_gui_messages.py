"""Messages that fit and go, and a list that says what it shows (issue 26, points 4-5):
an error goes at the next action, counts read as English, a one-document library is
still "the library", the list is in the order of its percentages with no 0% match, each
answer names its place as its citation does, and "Go on reading" keeps the answers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

from PySide6.QtCore import Qt

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.reading.results import Read, no_answer_text
from desktop_qa.gui.results import HTML_ROLE, ResultsPanel, answer_html
from desktop_qa.gui.session import DONE, STOPPED
from tests.gui_helpers import SlowReader

QUESTION = "What is the launch code?"
WAIT = 30000


def _answered(qtbot, make_window, oracle_pack, handbook_pdf, reader=None):  # type: ignore[no-untyped-def]
    window = make_window(reader or Reader(load_pack(oracle_pack)))
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT):
        window.session.ask(QUESTION)
    return window


def test_an_error_goes_at_the_next_action(qtbot, make_window, oracle_pack, handbook_pdf):
    """ "The question is empty" goes once a document is opened; the no-model panel's red
    download error goes once a question is asked."""
    window = make_window(Reader(load_pack(oracle_pack)))
    window.question.clear()
    window.session.ask("")  # Enter on an empty question bar
    assert window.message.isVisibleTo(window) and window.message.text()
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    assert not window.message.isVisibleTo(window)
    window.first_run.reset_download("cannot reach the model hub (no network)")
    assert window.first_run.error.text()
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT):
        window.session.ask(QUESTION)
    assert window.first_run.error.text() == "" and window.first_run.error.isHidden()


def test_counts_read_as_english():
    many = Read(passages=48, windows=60, total_passages=9000, whole_document=True, documents=38)
    assert no_answer_text(many) == "No answer in these 38 documents (read in full)."
    assert "these 38 documents shares" in no_answer_text(many, "keyword")
    one = Read(passages=1, windows=1, total_passages=3, whole_document=False)
    assert no_answer_text(one) == (
        "No answer in the passage that best matches your question (of 3)."
    )


def test_a_one_document_library_is_the_library(qtbot, make_window, oracle_pack, handbook_pdf):
    """Its read-more reads the library deeper, and the button says so ("Read the whole
    document" read the library four times deeper)."""
    window = _answered(qtbot, make_window, oracle_pack, handbook_pdf)
    result = replace(window.session.result, read=replace(window.session.result.read, documents=1))
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 600)
    panel.show_result(result.answers, False, result, more_seconds=12, library=True)
    assert panel.read_button.text().startswith("Read more of the library")
    panel.show_result(result.answers, False, result, more_seconds=12, library=False)
    assert panel.read_button.text().startswith("Read the whole document")


def test_the_list_is_in_the_order_of_its_percentages_without_0_percent(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    """Keyword matches come ranked by bm25 but show the share of the question's words: the
    list puts 100% above 54%, F3 follows the list, and a 0% match is not listed."""
    window = _answered(qtbot, make_window, oracle_pack, handbook_pdf)
    s = window.session
    top = s.result.answers[0]
    a = replace(top, start=top.start + 1, probability=0.54)
    b = replace(top, start=top.start + 2, probability=1.0)
    c = replace(top, start=top.start + 3, probability=0.001)
    s._query_ready(replace(s.result, answers=(a, b, c), mode="keyword"))
    assert [x.probability for x in s.shown.answers] == [1.0, 0.54]
    rows = [window.results.list.item(i).data(HTML_ROLE) for i in range(window.results.list.count())]
    assert len(rows) == 2 and "100%" in rows[0] and "54%" in rows[1]
    assert s.current_answer.probability == 1.0
    s.step(1)
    assert s.current_answer.probability == 0.54
    # A model's candidate below 1% says so, never "0%".
    s._query_ready(replace(s.result, answers=(b, c), mode="reader"))
    rows = [window.results.list.item(i).data(HTML_ROLE) for i in range(window.results.list.count())]
    assert "<1%" in rows[1] and " 0%" not in rows[1]


def test_each_answer_names_its_place_as_its_citation_does(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    from desktop_qa.core.reading import export

    window = _answered(qtbot, make_window, oracle_pack, handbook_pdf)
    top = window.session.result.answers[0]
    slide = replace(top, page=1, location="slide 2")
    row = answer_html(1, slide)
    assert "slide 2" in row and "page 2" not in row and "page 1" not in row
    assert "slide 2" in export.citation(slide.to_json(), "deck.pptx")
    sheet = replace(top, page=None, location='sheet "Budget", row 7, cell B7')
    assert "row 7, cell B7" in answer_html(1, sheet)


def test_go_on_reading_keeps_the_answers_listed(qtbot, make_window, oracle_pack, handbook_pdf):
    """Esc, then "Go on reading": the answers found so far stay listed while it reads."""
    reader = SlowReader(load_pack(oracle_pack))
    reader.delay = 0.05
    window = make_window(reader, exhaustive=True)
    s = window.session
    with qtbot.waitSignal(s.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    s.ask(QUESTION)
    qtbot.waitUntil(lambda: window.results.list.count() > 0, timeout=WAIT)
    qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert s.status == STOPPED
    listed = window.results.texts()
    assert listed
    reader.delay = 0.3  # slow enough to look while it reads on
    window.results.read_button.click()
    assert s.busy and window.results.texts() == listed  # not emptied
    qtbot.wait(200)
    assert window.results.texts()[:1] == listed[:1]
    s.cancel_query()
    assert s.status in (STOPPED, DONE)
