"""The app's answers you can keep: "answer 2 of 5", copy with citation, export, open at a page."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import json
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader
from tests.gui_helpers import env_for_subprocess
from tests.test_keep_answers import FIELDS, parse_markdown

QUESTION = "What is the launch code?"
WAIT = 15000


@pytest.fixture
def answered(qtbot, make_window, oracle_pack, handbook_pdf):  # type: ignore[no-untyped-def]
    window = make_window(Reader(load_pack(oracle_pack)))
    session = window.session
    with qtbot.waitSignal(session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    window.focus_question()
    qtbot.keyClicks(window.question, QUESTION)
    with qtbot.waitSignal(session.queryFinished, timeout=WAIT):
        qtbot.keyClick(window.question, Qt.Key.Key_Return)
    return window


def test_header_says_which_answer_as_f3_steps(qtbot, answered):
    header = answered.results.header_text
    assert header().startswith("Answer 1 of 5")
    qtbot.keyClick(answered, Qt.Key.Key_F3)
    assert header().startswith("Answer 2 of 5") and answered.session.current == 1
    qtbot.keyClick(answered, Qt.Key.Key_F3)
    assert header().startswith("Answer 3 of 5")
    qtbot.keyClick(answered, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(answered, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert header().startswith("Answer 1 of 5") and answered.session.current == 0


def test_copy_answer_with_citation(qtbot, answered):
    QApplication.clipboard().clear()
    qtbot.keyClick(
        answered,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert QApplication.clipboard().text() == "“Alpha Bravo” (handbook.pdf, page 41)"
    qtbot.keyClick(answered, Qt.Key.Key_F3)
    second = answered.session.current_answer
    assert answered.copy_citation() == f"“{second.text}” (handbook.pdf, page {second.page})"


def test_export_answers_round_trip_in_every_format(answered, tmp_path, handbook_pdf):
    truth = answered.session.result.to_json()
    answers = truth["answers"]
    assert len(answers) == 5

    assert answered.export_answers(tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text("utf-8")) == truth

    assert answered.export_answers(tmp_path / "a.csv")
    with open(tmp_path / "a.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["text"] for r in rows] == [a["text"] for a in answers]
    for row, a in zip(rows, answers, strict=True):
        assert row["document"] == str(handbook_pdf) and int(row["page"]) == a["page"]
        assert float(row["score"]) == a["score"] and float(row["probability"]) == a["probability"]
        assert row["question"] == QUESTION and row["model"].startswith("oracle-test")

    assert answered.export_answers(tmp_path / "a.md")
    head, md_rows = parse_markdown((tmp_path / "a.md").read_text("utf-8"))
    assert head["document"] == str(handbook_pdf) and head["question"] == QUESTION
    assert [{k: r[k] for k in FIELDS} for r in md_rows] == [
        {k: a[k] for k in FIELDS} for a in answers
    ]
    # An extension that names no format is refused, nothing written.
    assert not answered.export_answers(tmp_path / "a.docx")
    assert not (tmp_path / "a.docx").exists()


def test_open_at_a_page_and_state_file(tmp_path, handbook_pdf, oracle_pack):
    """`desktop-qa FILE --page N` shows page N; --state-file follows the window."""
    state = tmp_path / "state.json"
    cmd = [sys.executable, "-m", "desktop_qa", str(handbook_pdf), "--page", "12"]
    cmd += ["--model", str(oracle_pack), "--state-file", str(state)]
    proc = subprocess.Popen(
        cmd, env=env_for_subprocess(tmp_path / "user"), stderr=subprocess.PIPE, text=True
    )
    seen: dict = {}
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None:
            try:
                seen = json.loads(state.read_text("utf-8"))
            except (OSError, ValueError):
                seen = {}
            if seen.get("page") == 12 and seen.get("document") == "handbook.pdf":
                break
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(20)
    assert seen.get("page") == 12 and seen["pages"] == 60, (seen, proc.stderr.read())
    assert seen["answers"] == [] and seen["current"] == -1 and seen["focus"] == "question"


def test_page_needs_a_document(capsys):
    from desktop_qa.cli import main

    assert main(["gui", "--page", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_state_file_keeps_a_change_made_just_before_quitting(tmp_path, make_window):
    """A scripted run quits inside the 20 ms coalescing delay; its last change is still written.

    (`desktop-qa FILE --screenshot X --state-file Y` quits once the page is drawn:
    without the flush on quit the file could still say no document was open.)
    """
    from desktop_qa.gui.state import StateFile

    window = make_window()
    state = tmp_path / "state.json"
    keeper = StateFile(window, state)
    keeper.flush()
    assert json.loads(state.read_text("utf-8"))["question"] == ""
    window.question.setText("when was the lease signed")  # schedules a write, 20 ms away
    QApplication.instance().aboutToQuit.emit()  # what app.quit() sends before leaving the loop
    assert json.loads(state.read_text("utf-8"))["question"] == "when was the lease signed"
