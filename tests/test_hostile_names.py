"""Issue 30.5, the smaller breaks: bidirectional controls in names, Ctrl+C during OCR,
content read by what it is, not by its suffix."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_qa.cli import main

RLO = "\u202e"  # right-to-left override: "report\u202etxt.md" displays as "reportdm.txt"


def test_bidirectional_controls_in_names_are_shown_escaped(tmp_path: Path, capsys):
    path = tmp_path / f"report{RLO}dm.txt"
    path.write_text("The lease ends in May.\n", encoding="utf-8")
    assert main(["find", str(path), "lease"]) == 0
    out = capsys.readouterr().out
    assert RLO not in out and "report\\u202edm.txt" in out.splitlines()[0]
    assert main(["find", str(tmp_path / f"gone{RLO}\u2066.pdf"), "lease"]) == 2
    err = capsys.readouterr().err
    assert RLO not in err and "\u2066" not in err and "gone\\u202e\\u2066.pdf" in err
    assert main(["find", str(path), "lease", "--json"]) == 0  # JSON keeps the name as it is
    assert json.loads(capsys.readouterr().out)["document"] == str(path)


def test_the_window_shows_a_name_s_bidirectional_controls_escaped():
    from desktop_qa.core.errors import UserError
    from desktop_qa.gui.messages import user_message

    line = user_message(UserError(f"/tmp/invoice{RLO}fdp.exe: unsupported file type"))
    assert RLO not in line and "invoice\\u202efdp.exe" in line


def test_a_pdf_named_like_a_web_page_or_text_is_refused_saying_what_it_is(tmp_path: Path, capsys):
    """It was read as HTML: "No answer in this document (read in full)", exit 0."""
    from tests.pdfgen import handbook

    pdf = handbook(tmp_path / "real.pdf", pages=2, answer_page=1)
    for name in ("page.html", "notes.txt", "mail.eml"):
        disguised = tmp_path / name
        disguised.write_bytes(pdf.read_bytes())
        for argv in (["ask", str(disguised), "What is the launch code?"],
                     ["find", str(disguised), "launch"]):  # fmt: skip
            assert main(argv) == 2
            out, err = capsys.readouterr()
            assert out == "" and err.count("\n") == 1, err
            assert f"{name} is a PDF" in err and "rename it to end in .pdf" in err
    page = tmp_path / "fine.html"
    page.write_text("<html><body><p>The launch code is Alpha Bravo.</p></body></html>")
    assert main(["find", str(page), "launch code"]) == 0
    assert "1 match" in capsys.readouterr().out


def echo_job(job: object, note: object) -> object:
    return job


def test_a_child_leaves_ctrl_c_to_its_parent():
    """SIGINT reaches every process of the terminal's group; a child that died of it first
    left the parent's unwinding to meet closed pipes."""
    import os
    import signal
    import time

    from desktop_qa.core.system import child

    worker = child.Child(echo_job, start_method="spawn")
    try:
        assert worker.call("ready", 60) == "ready"
        os.kill(worker.process.pid, signal.SIGINT)
        time.sleep(0.3)
        assert worker.alive and worker.call("still here", 10) == "still here"
    finally:
        worker.kill()


def test_ctrl_c_during_ocr_is_cancelled_whatever_fails_on_the_way(
    tmp_path: Path, monkeypatch, capsys
):
    """Ctrl+C, then a pipe closed under a worker thread while unwinding: "cancelled", 130
    (it was "Bad file descriptor", exit 2, in 2 runs of 16)."""
    import errno
    import os
    import signal
    import time

    from desktop_qa.commands import find as find_command

    def interrupted_open(*_args: object, **_kwargs: object) -> object:
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl+C
            time.sleep(5)
        except KeyboardInterrupt:
            raise OSError(errno.EBADF, "Bad file descriptor") from None
        raise AssertionError("no interrupt came")

    monkeypatch.setattr(find_command, "open_with_password", interrupted_open)
    path = tmp_path / "scan.txt"
    path.write_text("text", encoding="utf-8")
    assert main(["find", str(path), "text"]) == 130
    assert capsys.readouterr().err == "error: cancelled\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
