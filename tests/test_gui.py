"""The desktop window, offscreen: open, ask, highlight, step, cancel, stay responsive, errors."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt, QTimer

from desktop_qa import __version__
from desktop_qa.core.documents.document import Box
from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.query import EMPTY_QUESTION
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.storage.settings import Settings, save_settings, settings_path
from desktop_qa.gui.panels import TEST_MODEL_WARNING, about_html
from desktop_qa.gui.window import MainWindow
from desktop_qa.packs.oracle import build_oracle_pack
from tests.gui_helpers import BrokenReader, SlowReader, isolate

QUESTION = "What is the launch code?"
WAIT = 15000


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path / "user")
    return tmp_path / "user"


def open_doc(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(path)


def ask(qtbot, window: MainWindow, question: str = QUESTION) -> None:  # type: ignore[no-untyped-def]
    window.focus_question()
    window.question.clear()
    qtbot.keyClicks(window.question, question)
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Return)


def test_ask_fills_results_and_highlights_on_the_answer_page(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, handbook_pdf)
    assert window.viewer.currentWidget() is window.pdf_view
    assert window.page_count_label.text().strip() == "of 60"
    ask(qtbot, window)

    s = window.session
    best = s.result.answers[0]
    assert best.text == "Alpha Bravo"
    assert best.page == 41
    assert window.results.texts()[0] == "Alpha Bravo"
    assert window.results.list.count() == len(s.result.answers)
    assert "Last query:" in window.time_label.text()
    assert "oracle-test" in window.model_label.text()

    view = window.pdf_view
    strong, _light = view.highlights(page=40)
    assert strong == list(best.boxes) and strong
    assert all(b.page == 40 for b in best.boxes)
    assert 41 in [p + 1 for p in view.visible_pages()]
    rect = view.box_to_view(40, best.boxes[0].rect)
    assert view.viewport().rect().toRectF().intersects(rect)

    # The zoom keys.
    ctrl = Qt.KeyboardModifier.ControlModifier
    zoom = view.zoom
    qtbot.keyClick(window, Qt.Key.Key_Equal, ctrl)
    assert view.zoom == pytest.approx(zoom * 1.2) and not view.fit_width
    qtbot.keyClick(window, Qt.Key.Key_Minus, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_Minus, ctrl)
    assert view.zoom == pytest.approx(zoom / 1.2)
    qtbot.keyClick(window, Qt.Key.Key_0, ctrl)
    assert view.fit_width and view.zoom == pytest.approx(zoom)
    # Highlights stay in page coordinates; mapped to pixels they scale with the zoom.
    x0, y0, x1, y1 = best.boxes[0].rect
    for action in (view.zoom_in, view.zoom_in, view.zoom_out, view.zoom_fit_width):
        action()
        assert view.highlights(page=40)[0] == list(best.boxes)
        mapped = view.box_to_view(40, best.boxes[0].rect)
        origin = view.page_rect(40).topLeft()
        assert mapped.width() == pytest.approx((x1 - x0) * view.zoom)
        assert mapped.left() - origin.x() == pytest.approx(x0 * view.zoom)
        assert mapped.top() - origin.y() == pytest.approx(y0 * view.zoom)


def test_f3_and_enter_step_through_answers(qtbot, make_window, oracle_pack, handbook_pdf):
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, handbook_pdf)
    ask(qtbot, window)
    s = window.session
    n = len(s.shown.answers)
    assert n >= 2
    seen = [s.current]
    for _ in range(n):
        qtbot.keyClick(window, Qt.Key.Key_F3)
        seen.append(s.current)
        strong, _ = window.pdf_view.highlights()
        assert strong == list(s.current_answer.boxes)
        assert window.results.list.currentRow() == s.current
    assert seen == [*range(n), 0]  # wraps
    qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert s.current == n - 1
    # Enter in the bar with the same question steps, Shift+Enter steps back.
    window.focus_question()
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert s.current == 0
    qtbot.keyClick(window.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert s.current == n - 1
    # A click on a row jumps there.
    window.results.answerActivated.emit(1)
    assert s.current == 1


def test_text_file_highlights_by_offsets(qtbot, make_window, oracle_pack, tmp_path):
    path = tmp_path / "notes.txt"
    text = "Intro line 😀 with an emoji.\r\nSecond line.\r\nThe launch code is Alpha Bravo.\r\n"
    path.write_bytes(text.encode("utf-8"))
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, path)
    assert window.viewer.currentWidget() is window.text_view
    assert window.text_view.isReadOnly()
    ask(qtbot, window)
    assert window.session.result.answers[0].text == "Alpha Bravo"
    assert window.text_view.highlighted_text()[0] == "Alpha Bravo"


def test_no_answer_offers_the_best_guess(qtbot, make_window, tmp_path):
    pack = load_pack(build_oracle_pack(tmp_path / "strict", null_score=50.0))
    path = tmp_path / "doc.txt"
    path.write_text("The launch code is Alpha Bravo.\n", encoding="utf-8")
    window = make_window(Reader(pack))
    open_doc(qtbot, window, path)
    ask(qtbot, window)
    s = window.session
    assert s.result.no_answer and not s.shown.answers
    assert "No answer in this document (read in full)." in window.results.header.text()
    assert not window.results.read_button.isVisibleTo(window)  # nothing more to read
    assert window.results.guess_button.isVisibleTo(window)
    qtbot.keyClick(window, Qt.Key.Key_F3)  # one key away
    assert s.shown.guess and s.shown.answers[0].text == "Alpha Bravo"
    assert window.text_view.highlighted_text()[0] == "Alpha Bravo"


def _slow_window(make_window, oracle_pack):  # type: ignore[no-untyped-def]
    reader = SlowReader(load_pack(oracle_pack))
    return make_window(reader, exhaustive=True), reader


def test_escape_cancels_a_slow_query(qtbot, make_window, oracle_pack, handbook_pdf):
    window, _ = _slow_window(make_window, oracle_pack)
    open_doc(qtbot, window, handbook_pdf)
    finished = []
    window.session.queryFinished.connect(finished.append)
    window.focus_question()
    qtbot.keyClicks(window.question, QUESTION)
    with qtbot.waitSignal(window.session.queryProgress, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert window.session.busy and window.progress.isVisible()
    started = time.perf_counter()
    with qtbot.waitSignal(window.session.queryCancelled, timeout=2000):
        qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert time.perf_counter() - started < 1.0
    assert not window.session.busy and not window.progress.isVisible()
    window.session.query_pool.waitForDone(5000)
    qtbot.wait(50)
    assert finished == []  # the cancelled query never reports
    # Esc with nothing running leaves the bar.
    window.focus_question()
    qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert not window.question.hasFocus()


def test_ui_stays_responsive_during_a_query(qtbot, make_window, oracle_pack, handbook_pdf):
    window, _ = _slow_window(make_window, oracle_pack)
    open_doc(qtbot, window, handbook_pdf)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    window.session.ask(QUESTION)
    timer.start()
    qtbot.wait(1500)
    timer.stop()
    assert window.session.busy  # still reading the whole document
    window.session.cancel_query()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 30
    assert max(gaps) < 0.1, f"UI blocked for {max(gaps) * 1000:.0f} ms"


def test_newer_question_replaces_older(qtbot, make_window, oracle_pack, handbook_pdf):
    window, reader = _slow_window(make_window, oracle_pack)
    open_doc(qtbot, window, handbook_pdf)
    results = []
    window.session.queryFinished.connect(results.append)
    window.session.ask("Where is the station?")
    qtbot.wait(100)
    window.session.update_settings(exhaustive=False)
    reader.delay = 0.0
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT):
        window.session.ask(QUESTION)
    window.session.query_pool.waitForDone(5000)
    qtbot.wait(50)
    assert [r.question for r in results] == [QUESTION]


def test_bad_file_shows_a_message(qtbot, make_window, oracle_pack, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    window = make_window(Reader(load_pack(oracle_pack)))
    with qtbot.waitSignal(window.session.documentFailed, timeout=WAIT) as blocker:
        window.open_file(bad)
    message = blocker.args[0]
    assert "broken.pdf" in message and "\n" not in message
    assert window.last_message is not None and window.last_message.text() == message
    window.last_message.close()
    with qtbot.waitSignal(window.session.documentFailed, timeout=WAIT):
        window.open_file(tmp_path / "missing.pdf")
    assert "not found" in window.last_message.text()


def test_empty_question_and_no_document_show_inline(qtbot, make_window, oracle_pack, handbook_pdf):
    window = make_window(Reader(load_pack(oracle_pack)))
    window.focus_question()
    qtbot.keyClicks(window.question, QUESTION)
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert window.message.isVisibleTo(window) and "open a document" in window.message.text()
    open_doc(qtbot, window, handbook_pdf)
    window.question.setText("   ")
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert window.message.text() == EMPTY_QUESTION


def test_unexpected_worker_error_becomes_a_message(qtbot, make_window, oracle_pack, handbook_pdf):
    window = make_window(BrokenReader(load_pack(oracle_pack)))
    open_doc(qtbot, window, handbook_pdf)
    with qtbot.waitSignal(window.session.queryFailed, timeout=WAIT) as blocker:
        window.session.ask(QUESTION)
    assert "unexpected error" in blocker.args[0] and "boom" in blocker.args[0]
    assert "boom" in window.message.text()
    assert window.isVisible()


def test_first_run_panel_without_a_pack(qtbot, make_window, handbook_pdf):
    window = make_window()
    with qtbot.waitSignal(window.session.modelMissing, timeout=WAIT):
        window.session.load_model()
    assert not window.first_run.isHidden()
    download = window.first_run.download
    assert download.isEnabled() and "desktop-qa model download" in download.toolTip()
    assert window.first_run.choose.isEnabled()
    # Without a model, asking still works: keyword answers.
    open_doc(qtbot, window, handbook_pdf)
    with qtbot.waitSignal(window.session.queryFinished, timeout=WAIT) as blocker:
        window.session.ask(QUESTION)
    assert blocker.args[0].mode == "keyword"
    # ... and they are listed beside the panel, not hidden behind it.
    assert not window.results.isHidden() and not window.first_run.isHidden()
    assert window.results.list.count() >= 1


def test_choose_pack_folder_installs_and_loads(qtbot, make_window, oracle_pack):
    window = make_window()
    with qtbot.waitSignal(window.session.modelChanged, timeout=WAIT):
        window.session.choose_model_folder(oracle_pack)
    assert window.session.pack.name == "oracle-test"
    assert window.first_run.isHidden() and not window.results.isHidden()
    assert window.banner.isVisibleTo(window) and TEST_MODEL_WARNING in window.banner.text()


def test_a_bad_pack_folder_is_worded_for_the_app(
    qtbot, make_window, oracle_pack, tmp_path, monkeypatch
):
    """Tools ▸ Choose Model Pack Folder… on a folder that is no pack: the dialog names the
    menu action to try again, not the CLI's --model DIR; the working model stays."""
    from PySide6.QtWidgets import QFileDialog

    from desktop_qa.gui.messages import CHOOSE_PACK, CHOOSE_PACK_MENU

    window = make_window(Reader(load_pack(oracle_pack)))
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert CHOOSE_PACK in [a.text().replace("&", "") for a in tools.actions()]
    empty = tmp_path / "not-a-pack"
    empty.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(empty))
    with qtbot.waitSignal(window.session.modelFailed, timeout=WAIT):
        window.menus.choose_pack_action.trigger()
    text = window.last_message.text()
    assert f"model pack {empty}: no model.json in the folder" in text
    assert text.endswith(f"choose another ({CHOOSE_PACK_MENU})") and "--model" not in text
    assert window.session.pack.name == "oracle-test"


def test_about_names_version_license_and_pack(oracle_pack):
    text = about_html(load_pack(oracle_pack))
    for needle in (__version__, "AGPL-3.0-or-later", "oracle-test", "desktop_qa.packs.oracle"):
        assert needle in text


def test_selection_copies_words(qtbot, make_window, oracle_pack, handbook_pdf):
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, handbook_pdf)
    ask(qtbot, window)
    box: Box = window.session.result.answers[0].boxes[0]
    x0, y0, x1, y1 = box.rect
    window.pdf_view.select_rect(box.page, QRectF(x0 + 1, y0 + 1, x1 - x0 - 2, y1 - y0 - 2))
    window.pdf_view.setFocus()
    qtbot.keyClick(window.pdf_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == "Alpha Bravo"
    # "/" in the viewer focuses the question bar.
    qtbot.keyClick(window.pdf_view, Qt.Key.Key_Slash)
    assert window.question.hasFocus()


def test_go_to_page_and_recent_files(qtbot, make_window, oracle_pack, handbook_pdf):
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, handbook_pdf)
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert window.page_box.hasFocus()
    qtbot.keyClicks(window.page_box, "17")
    qtbot.keyClick(window.page_box, Qt.Key.Key_Return)
    assert window.pdf_view.current_page() == 17
    assert str(handbook_pdf.resolve()) in window.session.settings.recent_files
    assert [a.text() for a in window.menus.recent_menu.actions()] == [str(handbook_pdf.resolve())]
    assert settings_path().is_file()


def test_corrupt_settings_fall_back_with_a_warning(qtbot, make_window):
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("{not json", encoding="utf-8")
    window = make_window()
    assert window.session.settings == Settings()
    assert "using defaults" in window.statusBar().currentMessage()


def test_settings_round_trip_is_atomic(user_dirs):
    st = Settings(top_k=7, strictness=2.5)
    st.add_recent(__file__)
    save_settings(st)
    from desktop_qa.core.storage.settings import load_settings

    loaded, warning = load_settings()
    assert warning is None and loaded == st
    assert [p.name for p in settings_path().parent.iterdir()] == ["settings.json"]


def test_emit_does_not_leak_references_to_true():
    """PySide6 6.12.0's emit() drops a reference to True each call; compat.emit gives it back."""
    import sys

    from PySide6.QtCore import QObject, Signal

    from desktop_qa.gui.compat import emit

    class Probe(QObject):
        ping = Signal(int)

    probe = Probe()
    probe.ping.connect(lambda _v: None)
    before = sys.getrefcount(True)
    for i in range(500):
        emit(probe.ping, i)
    assert abs(sys.getrefcount(True) - before) < 5


def test_cancel_loading_and_drop_a_file(qtbot, make_window, oracle_pack, handbook_pdf):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    window = make_window(Reader(load_pack(oracle_pack)))
    window.focus_question()
    with qtbot.waitSignal(window.session.documentCancelled, timeout=WAIT):
        window.open_file(handbook_pdf)
        qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert window.session.document is None and not window.session.loading
    window.session.documents.pool.waitForDone(5000)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(handbook_pdf))])
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.dropEvent(drop)
    assert window.session.document.page_count == 60


def test_settings_dialog_changes_top_k_and_strictness(qtbot, make_window):
    from desktop_qa.core.storage.settings import load_settings
    from desktop_qa.gui.panels import SettingsDialog

    window = make_window()
    dialog = SettingsDialog(window.session.settings, window)
    qtbot.addWidget(dialog)
    dialog.top_k.setValue(3)
    dialog.strictness.setValue(5)  # half-logit steps
    dialog.exhaustive.setChecked(True)
    top_k, strictness, exhaustive = dialog.values()
    window.session.update_settings(top_k=top_k, strictness=strictness, exhaustive=exhaustive)
    saved, warning = load_settings()
    assert warning is None
    assert (saved.top_k, saved.strictness, saved.exhaustive) == (3, 2.5, True)
    assert saved.threshold(1.0) == 3.5


def test_bounded_no_answer_offers_to_read_the_whole_document(
    qtbot, make_window, oracle_pack, tmp_path
):
    """The bounded wording, then Ctrl+Enter reads the rest (Esc stops it and keeps what was
    read; the button goes on from there)."""
    from tests.factset import generate

    paragraphs = list(generate(pages=40, facts=30).paragraphs)
    paragraphs[123] += " The launch code of the Zephyr rocket is alpha seven bravo."
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    reader = SlowReader(load_pack(oracle_pack))
    reader.delay = 0.0
    window = make_window(reader)
    open_doc(qtbot, window, path)
    ask(qtbot, window, "warehouse lease delivery invoice?")
    s = window.session
    header = window.results.header.text()
    assert s.result.no_answer and not s.result.whole_document
    assert f"No answer in the {s.result.read.passages} passages that best match" in header
    assert "not in this document" not in header.lower()
    button = window.results.read_button
    assert button.isVisibleTo(window) and "Read the whole document (about " in button.text()
    bounded_windows = s.result.read.windows
    # Ctrl+Enter starts it; Esc cancels it and the bounded result stays.
    reader.delay = 0.05
    with qtbot.waitSignal(s.queryProgress, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert s.busy
    with qtbot.waitSignal(s.queryCancelled, timeout=2000):
        qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert not s.busy and s.result.read.windows >= bounded_windows
    assert s.status == "stopped" and window.results.header_text().startswith("Stopped after ")
    assert window.results.read_button.text().startswith("Go on reading from there")
    # On from there, to the end: the answer, read in full.
    reader.delay = 0.0
    with qtbot.waitSignal(s.queryFinished, timeout=WAIT):
        window.results.read_button.click()
    assert s.result.whole_document and s.result.answers[0].text == "alpha seven bravo"
    assert not window.results.read_button.isVisibleTo(window)
    assert window.text_view.highlighted_text()[0] == "alpha seven bravo"


def test_other_answers_are_lightly_highlighted(qtbot, make_window, oracle_pack, handbook_pdf):
    """The current answer is highlighted strongly, every other answer lightly, as F3 steps."""
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, handbook_pdf)
    ask(qtbot, window)
    s = window.session
    answers = s.shown.answers
    assert len(answers) >= 2
    for step in range(len(answers)):
        assert s.current == step
        strong, light = window.pdf_view.highlights()
        others = [b for i, a in enumerate(answers) if i != step for b in a.boxes]
        assert strong == list(answers[step].boxes) and strong
        assert light == others and light
        qtbot.keyClick(window, Qt.Key.Key_F3)
    # And they are painted: a light box off the current answer changes the pixels under it.
    view = window.pdf_view
    strong, light = view.highlights()
    near = [QRectF(*o.rect).adjusted(-4, -4, 4, 4) for o in strong]
    spare = next(
        b for b in light if not any(r.contains(b.rect[0] + 1, b.rect[1] + 1) for r in near)
    )
    x0, y0, _, y1 = spare.rect
    centre = view.box_to_view(spare.page, (x0 + 1, y0 + 1, x0 + 2, y1 - 1)).center().toPoint()
    assert view.viewport().rect().contains(centre)

    def pixel():
        return view.viewport().grab().toImage().pixelColor(centre)

    # The page is drawn first, then its boxes (issue 18): wait for the tint, not a blank page.
    white = pixel().fromRgbF(1.0, 1.0, 1.0, 1.0)
    qtbot.waitUntil(lambda: pixel() != white, timeout=15000)
    lit = pixel()
    view.set_highlights(strong, [], False)
    plain = view.viewport().grab().toImage().pixelColor(centre)
    assert lit != plain


def test_other_answers_are_lightly_highlighted_in_a_text_file(
    qtbot, make_window, oracle_pack, tmp_path
):
    path = tmp_path / "notes.txt"
    path.write_text("The launch code is Alpha Bravo.\n\nThe backup code is alpha two bravo.\n")
    window = make_window(Reader(load_pack(oracle_pack)))
    open_doc(qtbot, window, path)
    ask(qtbot, window)
    answers = window.session.shown.answers
    assert len(answers) >= 2
    strong, light = window.text_view.highlights()
    assert strong == [(answers[0].start, answers[0].end)]
    assert light == [(a.start, a.end) for a in answers[1:]]


def test_the_no_model_panel_is_compact_and_says_it_once(qtbot, make_window, handbook_pdf):
    """A line and two buttons: the answers keep the column; the reason is not repeated."""
    window = make_window()
    with qtbot.waitSignal(window.session.modelMissing, timeout=WAIT) as missing:
        window.session.load_model()
    panel = window.first_run
    assert not panel.isHidden()
    text = panel.text.text()
    assert text.count("No model installed") == 1 and "keyword search" in text
    assert missing.args[0] not in text and "#a00" not in text  # no red repeat
    qtbot.wait(50)
    assert panel.height() <= 0.2 * window.side.height(), (panel.height(), window.side.height())
    # A broken pack's reason is shown, once.
    panel.set_reason("model.onnx is damaged; reinstall the pack")
    assert panel.text.text().count("model.onnx is damaged") == 1
