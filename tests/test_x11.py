"""The app under a real X server (Xvfb + openbox), driven by the keyboard through xdotool.

Offscreen GUI tests cannot show focus, window-manager or real key-event
problems; this runs the pip-installed command as a user would and checks each
step on the state the window writes (``--state-file``). Skipped, with the
reason, when Xvfb, openbox, xdotool or the xcb system libraries are missing
(``.ci/run`` installs them as root). The bundle gets the same walk in
tests/test_packaging.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.xserver import App, keyboard_session, missing_tools, x_display

pytestmark = [
    pytest.mark.x11,
    pytest.mark.skipif(bool(missing_tools()), reason=str(missing_tools())),
]

QUESTION = "What is the launch code?"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def x_env(display: str, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["DISPLAY"] = display
    for name in ("DATA", "CONFIG", "CACHE"):
        env[f"DESKTOP_QA_{name}_DIR"] = str(root / name.lower())
    env.pop("DESKTOP_QA_MODEL", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def test_keyboard_walk_under_a_real_x_server(tmp_path, oracle_pack, handbook_pdf):
    with x_display(tmp_path) as display:
        cmd = [sys.executable, "-m", "desktop_qa", str(handbook_pdf), "--page", "3"]
        cmd += ["--model", str(oracle_pack)]
        app = App(cmd, x_env(display, tmp_path / "user"), tmp_path)
        seen = keyboard_session(
            app,
            document="handbook.pdf",
            start_page=3,
            question=QUESTION,
            answer="Alpha Bravo",
            answer_page=41,
        )
    assert seen["opened"]["pages"] == 60
    answered = seen["answered"]
    assert answered["highlight"]["page"] == 41
    assert answered["header"].startswith("Answer 1 of 5")
    second = seen["next"]
    assert second["header"].startswith("Answer 2 of 5")
    assert second["answers"][1] != "Alpha Bravo"
    assert second["highlight"] != answered["highlight"]
    assert seen["previous"]["highlight"] == answered["highlight"]
    assert seen["exit"] == 0, app.output()
    for key in ("shot_answer", "shot_next"):
        if seen[key] is not None:
            assert seen[key].read_bytes().startswith(PNG_MAGIC)


def test_password_dialog_takes_the_keyboard_under_a_real_x_server(tmp_path, oracle_pack):
    """A protected PDF: the dialog gets the focus from the window manager; typing opens it."""
    import pymupdf

    locked = tmp_path / "locked.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
    doc.save(str(locked), encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw 42", owner_pw="o")
    doc.close()
    with x_display(tmp_path) as display:
        cmd = [sys.executable, "-m", "desktop_qa", str(locked), "--model", str(oracle_pack)]
        app = App(cmd, x_env(display, tmp_path / "user"), tmp_path)
        app.wait("the password dialog", lambda s: s["password_dialog"])
        app.activate()
        app.wait("focus in the password field", lambda s: s["focus"] == "password")
        app.type("wrong")
        app.key("Return")
        app.wait("the dialog again", lambda s: s["password_wrong"] and s["focus"] == "password")
        shot = app.screenshot("password-retry.png")
        app.type("pw 42")
        app.key("Return")
        opened = app.wait("the document", lambda s: s["document"] == "locked.pdf" and s["rendered"])
        assert not opened["password_dialog"] and opened["pages"] == 1
        state_text = app.state_path.read_text("utf-8")
        assert "pw 42" not in state_text
        assert app.close() == 0, app.output()
    if shot is not None:
        assert shot.read_bytes().startswith(PNG_MAGIC)


def test_every_shortcut_from_the_question_bar_under_a_real_x_server(
    tmp_path, oracle_pack, handbook_pdf
):
    """Each shortcut, sent while the cursor is in the question bar, does its job."""
    with x_display(tmp_path) as display:
        cmd = [sys.executable, "-m", "desktop_qa", str(handbook_pdf), "--model", str(oracle_pack)]
        app = App(cmd, x_env(display, tmp_path / "user"), tmp_path)
        app.wait("the document", lambda s: s["document"] == "handbook.pdf" and not s["loading"])
        app.activate()
        app.wait("focus in the question bar", lambda s: s["focus"] == "question")
        app.type(QUESTION)
        app.key("Return")
        answered = app.wait(
            "the answers", lambda s: s["answers"][:1] == ["Alpha Bravo"] and not s["busy"]
        )
        assert "best-matching passages read" in answered["header"]
        done: list[str] = []

        def in_bar(key: str, what: str, test) -> dict:  # type: ignore[no-untyped-def]
            app.wait(f"focus in the question bar before {key}", lambda s: s["focus"] == "question")
            app.key(key)
            state = app.wait(f"{key}: {what}", test, timeout=30)
            done.append(key)
            return state

        def back_to_bar() -> None:
            app.key("Escape")
            app.wait("the dialog closed", lambda s: s["dialog"] is None)
            if app.state()["focus"] != "question":
                app.key("ctrl+f")

        in_bar("F3", "the second answer", lambda s: s["current"] == 1)
        in_bar("shift+F3", "the first answer", lambda s: s["current"] == 0)
        zoom = app.state()["zoom"]
        in_bar("ctrl+equal", "zoomed in", lambda s: s["zoom"] > zoom)
        in_bar("ctrl+minus", "zoomed out", lambda s: s["zoom"] < zoom * 1.1)
        in_bar("ctrl+0", "fit width", lambda s: abs(s["zoom"] - zoom) < 1e-3)
        in_bar("ctrl+shift+c", "copied", lambda s: "citation" in s["status"])
        in_bar("ctrl+e", "the export dialog", lambda s: s["dialog"] == "Export answers")
        back_to_bar()
        in_bar("ctrl+o", "the open dialog", lambda s: s["dialog"] == "Open document")
        back_to_bar()
        in_bar("F1", "the shortcuts", lambda s: s["dialog"] == "Keyboard Shortcuts")
        shot = app.screenshot("shortcuts.png")
        back_to_bar()
        in_bar("ctrl+shift+l", "the library scope", lambda s: s["scope"] == "library")
        in_bar("ctrl+shift+d", "the document scope", lambda s: s["scope"] == "document")
        panel = app.state()["library_panel"]
        in_bar("F9", "the library panel toggled", lambda s: s["library_panel"] != panel)
        in_bar(
            "ctrl+Return",
            "the whole document read",
            lambda s: not s["busy"] and "best-matching passages read" not in s["header"],
        )
        in_bar("F12", "the outline", lambda s: s["outline"] is not None and s["focus"] == "outline")
        app.key("Escape")
        app.wait("focus on the pages", lambda s: s["focus"] == "pages")
        app.key("ctrl+f")
        in_bar("ctrl+shift+f", "the find bar", lambda s: s["find"] is not None)
        app.key("Escape")
        app.wait("the find bar closed", lambda s: s["find"] is None and s["focus"] == "pages")
        app.key("ctrl+f")
        in_bar("ctrl+g", "the page box", lambda s: s["focus"] == "page_box")
        app.key("Escape")
        app.wait("focus on the pages", lambda s: s["focus"] == "pages")
        app.key("ctrl+f")
        in_bar("Escape", "focus on the pages", lambda s: s["focus"] == "pages")
        app.key("ctrl+f")
        app.wait("focus in the question bar", lambda s: s["focus"] == "question")
        assert app.close() == 0, app.output()  # ctrl+q from the question bar
    assert len(done) == 17  # and ctrl+q
    if shot is not None:
        assert shot.read_bytes().startswith(PNG_MAGIC)


def test_outline_and_find_words_by_keyboard_under_a_real_x_server(tmp_path):
    """F12, arrows, Enter jump to a section; Ctrl+Shift+F, words, Enter/F3 step the hits."""
    from tests.test_gui_viewer import outlined_words_pdf

    path = outlined_words_pdf(tmp_path / "outlined.pdf")
    with x_display(tmp_path) as display:
        cmd = [sys.executable, "-m", "desktop_qa", str(path)]
        app = App(cmd, x_env(display, tmp_path / "user"), tmp_path)
        app.wait("the document", lambda s: s["document"] == "outlined.pdf" and s["rendered"])
        app.activate()
        app.wait("focus in the question bar", lambda s: s["focus"] == "question")
        app.key("F12")
        app.wait("the outline", lambda s: s["outline"] is not None and s["focus"] == "outline")
        app.key("Down", "Down", "Down")
        app.wait("Chapter 2 picked", lambda s: s["outline"]["current"] == "Chapter 2")
        assert app.state()["page"] == 1  # moving in the outline does not jump
        app.key("Return")
        jumped = app.wait("page 5", lambda s: s["page"] == 5 and s["rendered"])
        assert jumped["focus"] == "outline"
        shot_outline = app.screenshot("outline.png")
        app.key("Escape")
        app.wait("focus on the pages", lambda s: s["focus"] == "pages")
        app.key("ctrl+shift+f")
        app.wait("the find bar", lambda s: s["find"] is not None and s["focus"] == "find")
        app.type("blue whale")
        app.key("Return")
        first = app.wait("the first hit", lambda s: (s["find"] or {}).get("text") == "1 of 3")
        # Searching starts from the page shown (5): the first hit from there wraps to page 2.
        assert first["find"]["page"] == 2
        app.key("Return")
        app.wait("the second hit", lambda s: s["find"]["text"] == "2 of 3")
        app.key("F3")
        third = app.wait("the third hit", lambda s: s["find"]["text"] == "3 of 3" and s["rendered"])
        assert third["find"]["page"] == 4 and third["page"] == 4
        shot_find = app.screenshot("find.png")
        app.key("shift+F3")
        app.wait("back to the second", lambda s: s["find"]["text"] == "2 of 3")
        app.key("Escape")
        app.wait("the find bar closed", lambda s: s["find"] is None and s["focus"] == "pages")
        assert app.close() == 0, app.output()
    for shot in (shot_outline, shot_find):
        if shot is not None:
            assert shot.read_bytes().startswith(PNG_MAGIC)
