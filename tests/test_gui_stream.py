"""One question at a time: answers shown as read, cleared on a new question, kept on Esc."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.gui.session import DONE, READING, STOPPED
from tests.gui_helpers import SlowReader

QUESTION = "What is the launch code?"
WAIT = 20000


def slow_window(qtbot, make_window, oracle_pack, handbook_pdf, delay=0.05):  # type: ignore[no-untyped-def]
    reader = SlowReader(load_pack(oracle_pack))
    reader.delay = delay
    window = make_window(reader, exhaustive=True)  # the whole document: a long reading
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    return window, reader


def answered_then_slow(qtbot, make_window, oracle_pack, handbook_pdf):  # type: ignore[no-untyped-def]
    """A window that answered QUESTION once (its final result), then reads slowly, so a
    test can feed a next reading's partial results by hand."""
    window, reader = slow_window(qtbot, make_window, oracle_pack, handbook_pdf, delay=0.0)
    s = window.session
    s.settings.exhaustive = False
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT):
        s.ask(QUESTION)
    return window, reader, s.result


def test_first_answer_is_shown_while_the_reading_goes_on(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    window, _reader = slow_window(qtbot, make_window, oracle_pack, handbook_pdf)
    s = window.session
    finished: list[object] = []
    s.queryFinished.connect(finished.append)
    s.ask(QUESTION)
    qtbot.waitUntil(lambda: window.results.texts()[:1] == ["Alpha Bravo"], timeout=WAIT)
    # Streamed: shown and highlighted on its page before the final result.
    assert s.busy and s.status == READING and not finished
    strong, _ = window.pdf_view.highlights(page=40)
    assert strong and strong == list(s.current_answer.boxes)
    qtbot.waitUntil(lambda: "Reading passage " in window.results.header_text(), timeout=WAIT)
    header = window.results.header_text()
    assert header.startswith("Reading the document for: What is the launch code?")
    assert "windows" not in header and "so far" in header
    assert "%" in window.progress.format() and "windows" not in window.progress.format()
    s.cancel_query()


def test_a_new_question_clears_the_old_answers_at_once(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    window, reader = slow_window(qtbot, make_window, oracle_pack, handbook_pdf, delay=0.0)
    s = window.session
    s.settings.exhaustive = False
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT):
        s.ask(QUESTION)
    assert window.results.texts()[0] == "Alpha Bravo" and window.pdf_view.highlights()[0]
    reader.delay = 0.5  # the next question reads slowly: nothing of it is shown yet
    window.focus_question()
    window.question.setText("Who signs the warehouse lease?")
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    # At once, before any window of the new question is read.
    assert s.busy
    assert window.results.texts() == []
    assert window.pdf_view.highlights() == ([], [])
    header = window.results.header_text()
    assert header.startswith("Reading the document for: Who signs the warehouse lease?")
    assert "Disney" not in header and "Alpha" not in header
    s.cancel_query()


def test_escape_keeps_the_answers_so_far_and_goes_on_from_there(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    window, reader = slow_window(qtbot, make_window, oracle_pack, handbook_pdf)
    s = window.session
    s.ask(QUESTION)
    qtbot.waitUntil(lambda: window.results.texts()[:1] == ["Alpha Bravo"], timeout=WAIT)
    qtbot.waitUntil(lambda: s.progress[0] >= 3, timeout=WAIT)
    window.focus_question()
    with qtbot.waitSignal(s.queryCancelled, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert not s.busy and s.status == STOPPED
    kept = s.result
    assert kept is not None and kept.answers[0].text == "Alpha Bravo"
    assert window.results.texts()[0] == "Alpha Bravo"
    assert window.pdf_view.highlights(page=40)[0] == list(kept.answers[0].boxes)
    # The list still marks the current answer (Esc once cleared its row highlight).
    current = window.results.list.currentItem()
    assert s.current == 0 and current is not None and current.isSelected()
    assert window.results.list.row(current) == s.current
    done, total = s.progress
    header = window.results.header_text()
    assert header.startswith(f"Stopped after {done} of {total} passages")
    button = window.results.read_button
    assert button.isVisibleTo(window) and button.text().startswith("Go on reading from there")
    # Ctrl+Enter from the question bar goes on; nothing read before is read again.
    reader.delay = 0.0
    calls: list[int] = []
    real = reader.run

    def counting(batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        return real(batch)

    reader.run = counting  # type: ignore[method-assign]
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    final = s.result
    assert s.status == DONE and final.whole_document
    assert sum(calls) == final.read.windows - kept.read.windows
    assert window.results.texts()[0] == "Alpha Bravo"


def test_a_burst_of_answers_so_far_is_drawn_once_then_the_newest(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    """Partial results queued behind a busy moment arrive back to back: the list is redrawn
    for the first and then, ~0.1 s on, only for the newest (not once for each), and Esc
    shows the newest at once. Each redraw costs the UI thread; a burst froze the window."""
    from dataclasses import replace

    from desktop_qa.core.reading.results import Progress

    window, reader, final = answered_then_slow(qtbot, make_window, oracle_pack, handbook_pdf)
    s = window.session
    top = final.answers[0]

    def partial(i: int):  # type: ignore[no-untyped-def]
        answers = [replace(top, probability=0.5 + i / 100)] + list(final.answers[1:])
        return Progress(i + 1, 20, replace(final, answers=answers))

    reader.delay = 2.0  # the real reading sends nothing more during the test
    s.ask(QUESTION)
    drawn: list[float] = []
    s.answersChanged.connect(lambda shown: drawn.append(shown.answers[0].probability))
    for i in range(10):
        s._query_progress(partial(i))
    assert drawn == [0.5]  # the first at once, the rest wait their turn
    qtbot.waitUntil(lambda: len(drawn) == 2, timeout=2000)
    qtbot.wait(300)
    assert drawn == [0.5, 0.59]  # then only the newest
    for i in range(10, 15):
        s._query_progress(partial(i))
    s.cancel_query()  # Esc: the newest found so far, at once
    assert s.status == STOPPED and s.shown.answers[0].probability == 0.64
    assert window.results.texts()[0] == top.text


def test_a_worker_whose_signals_are_deleted_drops_its_reports(qtbot):  # type: ignore[no-untyped-def]
    """The window closed while a worker finishes: its emits go nowhere, none raises."""
    import shiboken6

    from desktop_qa.core.errors import UserError
    from desktop_qa.gui.workers import Worker

    def steps(report, cancelled):  # type: ignore[no-untyped-def]
        yield "a step"
        return "the result"

    def refused(report, cancelled):  # type: ignore[no-untyped-def]
        raise UserError("refused")

    for job in (steps, refused):
        worker = Worker(1, job, keep=lambda _item: True)
        worker.setAutoDelete(False)
        shiboken6.delete(worker.signals)  # what Qt does to a closed window's objects
        worker.run()  # as the pool thread runs it: no RuntimeError

    live = Worker(2, steps, keep=lambda _item: True)
    live.setAutoDelete(False)
    got: list[object] = []
    live.signals.yielded.connect(lambda _req, item: got.append(item))
    live.signals.returned.connect(lambda _req, out: got.append(out))
    live.run()
    assert got == ["a step", "the result"]  # a live worker still reports everything


def test_the_current_answer_follows_the_best_unless_the_user_picked_one(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    """Answers re-rank as the reading goes on: the page shows the best answer so far and,
    at the end, the final best; an answer the user picked (F3, the list) stays current."""
    from dataclasses import replace

    from desktop_qa.core.reading.results import Progress

    window, reader, final = answered_then_slow(qtbot, make_window, oracle_pack, handbook_pdf)
    s = window.session
    top = final.answers[0]
    a, b, c = (replace(top, start=top.start + i, probability=0.3 - i / 10) for i in range(3))
    reader.delay = 2.0  # the real reading sends nothing more during the test

    for pick in (None, 2):
        s.ask(QUESTION)
        s._query_progress(Progress(1, 20, replace(final, answers=(a, b, c))))
        assert s.current_answer == a
        if pick is not None:
            s.select(pick)  # the user's pick: c
        # The final ranking (b, c, a), each scored as ranked (the list's order is its scores').
        ranked = tuple(replace(x, probability=0.3 - i / 10) for i, x in enumerate((b, c, a)))
        s._query_ready(replace(final, answers=ranked))
        assert s.status == DONE
        start = s.current_answer.start
        if pick is None:
            assert s.current == 0 and start == b.start  # the final best, not the first seen
        else:
            assert start == c.start and s.current == 1  # still the pick, where it moved
        s.cancel_query()


def test_the_page_renderer_and_find_job_drop_reports_once_the_window_is_gone(qtbot, handbook_pdf):  # type: ignore[no-untyped-def]
    """Pages drawn and words found on pool threads after the window closed go nowhere: no
    RuntimeError from the pool thread (while live ones still report)."""
    import shiboken6
    from PySide6.QtCore import QThreadPool

    from desktop_qa.core.documents import find
    from desktop_qa.core.documents.document import load_document
    from desktop_qa.gui.rendering import PageRenderer
    from desktop_qa.gui.workers import Worker

    def renderer_with_one_page() -> PageRenderer:
        renderer = PageRenderer(QThreadPool())
        renderer._path, renderer._wanted, renderer._running = handbook_pdf, [(0, 0.5, None)], True
        return renderer

    gone = renderer_with_one_page()
    shiboken6.delete(gone)  # what Qt does to a closed window's objects
    gone.work()  # as the pool thread runs it: no RuntimeError
    assert gone.renders == 1
    live = renderer_with_one_page()
    pages: list[int] = []
    live.rendered.connect(lambda _gen, page, _scale, _clip, image: pages.append(page))
    live.work()
    assert pages == [0]

    document = load_document(handbook_pdf)
    # The find bar's job runs as every job does (``workers.Worker``).
    job = Worker(1, lambda _report, _cancelled: find.find(document, "launch code"))
    job.setAutoDelete(False)
    shiboken6.delete(job.signals)
    job.run()  # no RuntimeError
    found = Worker(2, lambda _report, _cancelled: find.find(document, "launch code"))
    found.setAutoDelete(False)
    hits: list[object] = []
    found.signals.returned.connect(lambda _req, out: hits.append(out))
    found.run()
    assert hits and isinstance(hits[0], list) and hits[0]
