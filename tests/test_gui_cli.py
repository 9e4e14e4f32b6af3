"""`desktop-qa gui ... --screenshot` run as a user would (subprocess, offscreen); Qt-free core."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
from pathlib import Path

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
        "import sys, desktop_qa.core, desktop_qa.core.engine, desktop_qa.core.settings, "
        "desktop_qa.cli; desktop_qa.cli.build_parser(); "
        "print(any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
