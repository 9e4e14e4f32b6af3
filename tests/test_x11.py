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
