"""The library in the window: add a folder, progress, cancel and resume, watching, asking
the library, opening an answer's document at its page, F3 across documents."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.storage.library import FAILED, INDEXED, IndexReport
from desktop_qa.gui.library import SCOPE_DOCUMENT, SCOPE_LIBRARY
from desktop_qa.gui.results import READ_WHOLE_KEY, ResultsPanel
from desktop_qa.gui.window import MainWindow
from tests.pdfgen import handbook, page_lines, write_pdf

QUESTION = "What is the launch code?"
WAIT = 60000  # indexing starts worker processes; the machine may be busy


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 one-page PDFs, a 20-page manual with the answer on page 17, a 3-page memo with it
    on page 2, and a damaged PDF."""
    root = tmp_path_factory.mktemp("lib") / "docs"
    root.mkdir()
    for i in range(12):
        write_pdf(root / f"filler-{i:02d}.pdf", [[page_lines(500 + i)]])
    handbook(root / "manual.pdf", pages=20, answer_page=17)
    handbook(root / "memo.pdf", pages=3, answer_page=2, columns=1)
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    return root


@pytest.fixture
def folder(tmp_path: Path, template: Path) -> Path:
    import shutil

    return Path(shutil.copytree(template, tmp_path / "docs"))


@pytest.fixture
def window(make_window, oracle_pack: Path):  # type: ignore[no-untyped-def]
    return make_window(Reader(load_pack(oracle_pack)), size=(1280, 820))


def add_and_wait(qtbot, window: MainWindow, folder: Path) -> IndexReport:  # type: ignore[no-untyped-def]
    c = window.library.controller
    with qtbot.waitSignal(c.indexingFinished, timeout=WAIT) as done:
        window.library.panel.add(str(folder))
    return done.args[0]


def test_add_folder_shows_progress_documents_and_failures(qtbot, window, folder):
    progress = []
    window.library.controller.indexingProgress.connect(progress.append)
    window.library.panel_action.trigger()  # F9: the panel
    assert window.library.dock.isVisible()
    report = add_and_wait(qtbot, window, folder)
    assert (report.extracted, report.failed) == (14, 1)
    assert progress and progress[-1].total == 15
    assert "Library up to date: 14 read" in window.library.status.text()
    rows = {Path(p).name: (state, reason) for p, state, reason in window.library.panel.rows()}
    assert len(rows) == 15
    assert rows["manual.pdf"] == (INDEXED, "")
    state, reason = rows["broken.pdf"]
    assert state == FAILED and "damaged" in reason
    assert "1 could not be read" in window.library.panel.summary.text()


def test_cancel_then_resume_indexes_only_the_rest(qtbot, window, folder):
    c = window.library.controller
    c.workers = 1

    def stop_early(p) -> None:  # type: ignore[no-untyped-def]
        if p.done >= 2:
            c.cancel()

    c.indexingProgress.connect(stop_early)
    with qtbot.waitSignal(c.indexingCancelled, timeout=WAIT):
        window.library.panel.add(str(folder))
    c.indexingProgress.disconnect(stop_early)
    assert "stopped" in window.library.status.text()
    done = len(c.db().documents())
    assert 2 <= done < 15
    with qtbot.waitSignal(c.indexingFinished, timeout=WAIT) as finished:
        window.library.panel.update_button.click()  # resume
    report = finished.args[0]
    assert report.unchanged == done and report.extracted + report.failed == 15 - done


def test_watched_folder_indexes_a_new_file(qtbot, window, folder):
    add_and_wait(qtbot, window, folder)
    c = window.library.controller
    with qtbot.waitSignal(c.indexingFinished, timeout=WAIT) as finished:
        write_pdf(folder / "new.pdf", [[page_lines(9)]])
    report = finished.args[0]
    assert report.extracted == 1 and report.unchanged == 15


def test_ask_the_library_opens_answers_at_their_page_and_f3_steps_across_documents(
    qtbot, window, folder, tmp_path
):
    add_and_wait(qtbot, window, folder)
    s = window.session
    qtbot.keyClick(
        window,
        Qt.Key.Key_L,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.library.scope == SCOPE_LIBRARY
    window.question.clear()
    qtbot.keyClicks(window.question, QUESTION)
    with qtbot.waitSignal(s.answerDocumentLoaded, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Return)
    result = s.result
    assert s.library_result and result.read.documents == 14
    best = [a for a in result.answers if a.text == "Alpha Bravo"]
    assert {(Path(a.document).name, a.page) for a in best} == {("manual.pdf", 17), ("memo.pdf", 2)}
    # The list names each answer's document and page.
    first = s.current_answer
    html_row = window.results.list.item(0).data(Qt.ItemDataRole.UserRole + 1)
    assert f"{Path(first.document).name} · page {first.page}" in html_row

    def check_shown() -> None:
        answer = s.current_answer
        view = window.pdf_view
        assert str(view.document.path) == answer.document
        strong, _ = view.highlights(page=answer.page - 1)
        assert strong == list(answer.boxes) and strong
        assert answer.page in [p + 1 for p in view.visible_pages()]
        assert window.windowTitle().startswith(Path(answer.document).name)

    check_shown()
    shot = tmp_path / "library-answer.png"
    window.library.dock.show()
    assert window.grab().save(str(shot)) and shot.stat().st_size > 10000
    # F3 moves to the next answer, in the other document: it opens there.
    other = s.shown.answers[1]
    assert other.document != first.document
    with qtbot.waitSignal(s.answerDocumentLoaded, timeout=WAIT):
        qtbot.keyClick(window, Qt.Key.Key_F3)
    assert s.current == 1
    check_shown()
    with qtbot.waitSignal(s.answerDocumentLoaded, timeout=WAIT):
        qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert s.current == 0
    check_shown()
    # Back to "this document": the question asks the document on screen.
    qtbot.keyClick(
        window,
        Qt.Key.Key_D,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.library.scope == SCOPE_DOCUMENT
    window.question.setText("Where is the launch code?")
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT) as done:
        qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert not s.library_result and done.args[0].read.documents == 1
    assert done.args[0].answers[0].document == first.document


def test_library_no_answer_offers_read_more(qtbot, window, folder):
    add_and_wait(qtbot, window, folder)
    s = window.session
    window.library.scope_library()
    s.settings.exhaustive = False
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT) as done:
        s.ask_library("What is the café crème?")
    result = done.args[0]
    assert result.no_answer and not result.whole_document
    assert "best match your question" in window.results.header.text()
    assert window.results.read_button.isVisible()
    assert "Read more of the library" in window.results.read_button.text()
    # In a narrow answer column the text takes more lines, never cut (the key hint kept).
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.resize(250, 600)
    panel.show()
    panel.show_result((), False, result, more_seconds=18)
    qtbot.waitExposed(panel)
    text = panel.read_button.text()
    one_line = " ".join(text.split("\n")).replace("\u00a0", " ")
    assert one_line.startswith("Read more of the library (about 18 s)")
    assert text.endswith(READ_WHOLE_KEY)
    metrics = panel.read_button.fontMetrics()
    assert max(map(metrics.horizontalAdvance, text.split("\n"))) < 250 - 16  # its padding
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT) as more:
        window.results.read_button.click()
    assert more.args[0].read.passages >= result.read.passages


def _store_refusing(monkeypatch, error: type, *, reads: bool) -> None:  # type: ignore[no-untyped-def]
    """The window's library opens raise ``error`` as a read-only (``reads``: for writing
    only) or locked store does; the core's own checks are tested in test_library_store."""
    from desktop_qa.core.storage import library as core_library
    from desktop_qa.gui import indexing as gui_indexing

    real = core_library.Library

    def refusing(*args, read_only: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        if read_only and reads:
            return real(*args, read_only=True, **kwargs)
        raise error(f"{core_library.database_path()}: the library is {error.__name__} (test)")

    monkeypatch.setattr(gui_indexing, "Library", refusing)


def test_a_read_only_library_is_listed_and_says_why_it_cannot_change(
    qtbot, make_window, oracle_pack, folder, monkeypatch
):
    from desktop_qa.core.storage.library import Library, LibraryReadOnly

    with Library() as lib:
        lib.add_folder(folder)
    _store_refusing(monkeypatch, LibraryReadOnly, reads=True)
    window = make_window(Reader(load_pack(oracle_pack)))
    ui = window.library
    assert ui.panel.tree.topLevelItemCount() == 1  # listed from a read-only connection
    assert "LibraryReadOnly (test)" in ui.panel.summary.text()
    # The startup refresh cannot index: the status bar says why.
    qtbot.waitUntil(lambda: "Indexing failed" in ui.status.text(), timeout=WAIT)
    assert "LibraryReadOnly (test)" in ui.status.text()
    # Adding or removing a folder says why it cannot, in the panel; nothing is lost.
    ui.panel.summary.clear()
    ui.panel.add(str(folder.parent))
    assert "LibraryReadOnly (test)" in ui.panel.summary.text()
    ui.panel.summary.clear()
    ui.panel.remove_selected()  # runs off the UI thread: the line comes when it has
    qtbot.waitUntil(lambda: "LibraryReadOnly (test)" in ui.panel.summary.text(), timeout=WAIT)
    assert ui.panel.tree.topLevelItemCount() == 1


def test_a_locked_library_opens_the_window_and_says_why(qtbot, make_window, folder, monkeypatch):
    from desktop_qa.core.storage.library import Library, LibraryBusy

    with Library() as lib:
        lib.add_folder(folder)
    _store_refusing(monkeypatch, LibraryBusy, reads=False)
    window = make_window()
    assert "LibraryBusy (test)" in window.library.panel.summary.text()
    window.library.panel.add(str(folder))
    assert "LibraryBusy (test)" in window.library.panel.summary.text()


def test_the_panel_moves_with_the_indexing(qtbot, window, folder):
    """Rows appear as files finish; the counts and the time left move with the status bar."""
    c, panel = window.library.controller, window.library.panel
    c.workers = 1
    panel.redraw_interval = 0.0  # every report (the app: once a second; these files are quick)
    seen: list[tuple[int, int, str, str]] = []

    def look(p) -> None:  # type: ignore[no-untyped-def]
        seen.append((p.done, len(panel.rows()), panel.summary.text(), window.library.status.text()))

    c.indexingProgress.connect(look)
    with qtbot.waitSignal(c.indexingFinished, timeout=WAIT):
        panel.add(str(folder))
    during = [s for s in seen if 0 < s[0] < 15]
    assert during, seen
    # Rows of the files done so far, before the end.
    assert any(0 < rows < 15 for _d, rows, _s, _b in during), seen
    # The panel's counts say how many are left, as the status bar does.
    done, _rows, summary, status = during[-1]
    assert f"Indexing {done} of 15 documents" in status
    assert " left" in summary and " indexed" in summary
    assert "0 indexed · 0 could not be read" not in seen[-1][2]
    assert "15 left" not in summary
    final = panel.summary.text()
    assert "14 indexed · 1 could not be read" in final and "left" not in final


def test_failed_only_and_the_whole_reason(qtbot, window, folder):
    add_and_wait(qtbot, window, folder)
    panel = window.library.panel
    panel.failed_only.setChecked(True)
    rows = panel.rows()
    assert [Path(p).name for p, _s, _r in rows] == ["broken.pdf"]
    (path, state, reason) = rows[0]
    assert state == FAILED and not reason.startswith(path)  # the name is in the first column
    folder_item = panel.tree.topLevelItem(0)
    panel.tree.setCurrentItem(folder_item.child(0))
    assert panel.detail.isVisibleTo(panel)
    detail = panel.detail.text()
    assert detail.startswith(path) and reason in detail and panel.detail.wordWrap()
    panel.failed_only.setChecked(False)
    assert len(panel.rows()) == 15


def test_time_left_does_not_climb_while_the_rate_holds():
    """A fast start (small or unchanged files), then a steady pace: the run's average climbs
    for a long while; the smoothed time left falls once the pace holds."""
    from desktop_qa.gui.library import EtaSmoother

    eta = EtaSmoother()
    total, t, done = 300, 0.0, 0
    averages, smoothed = [], []
    for step in range(200):
        rate = 10.0 if step < 10 else 1.0  # documents per second
        t += 1.0
        done = min(total, done + int(rate))
        left = eta.update(done, total, t)
        averages.append((total - done) * t / done)
        if step >= 90:  # once the pace has held a while
            smoothed.append(left)
    assert max(averages[20:60]) > averages[15]  # the run's average climbs (the bug)
    assert all(b <= a for a, b in zip(smoothed, smoothed[1:], strict=False)), smoothed
    assert abs(smoothed[-1] - (total - done)) < 0.1 * (total - done)  # about right, too
