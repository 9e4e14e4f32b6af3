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
import subprocess
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


def test_missing_xcb_library_is_one_line_not_an_abort(tmp_path, handbook_pdf):
    """A library hidden by a crafted LD_LIBRARY_PATH (a non-library file of its name)."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "libxcb-cursor.so.0").write_bytes(b"not a shared library")
    with x_display(tmp_path) as display:
        env = x_env(display, tmp_path / "user")
        env["LD_LIBRARY_PATH"] = str(hide)
        proc = subprocess.run(
            [sys.executable, "-m", "desktop_qa", str(handbook_pdf)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: ") and "libxcb-cursor.so.0" in line
    assert "sudo apt install" in line and "libxcb-cursor0" in line
    assert "sudo dnf install" in line and "xcb-util-cursor" in line
