"""Password-protected PDFs (AES-256, made by PyMuPDF): CLI, cache policy and the app's dialog.

The password opens the document and is never written anywhere; the extracted
text of a protected file reaches the cache only when Settings allow it, and a
cached protected document still needs its password.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main
from desktop_qa.commands import ask as ask_command
from desktop_qa.core.errors import PasswordRequired
from desktop_qa.core.storage import opening
from desktop_qa.core.storage.cache import documents_dir
from desktop_qa.core.storage.settings import Settings, save_settings

PASSWORD = "correct horse 7"
QUESTION = "What is the launch code?"
SECRET = b"launch code is"


@pytest.fixture
def locked_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "contract.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Nothing to see on the first page.")
    doc.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
    doc.save(
        str(path),
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=PASSWORD,
        owner_pw="owner secret",
    )
    doc.close()
    return path


def cache_files_containing(needle: bytes) -> list[Path]:
    root = documents_dir()
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["ask", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_answers_with_the_password_and_caches_nothing(capsys, locked_pdf, oracle_pack):
    code, out, err = run(
        capsys, str(locked_pdf), QUESTION, "--model", str(oracle_pack), "--password", PASSWORD
    )
    assert code == 0, err
    best = json.loads(
        run(
            capsys,
            str(locked_pdf),
            QUESTION,
            "--model",
            str(oracle_pack),
            "--password",
            PASSWORD,
            "--json",
        )[1]
    )["answers"][0]
    assert (best["text"], best["page"]) == ("Alpha Bravo", 2) and best["boxes"]
    assert "Alpha Bravo" in out
    # Off by default: no extracted text of the protected file on disk, and never the password.
    assert cache_files_containing(SECRET) == []
    assert cache_files_containing(PASSWORD.encode()) == []


@pytest.mark.parametrize("given", [None, "hunter2-guess"])
def test_missing_or_wrong_password_is_one_error_line(capsys, locked_pdf, oracle_pack, given):
    argv = [str(locked_pdf), QUESTION, "--model", str(oracle_pack)]
    if given is not None:
        argv += ["--password", given]
    code, out, err = run(capsys, *argv)  # stdin is not a terminal here: no prompt
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith("error: ") and "contract.pdf" in lines[0]
    assert ("wrong password" if given else "password-protected") in lines[0]
    assert given is None or given not in err


def test_prompts_on_a_terminal_and_retries_a_wrong_one(
    capsys, monkeypatch, locked_pdf, oracle_pack
):
    typed = iter(["nope", PASSWORD])
    prompts: list[str] = []
    monkeypatch.setattr(ask_command, "_can_prompt", lambda: True)
    monkeypatch.setattr(
        ask_command.getpass, "getpass", lambda prompt: prompts.append(prompt) or next(typed)
    )
    code, out, err = run(capsys, str(locked_pdf), QUESTION, "--model", str(oracle_pack), "--json")
    assert code == 0, err
    assert json.loads(out)["answers"][0]["text"] == "Alpha Bravo"
    assert len(prompts) == 2 and "contract.pdf" in prompts[0]
    assert "wrong password; try again" in err and PASSWORD not in err and "nope" not in err


def test_cache_keeps_protected_text_only_when_allowed(locked_pdf):
    save_settings(Settings(cache_protected=True))
    doc = opening.open_document(locked_pdf, password=PASSWORD, cache_protected=True).doc
    assert "Alpha Bravo" in doc.text
    assert len(cache_files_containing(SECRET)) == 1
    # Cached, and still locked: the cache is no way around the password.
    with pytest.raises(PasswordRequired) as missing:
        opening.open_document(locked_pdf, cache_protected=True)
    assert not missing.value.wrong
    with pytest.raises(PasswordRequired) as wrong:
        opening.open_document(locked_pdf, password="nope", cache_protected=True)
    assert wrong.value.wrong
    # Allowed no longer: the next open removes the entry.
    again = opening.open_document(locked_pdf, password=PASSWORD, cache_protected=False).doc
    assert again.text == doc.text
    assert cache_files_containing(SECRET) == []


def test_cli_follows_the_settings_switch(capsys, locked_pdf, oracle_pack):
    save_settings(Settings(cache_protected=True))
    argv = [str(locked_pdf), QUESTION, "--model", str(oracle_pack), "--password", PASSWORD]
    assert run(capsys, *argv)[0] == 0
    assert len(cache_files_containing(SECRET)) == 1


# -- the app's dialog ------------------------------------------------------------------
def test_dialog_retries_a_wrong_password_then_opens_and_esc_cancels(qtbot, locked_pdf, oracle_pack):
    from PySide6.QtCore import Qt

    from desktop_qa.core.reading.pack import load_pack
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.gui.session import Session
    from desktop_qa.gui.window import MainWindow

    session = Session()
    window = MainWindow(session, restore_geometry=False)
    qtbot.addWidget(window)
    window.resize(1000, 760)
    window.show()
    qtbot.waitExposed(window)
    session.set_reader(Reader(load_pack(oracle_pack)))
    try:
        with qtbot.waitSignal(session.documentPasswordNeeded, timeout=15000) as first:
            window.open_file(locked_pdf)
        assert first.args == [str(locked_pdf), False]
        dialog = window.password_dialog
        assert dialog is not None and dialog.isVisible() and not dialog.error.isVisible()

        # A wrong password: the dialog comes back saying so.
        qtbot.keyClicks(dialog.field, "not it")
        with qtbot.waitSignal(session.documentPasswordNeeded, timeout=15000) as second:
            qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
        assert second.args == [str(locked_pdf), True]
        retry = window.password_dialog
        assert retry is not None and retry is not dialog and retry.error.isVisible()
        assert retry.field.text() == ""

        # The right one opens it; pages render with it; the question answers.
        qtbot.keyClicks(retry.field, PASSWORD)
        with qtbot.waitSignal(session.documentLoaded, timeout=15000):
            qtbot.keyClick(retry.field, Qt.Key.Key_Return)
        assert window.password_dialog is None
        assert session.document is not None and "Alpha Bravo" in session.document.text
        qtbot.waitUntil(lambda: not window.pdf_view.missing_pages(), timeout=15000)
        with qtbot.waitSignal(session.queryFinished, timeout=15000):
            session.ask(QUESTION)
        assert (session.result.answers[0].text, session.result.answers[0].page) == (
            "Alpha Bravo",
            2,
        )
        assert cache_files_containing(SECRET) == []

        # Esc cancels: the dialog closes and the open document stays.
        shown = session.document
        with qtbot.waitSignal(session.documentPasswordNeeded, timeout=15000):
            window.open_file(locked_pdf)
        dialog = window.password_dialog
        assert dialog is not None
        qtbot.keyClicks(dialog.field, "half typed")
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: window.password_dialog is None, timeout=5000)
        assert session.document is shown and not session.loading
        assert "cancelled" in window.statusBar().currentMessage().lower()
    finally:
        session.shutdown()


def test_a_question_asked_while_opening_waits_for_the_password(qtbot, locked_pdf, oracle_pack):
    """`desktop-qa gui FILE --ask Q` on a protected file: asked once the password opens it."""
    from PySide6.QtCore import Qt

    from desktop_qa.core.reading.pack import load_pack
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.gui.session import Session
    from desktop_qa.gui.window import MainWindow

    session = Session()
    window = MainWindow(session, restore_geometry=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    session.set_reader(Reader(load_pack(oracle_pack)))
    try:
        with qtbot.waitSignal(session.documentPasswordNeeded, timeout=15000):
            window.open_file(locked_pdf)
            session.ask(QUESTION)
        dialog = window.password_dialog
        qtbot.keyClicks(dialog.field, PASSWORD)
        with qtbot.waitSignal(session.queryFinished, timeout=15000) as done:
            qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
        assert done.args[0].answers[0].text == "Alpha Bravo"
    finally:
        session.shutdown()


def test_password_bytes_that_are_not_utf8_open_a_latin1_password_or_fail_in_one_line(
    tmp_path: Path, locked_pdf: Path
) -> None:
    """`--password "$(printf 'x\\xff')"` from a Latin-1 terminal: read as Latin-1, never exit 3."""
    import subprocess
    import sys

    latin = tmp_path / "latin.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
    doc.save(str(latin), encryption=pymupdf.PDF_ENCRYPT_RC4_128, user_pw="x\xff", owner_pw="o")
    doc.close()

    def ask(path: Path, password: bytes) -> subprocess.CompletedProcess[bytes]:
        argv = [sys.executable, "-m", "desktop_qa", "ask", str(path), QUESTION, "--json"]
        return subprocess.run([*argv, "--password", password], capture_output=True, timeout=120)

    opened = ask(latin, b"x\xff")
    assert opened.returncode == 0, opened.stderr
    assert "Alpha Bravo" in json.loads(opened.stdout)["answers"][0]["text"]
    wrong = ask(locked_pdf, b"x\xff")
    err = wrong.stderr.decode()
    assert wrong.returncode == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert "wrong password" in err
