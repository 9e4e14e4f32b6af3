"""Pages under a real X server: still drawn after the app sat idle, and nothing burnt at rest.

* Left untouched for 45 s (longer than the 30 s after which Qt's pool retires
  an idle thread, the one that started the drawing child), the app still
  draws every page it is sent to: three pages, each checked on a screenshot
  for the page's own black text (a page that could not be drawn is white but
  for one grey line).
* Zoomed to the maximum on a DPR-2 screen (``QT_SCALE_FACTOR=2``), the app
  and its drawing child use next to no CPU while left alone, and the app stays
  well under the memory target.

Both run the app as a user would (``python -m desktop_qa``), keys sent with
xdotool; slow (a minute each).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.test_x11 import x_env
from tests.xserver import App, missing_tools, x_display

pytestmark = [
    pytest.mark.x11,
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools()), reason=str(missing_tools())),
    pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc"),
]

IDLE_SECONDS = 45
REST_SECONDS = 15


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _window_box(app: App) -> tuple[int, int, int, int]:
    """The app window's x, y, width, height on the screen (xdotool)."""
    wid = app.xdotool("search", "--onlyvisible", "--pid", str(app.proc.pid)).split()[0]
    shell = app.xdotool("getwindowgeometry", "--shell", wid)
    geometry = dict(line.split("=", 1) for line in shell.split() if "=" in line)
    return tuple(int(geometry[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))  # type: ignore[return-value]


def _ink(shot: Path, box: tuple[int, int, int, int]) -> int:
    """Edges of black text on a white page in the page area of the window ``box`` (its left
    two thirds, below the toolbars): a drawn page has thousands; one that could not be
    drawn is white but for one grey line, and the grey around the pages is lighter than 50."""
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert not image.isNull(), shot
    bx, by, bw, bh = box
    left, right = max(bx, 0) + 8, min(bx + int(bw * 0.65), image.width()) - 4
    top, bottom = max(by + int(bh * 0.2), 0), min(by + bh, image.height()) - 4

    def grey(x: int, y: int) -> int:
        c = image.pixelColor(x, y)
        return (c.red() + c.green() + c.blue()) // 3

    edges = 0
    for y in range(top, bottom, 2):
        for x in range(left, right, 2):
            if grey(x, y) < 50 and max(grey(x - 3, y), grey(x + 3, y)) > 250:
                edges += 1
    return edges


def test_pages_are_still_drawn_after_the_app_sat_idle(tmp_path, handbook_pdf):  # type: ignore[no-untyped-def]
    with x_display(tmp_path) as display:
        cmd = [sys.executable, "-m", "desktop_qa", str(handbook_pdf)]
        app = App(cmd, x_env(display, tmp_path / "user"), tmp_path)
        app.wait("the document, drawn", lambda s: s["document"] == "handbook.pdf" and s["rendered"])
        app.activate()
        app.key("Escape")
        app.wait("focus on the pages", lambda s: s["focus"] == "pages")
        time.sleep(IDLE_SECONDS)  # untouched: the pool thread that started the child retires
        inks = {}
        for page in (20, 35, 50):
            app.key("ctrl+g")
            app.wait("focus in the page box", lambda s: s["focus"] == "page_box")
            app.type(str(page))
            app.key("Return")
            app.wait(f"page {page}, drawn", lambda s, p=page: s["page"] == p and s["rendered"])
            shot = app.screenshot(f"idle-page-{page}.png")
            if shot is not None:
                inks[page] = _ink(shot, _window_box(app))
        assert app.close() == 0, app.output()
    assert all(ink > 300 for ink in inks.values()), inks  # text on each page, not a blank one


def test_at_the_highest_zoom_on_a_dpr2_screen_the_app_rests(tmp_path, handbook_pdf):  # type: ignore[no-untyped-def]
    with x_display(tmp_path) as display:
        env = x_env(display, tmp_path / "user")
        env["QT_SCALE_FACTOR"] = "2"
        cmd = [sys.executable, "-m", "desktop_qa", str(handbook_pdf), "--page", "3"]
        app = App(cmd, env, tmp_path)
        app.wait("the document at page 3", lambda s: s["page"] == 3 and s["rendered"])
        app.activate()
        app.key("Escape")
        app.wait("focus on the pages", lambda s: s["focus"] == "pages")
        for _ in range(20):  # Ctrl++ until the zoom stops growing (the maximum)
            app.key("ctrl+equal")
        state = app.wait("the highest zoom, drawn", lambda s: s["zoom"] >= 5.99 and s["rendered"])
        time.sleep(2)  # the last tiles land
        shot = app.screenshot("dpr2-max-zoom.png")
        box = _window_box(app)
        pids = [app.proc.pid, *_children(app.proc.pid)]
        before = {pid: _cpu_seconds(pid) for pid in pids}
        time.sleep(REST_SECONDS)
        used = {pid: _cpu_seconds(pid) - before[pid] for pid in pids}
        rss = {pid: _rss_mb(pid) for pid in pids}
        assert app.close() == 0, app.output()
    print(f"zoom {state['zoom']}: CPU at rest {used} s, RSS {rss} MB")
    assert sum(used.values()) < 0.5, used  # no render loop at rest
    assert sum(rss.values()) < 800, rss
    if shot is not None:
        assert _ink(shot, box) > 300  # the zoomed text is there
