"""Every bad input: exit code 2 and exactly one `error:` line naming the problem."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.splitlines()


def assert_one_error(code: int, lines: list[str], *needles: str) -> None:
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def _password_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret alpha bravo")
    doc.save(str(path), encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="user", owner_pw="owner")
    return path


def _scanned_pdf(path: Path) -> Path:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.clear_with(200)
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(72, 72, 300, 300), pixmap=pix)
    doc.save(str(path))
    return path


def _blank_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page()
    doc.save(str(path))
    return path


BAD_FILES = {
    "missing": (lambda d: d / "nope.pdf", "file not found"),
    # A folder is asked as a library (issue 11); one with no document is bad input.
    "directory": (lambda d: d, "no document in the library could be read"),
    "unsupported": (
        lambda d: (d / "sheet.xls").write_bytes(b"PK\x03\x04 zip") and d / "sheet.xls",
        "unsupported file type",
    ),
    "corrupt": (
        lambda d: (
            (d / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage \x00\xff" * 3) and d / "broken.pdf"
        ),
        "damaged",
    ),
    "empty": (lambda d: (d / "empty.pdf").write_bytes(b"") == 0 and d / "empty.pdf", "is empty"),
    "empty-text": (
        lambda d: (d / "blank.txt").write_text("  \n\n ") and d / "blank.txt",
        "contains no text",
    ),
    "binary-as-text": (
        lambda d: (d / "bin.txt").write_bytes(bytes(range(256)) * 4) and d / "bin.txt",
        "does not look like a text file",
    ),
    "password": (lambda d: _password_pdf(d / "locked.pdf"), "password-protected"),
    "scanned": (lambda d: _scanned_pdf(d / "scan.pdf"), "no text found on any page, even with OCR"),
    "no-text": (lambda d: _blank_pdf(d / "blank.pdf"), "no extractable text"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_document(case: str, tmp_path: Path, oracle_pack: Path, capsys):
    make, needle = BAD_FILES[case]
    path = make(tmp_path)
    code, lines = run_cli(capsys, "ask", str(path), "What?", "--model", str(oracle_pack))
    assert_one_error(code, lines, needle, str(path))


@pytest.mark.parametrize("question", ["", "   ", "\n"])
def test_empty_question(question: str, handbook_pdf: Path, oracle_pack: Path, capsys):
    code, lines = run_cli(capsys, "ask", str(handbook_pdf), question, "--model", str(oracle_pack))
    assert_one_error(code, lines, "question is empty")


def test_missing_pack(handbook_pdf: Path, tmp_path: Path, capsys):
    code, lines = run_cli(capsys, "ask", str(handbook_pdf), "q?", "--model", str(tmp_path / "x"))
    assert_one_error(code, lines, "not found", "--model")


def test_no_pack_anywhere_answers_by_keyword(handbook_pdf: Path, capsys, monkeypatch):
    """No pack is not bad input: keyword matches, and one warning line saying so."""
    from desktop_qa.core.system import paths

    monkeypatch.setattr(paths, "bundled_models_dir", lambda: Path("/nonexistent"))
    code = main(["ask", str(handbook_pdf), "launch code?", "--json"])
    captured = capsys.readouterr()
    assert code == 0 and "Traceback" not in captured.err
    assert captured.err.splitlines() == [
        "warning: no model pack installed; showing keyword matches instead of answers "
        "(run 'desktop-qa model download' for real answers)"
    ]
    result = json.loads(captured.out)
    assert result["mode"] == "keyword" and result["answers"][0]["page"] == 41


def test_checksum_mismatch(handbook_pdf: Path, oracle_pack: Path, tmp_path: Path, capsys):
    pack = shutil.copytree(oracle_pack, tmp_path / "pack")
    (pack / "model.onnx").write_bytes((pack / "model.onnx").read_bytes() + b"\0")
    code, lines = run_cli(capsys, "ask", str(handbook_pdf), "q?", "--model", str(pack))
    assert_one_error(code, lines, "model.onnx does not match its checksum", str(pack))


def test_bad_top_k(handbook_pdf: Path, oracle_pack: Path, capsys):
    code, lines = run_cli(
        capsys, "ask", str(handbook_pdf), "q?", "--model", str(oracle_pack), "--top-k", "0"
    )
    assert_one_error(code, lines, "--top-k")


def test_real_process_exit_code_and_single_line(tmp_path: Path, oracle_pack: Path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_qa",
            "ask",
            str(tmp_path / "gone.pdf"),
            "q?",
            "--model",
            str(oracle_pack),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: {tmp_path / 'gone.pdf'}: file not found; check the path and try again"
    ]
