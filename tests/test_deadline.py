"""A deadline and a clean quit (issue 30.4): every read of a document has an overall time
limit (one ``error:`` line past it, exit 2), and closing the window stops loading at once."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from pathlib import Path

import pytest

from desktop_qa.core.documents import formats
from desktop_qa.core.documents.document import load_document
from desktop_qa.core.documents.formats import isolated
from desktop_qa.core.errors import UserError
from tests.formatgen import docx
from tests.pdfgen import handbook


def stuck_job(job: object, note: object) -> object:
    """A conversion that never ends (what a hostile file did to the readers for minutes)."""
    time.sleep(600)
    return None


def stuck_in_place(data: bytes, suffix: str, name: str, depth: int = 0) -> object:
    time.sleep(30)
    raise UserError(f"{name}: gave up")


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Every conversion hangs, in a child or in this process."""
    isolated.stop()
    monkeypatch.setattr(isolated, "_job", stuck_job)
    monkeypatch.setattr(formats, "sections", stuck_in_place)
    monkeypatch.setattr(formats, "_RECENT", type(formats._RECENT)())
    yield
    isolated.stop()


def test_find_past_the_read_limit_is_one_error_line(
    tmp_path: Path, stuck, monkeypatch: pytest.MonkeyPatch, capsys
):
    from desktop_qa.cli import main

    path = docx(tmp_path / "lease.docx")
    monkeypatch.setenv("DESKTOP_QA_READ_SECONDS", "2")
    started = time.monotonic()
    assert main(["find", str(path), "lease"]) == 2
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "lease.docx took longer than 2 s to read" in err
    assert took < 15  # the limit, the child's start and its kill; not the hang


def test_a_pdf_past_its_read_limit_is_refused(tmp_path: Path):
    pdf = handbook(tmp_path / "handbook.pdf", pages=3, answer_page=2)
    with pytest.raises(UserError, match="handbook.pdf took longer than"):
        load_document(pdf, seconds=1e-6)
    assert load_document(pdf).page_count == 3  # the default limit is ample


def test_closing_the_window_stops_a_conversion_at_once(qtbot, make_window, tmp_path, stuck):
    """What quitting does (``app.quit_now``): the loader ends within its short wait, the
    conversion's child is killed; nothing is left running to keep the process alive."""
    from desktop_qa.gui.app import QUIT_WAIT_MS

    path = docx(tmp_path / "lease.docx")
    window = make_window()
    session = window.session
    session.open_document(str(path))
    qtbot.waitUntil(lambda: isolated._runner is not None and isolated._runner.child is not None,
                    timeout=10000)  # fmt: skip
    converting = isolated._runner.child
    time.sleep(0.5)  # well inside the conversion
    assert session.loading
    started = time.monotonic()
    session.shutdown(timeout_ms=QUIT_WAIT_MS)
    assert session.mupdf_pool.activeThreadCount() == 0
    assert time.monotonic() - started < 2
    assert not converting.alive


QUIT_SCRIPT = """
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from tests import test_deadline as t
from desktop_qa.core.documents import formats
from desktop_qa.core.documents.formats import isolated
isolated._job = t.stuck_job
formats.sections = t.stuck_in_place
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop_qa.gui.app import run_app
app = QApplication(sys.argv[:1])
started = time.monotonic()

def close_when_converting():
    runner = isolated._runner
    if (runner is not None and runner.child is not None) or time.monotonic() - started > 20:
        time.sleep(0.5)
        print("closing", flush=True)
        for widget in QApplication.topLevelWidgets():
            widget.close()
    else:
        QTimer.singleShot(100, close_when_converting)

QTimer.singleShot(100, close_when_converting)
run_app(sys.argv[1])
"""


def test_the_process_ends_within_2_s_of_closing_the_window_while_it_converts(tmp_path: Path):
    """The whole app in its own process: a conversion that never ends, the window closed
    (a hostile file kept the process converting 240 s after the window closed)."""
    import subprocess
    import sys

    path = docx(tmp_path / "lease.docx")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    cmd = [sys.executable, "-c", QUIT_SCRIPT, str(path)]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "closing\n"
        closed = time.monotonic()
        proc.wait(60)
        assert time.monotonic() - closed < 2.0
    finally:
        proc.kill()
        proc.wait()
