"""A real X server for tests: Xvfb + openbox, keys sent with xdotool, state read back.

The app runs with ``--state-file`` (desktop_qa/gui/state.py), so each step is
checked on what the window reports (page, focus, answers, current answer,
highlight), and ``import -window root`` (imagemagick) keeps screenshots when
it is installed. Debian packages: xvfb openbox xdotool imagemagick x11-utils
(``.ci/run`` installs them when it runs as root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TOOLS = {"Xvfb": "xvfb", "openbox": "openbox", "xdotool": "xdotool"}
SCREEN = "1400x1000x24"


def missing_tools() -> str | None:
    """Why a real-X test cannot run here, or None."""
    missing = [
        f"{tool} (apt-get install {pkg})" for tool, pkg in TOOLS.items() if not shutil.which(tool)
    ]
    if missing:
        return "needs " + ", ".join(missing)
    from desktop_qa.gui.syslibs import missing_libraries, missing_message

    libs = missing_libraries()
    return missing_message(libs) if libs else None


@contextmanager
def x_display(log_dir: Path) -> Iterator[str]:
    """Start Xvfb (a free display number) and openbox on it; yield DISPLAY."""
    read_fd, write_fd = os.pipe()
    xlog = open(log_dir / "xvfb.log", "wb")
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=xlog,
        stderr=subprocess.STDOUT,
    )
    os.close(write_fd)
    wm = None
    try:
        with os.fdopen(read_fd, "rb") as fh:
            number = fh.readline().strip().decode()
        if not number:
            raise RuntimeError(f"Xvfb did not start: {(log_dir / 'xvfb.log').read_text()}")
        display = f":{number}"
        env = dict(os.environ, DISPLAY=display)
        wm = subprocess.Popen(
            ["openbox", "--sm-disable"],
            env=env,
            stdout=open(log_dir / "openbox.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_wm(env)
        yield display
    finally:
        for proc in (wm, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        xlog.close()


def _wait_for_wm(env: dict[str, str], timeout: float = 15) -> None:
    """Until openbox has taken the screen (it sets _NET_SUPPORTING_WM_CHECK)."""
    if not shutil.which("xprop"):
        time.sleep(1.5)
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = subprocess.run(
            ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True
        )
        if "window id" in out.stdout:
            return
        time.sleep(0.1)
    raise RuntimeError("openbox did not start")


class App:
    """The app under a real X server, driven by keyboard only."""

    def __init__(self, cmd: Sequence[str], env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.state_path = workdir / "state.json"
        self.log = open(workdir / "app.log", "wb")
        self.proc = subprocess.Popen(
            [*cmd, "--state-file", str(self.state_path)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )

    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def wait(self, what: str, test: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict:
        end = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited ({self.proc.returncode}): {self.output()}")
            state = self.state()
            if state and test(state):
                return state
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last state: {state}; {self.output()}")

    def output(self) -> str:
        self.log.flush()
        return (self.workdir / "app.log").read_text("utf-8", "replace")[-3000:]

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0, f"xdotool {args}: {out.stderr}"
        return out.stdout

    def activate(self) -> None:
        """Wait for the window to be mapped and give it the keyboard focus."""
        wid = self.xdotool("search", "--sync", "--onlyvisible", "--pid", str(self.proc.pid))
        self.xdotool("windowactivate", "--sync", wid.split()[0])

    def key(self, *keys: str) -> None:
        self.xdotool("key", "--delay", "60", *keys)

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", "30", text)

    def screenshot(self, name: str) -> Path | None:
        """The whole screen as PNG (imagemagick's ``import``), or None without it."""
        if not shutil.which("import"):
            return None
        time.sleep(0.3)  # the state is written as the pixmaps arrive; let the paint land
        path = self.workdir / name
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, timeout=60
        )
        return path

    def close(self) -> int:
        try:
            if self.proc.poll() is None:
                self.key("ctrl+q")
                try:
                    return self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            return self.proc.wait(10)
        finally:
            self.log.close()


def keyboard_session(
    app: App, *, document: str, start_page: int, question: str, answer: str, answer_page: int
) -> dict[str, Any]:
    """The keyboard walk every real-X test makes; returns the states and screenshots seen.

    Open at a page, Esc leaves the question bar, Ctrl+F comes back, type the
    question, Enter answers (the best answer highlighted on its page), F3 the
    second answer, Shift+F3 back, Ctrl+G 7 Enter goes to page 7, Ctrl+Q quits.
    """
    seen: dict[str, Any] = {}
    opened = app.wait(
        "the document at its page",
        lambda s: s["document"] == document and not s["loading"] and s["page"] == start_page,
    )
    seen["opened"] = opened
    app.activate()
    app.wait("focus in the question bar", lambda s: s["focus"] == "question")
    app.key("Escape")
    seen["escaped"] = app.wait("focus on the pages", lambda s: s["focus"] == "pages")
    app.key("ctrl+f")
    app.wait("focus in the question bar", lambda s: s["focus"] == "question")
    app.type(question)
    app.wait("the question typed", lambda s: s["question"] == question)
    app.key("Return")
    app.wait(
        "the answers",
        lambda s: s["answers"][:1] == [answer] and not s["busy"] and s["current"] == 0,
    )
    seen["answered"] = app.wait(
        "the answer's page, drawn", lambda s: s["page"] == answer_page and s["rendered"]
    )
    seen["shot_answer"] = app.screenshot("after-enter.png")
    app.key("F3")
    seen["next"] = app.wait("the second answer", lambda s: s["current"] == 1 and s["rendered"])
    seen["shot_next"] = app.screenshot("after-f3.png")
    app.key("shift+F3")
    seen["previous"] = app.wait("back to the first answer", lambda s: s["current"] == 0)
    app.key("ctrl+g")
    app.wait("focus in the page box", lambda s: s["focus"] == "page_box")
    app.type("7")
    app.key("Return")
    seen["goto"] = app.wait("page 7", lambda s: s["page"] == 7 and s["focus"] == "pages")
    seen["exit"] = app.close()
    return seen
