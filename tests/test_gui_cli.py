"""`desktop-qa gui ... --screenshot` run as a user would (subprocess, offscreen); Qt-free core."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_qa.gui.syslibs import missing_libraries, missing_message, uses_xcb
from tests.gui_helpers import env_for_subprocess

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _gui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_qa", "gui", *args],
        env=env_for_subprocess(tmp_path / "user"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_screenshot_after_answer(tmp_path, oracle_pack, handbook_pdf):
    out = tmp_path / "shot.png"
    proc = _gui(
        tmp_path,
        str(handbook_pdf),
        "--model",
        str(oracle_pack),
        "--ask",
        "What is the launch code?",
        "--screenshot",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000


def test_screenshot_exits_1_on_a_bad_document(tmp_path, oracle_pack):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7 garbage")
    proc = _gui(
        tmp_path,
        str(bad),
        "--model",
        str(oracle_pack),
        "--ask",
        "Q?",
        "--screenshot",
        str(tmp_path / "bad.png"),
    )
    assert proc.returncode == 1
    assert "error:" in proc.stderr and "bad.pdf" in proc.stderr


def test_core_never_imports_qt():
    code = (
        "import sys, desktop_qa.core, desktop_qa.core.reading.engine, "
        "desktop_qa.core.storage.settings, "
        "desktop_qa.cli; desktop_qa.cli.build_parser(); "
        "print(any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb platform is Linux's")
def test_missing_xcb_library_is_one_line_and_exit_2_not_an_abort(tmp_path, handbook_pdf):
    """libxcb-cursor0 hidden by a crafted LD_LIBRARY_PATH (a non-library file of its name).

    The same hiding makes Qt itself abort ("no Qt platform plugin could be
    initialized"); the check runs before Qt starts.
    """
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "libxcb-cursor.so.0").write_bytes(b"not a shared library")
    env = env_for_subprocess(tmp_path / "user")
    del env["QT_QPA_PLATFORM"]
    env.pop("WAYLAND_DISPLAY", None)
    env.update(DISPLAY=":97", LD_LIBRARY_PATH=str(hide))
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


def test_xcb_check_only_when_qt_will_start_xcb():
    x11 = {"DISPLAY": ":0"}
    assert uses_xcb(x11, "linux")
    assert uses_xcb({**x11, "QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_xcb({**x11, "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({**x11, "QT_QPA_PLATFORM": "wayland"}, "linux")
    assert not uses_xcb({}, "linux")  # no display: Qt fails on its own, with its message
    assert not uses_xcb(x11, "darwin")
    wayland = {**x11, "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}
    assert not uses_xcb(wayland, "linux")


def test_a_library_that_does_not_load_is_reported_with_its_packages():
    fake = "libdesktop-qa-no-such-library.so.9"
    present = "libc.so.6"
    assert missing_libraries([present, fake]) == [fake]
    line = missing_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in line
    assert "sudo dnf install xcb-util-keysyms xcb-util-wm" in line


def _qt_xcb_binaries() -> list[Path]:
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    qt = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    found = [qt / "plugins" / "platforms" / "libqxcb.so"]
    found += sorted((qt / "lib").glob("libQt6XcbQpa.so*"))[:1]
    return [p for p in found if p.is_file()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb platform is Linux's")
def test_the_probe_list_covers_what_the_xcb_plugin_links(tmp_path):
    """If a Qt upgrade links one more X library, the check must probe it too."""
    import re
    import shutil

    binaries = _qt_xcb_binaries()
    if not binaries or not shutil.which("ldd"):
        pytest.skip("needs PySide6's xcb plugin and ldd")
    from desktop_qa.gui.syslibs import XCB_LIBRARIES

    needed: set[str] = set()
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
        needed |= set(re.findall(r"^\s*((?:libxcb|libxkbcommon|libX11)\S*\.so\.\d+)", out, re.M))
    assert "libxcb-cursor.so.0" in needed  # the one Qt 6.5+ made necessary
    assert needed <= set(XCB_LIBRARIES), needed - set(XCB_LIBRARIES)


def test_no_display_is_one_line_not_an_abort(tmp_path):
    """Without DISPLAY or WAYLAND_DISPLAY, Qt would abort (134): one error line, exit 2."""
    env = env_for_subprocess(tmp_path / "user")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    for args in ([], ["gui"]):
        proc = subprocess.run(
            [sys.executable, "-m", "desktop_qa", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: no display"), proc.stderr
        assert "desktop-qa ask FILE QUESTION" in lines[0]


def test_window_options_before_or_after_gui(tmp_path, oracle_pack, handbook_pdf):
    """`desktop-qa --state-file X FILE` works as `desktop-qa gui --state-file X FILE` does."""
    import json

    for i, before in enumerate(([], ["gui"])):
        state, shot = tmp_path / f"state{i}.json", tmp_path / f"shot{i}.png"
        proc = subprocess.run(
            [sys.executable, "-m", "desktop_qa", *before, "--state-file", str(state)]
            + ["--model", str(oracle_pack), str(handbook_pdf), "--screenshot", str(shot)],
            env=env_for_subprocess(tmp_path / "user"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(state.read_text("utf-8"))["document"] == "handbook.pdf"
