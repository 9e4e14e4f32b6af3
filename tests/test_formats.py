"""Word, PowerPoint, Excel, OpenDocument, HTML, RTF and e-mail: asked, cited, highlighted, refused.

Documents are written by each format's own library (tests/formatgen.py) with
"Alpha Bravo" planted where the oracle pack finds it; the answer must come
back with its format's citation and boxes that frame it on the laid-out page
(the pages the viewer shows).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core.documents import formats
from tests import formatgen
from tests.formatgen import ANSWER, PLANTED


@pytest.fixture(scope="module")
def every_format(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return formatgen.every_format(tmp_path_factory.mktemp("formats") / "docs")


def ask(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["ask", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_each_format_answers_with_its_citation_and_boxes(
    name: str, every_format: Path, oracle_pack: Path, capsys
) -> None:
    path = every_format / name
    result = ask(capsys, str(path), "What is the code?", "--model", str(oracle_pack))
    best = result["answers"][0]
    assert best["text"] == ANSWER
    assert best["location"] == PLANTED[name]
    with formats.open_laid_out(path) as pdf:  # the pages the viewer renders
        expected = pdf[best["page"] - 1].search_for(ANSWER)
    (box,) = best["boxes"]
    assert any(all(abs(a - b) < 1.5 for a, b in zip(box, e, strict=True)) for e in expected)


def test_text_output_and_the_cache_keep_the_citation(
    every_format: Path, oracle_pack: Path, capsys
) -> None:
    path = every_format / "budget.xlsx"
    for _ in range(2):  # the second answer comes from the cache, in a fresh process's way
        formats._RECENT.clear()
        assert main(["ask", str(path), "What is the code?", "--model", str(oracle_pack)]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[3].strip() == 'sheet "Budget", row 20, cell C20'


def test_html_and_email_fetch_nothing_and_run_nothing(every_format: Path, oracle_pack: Path):
    """strace: laying out a page and an e-mail naming remote images, CSS, fonts: no connect()."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    for name in ("page.html", "mail.eml"):
        out = every_format.parent / f"{name}.strace"
        run = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(out), sys.executable, "-m",
             "desktop_qa", "ask", str(every_format / name), "What is the code?", "--model",
             str(oracle_pack), "--json", "--exhaustive"],
            capture_output=True, text=True, timeout=120, env=os.environ | {"PYTHONPATH": _root()},
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        data = json.loads(run.stdout)
        assert data["answers"][0]["text"] == ANSWER
        assert "SCRIPTRAN" not in data["answers"][0]["context"]
        assert "connect(" not in out.read_text()


def _root() -> str:
    return str(Path(__file__).resolve().parents[1])


def test_library_indexes_every_format(every_format: Path, oracle_pack: Path, capsys) -> None:
    assert main(["library", "add", str(every_format), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["extracted"] == len(PLANTED) and report.get("failed", 0) == 0
    result = ask(
        capsys, "--library", "What is the code?", "--model", str(oracle_pack), "--top-k", "20",
        "--exhaustive",
    )  # fmt: skip
    found = {
        Path(a["document"]).name: a["location"] for a in result["answers"] if a["text"] == ANSWER
    }
    assert found == PLANTED


def test_supported_types_reach_the_library_and_the_open_dialog() -> None:
    from desktop_qa.core.storage import library
    from desktop_qa.gui import window

    for suffix in (".docx", ".pptm", ".xlsx", ".odt", ".ods", ".odp", ".htm", ".rtf", ".eml"):
        assert suffix in library.SUFFIXES
        assert f"*{suffix}" in window.OPEN_FILTER


def _encrypted_office(path: Path) -> Path:
    """An OLE compound file holding an EncryptionInfo stream: how Office saves a password."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff"
    stream = "EncryptionInfo".encode("utf-16-le")
    path.write_bytes(header + b"\x00" * 512 + stream + b"\x00" * 2048)
    return path


def _deep_mime(levels: int) -> bytes:
    head = b"From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    body = b"hello\r\n"
    for level in range(levels):
        boundary = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary
            + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    return head + body


def _bad_inputs(folder: Path, every_format: Path) -> dict[str, tuple[Path, str]]:
    """name: (file, what its one error line must say)."""
    folder.mkdir(exist_ok=True)
    good = (every_format / "lease.docx").read_bytes()
    files = {
        "truncated": ("truncated.docx", good[: len(good) // 2], "damaged or truncated zip"),
        "lying": ("notes.docx", b"just some text, not a Word file\n" * 20, "zip container"),
        "other zip": ("sheet.docx", (every_format / "budget.xlsx").read_bytes(),
                      "without word/document.xml"),
        "bomb": ("bomb.docx", formatgen.zip_with({
            "word/document.xml": b" " * (100 * 1024 * 1024), "[Content_Types].xml": b"<x/>"}),
            "zip bomb"),
        "not rtf": ("memo2.rtf", b"plain text pretending\n", "not an RTF file"),
        "binary html": ("page2.html", b"\x00\x01\x02binary" * 100, "binary data"),
        "deep mime": ("deep.eml", _deep_mime(30), "nested more than 8 levels"),
        "huge header": ("huge.eml", b"Subject: " + b"x" * (300 * 1024) + b"\r\n\r\nbody",
                        "headers are over 256 KB"),
        "many parts": ("parts.eml", b"From: a@b\r\nContent-Type: multipart/mixed; boundary=z"
                       b"\r\n\r\n" + b"--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n" * 600
                       + b"--z--\r\n", "more than 500 MIME parts"),
    }  # fmt: skip
    out = {}
    for key, (name, data, words) in files.items():
        (folder / name).write_bytes(data)
        out[key] = (folder / name, words)
    out["encrypted"] = (_encrypted_office(folder / "secret.xlsx"), "password-protected")
    out["million"] = (
        formatgen.million_cells(folder / "million.xlsx", every_format / "budget.xlsx"),
        "more than 50,000 filled cells",
    )
    return out


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, every_format: Path):
    return _bad_inputs(tmp_path_factory.mktemp("bad") / "bad", every_format)


@pytest.mark.parametrize(
    "key",
    ["truncated", "lying", "other zip", "bomb", "not rtf", "binary html", "deep mime",
     "huge header", "many parts", "encrypted", "million"],
)  # fmt: skip
def test_bad_input_is_one_error_line(key: str, bad_inputs, oracle_pack: Path, capsys) -> None:
    path, words = bad_inputs[key]
    before = sorted(os.listdir(path.parent))
    started = time.monotonic()
    code = main(["ask", str(path), "What is the code?", "--model", str(oracle_pack)])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err.splitlines()
    err = [line for line in err if not line.startswith("warning: model pack")]
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("error: ") and str(path) in err[0] and words in err[0], err[0]
    assert sorted(os.listdir(path.parent)) == before  # nothing written next to the file
    assert seconds < 30


def test_bad_files_are_listed_failed_in_the_library(bad_inputs, capsys) -> None:
    folder = next(iter(bad_inputs.values()))[0].parent
    main(["library", "add", str(folder), "--json"])
    capsys.readouterr()
    assert main(["library", "status", "--failed"]) == 0
    out = capsys.readouterr().out
    for key in ("encrypted", "bomb", "deep mime"):
        path, words = bad_inputs[key]
        line = next(line for line in out.splitlines() if path.name in line)
        assert words in line or words in out, line


def test_encoded_word_tricks_cannot_forge_the_citation(
    tmp_path: Path, oracle_pack: Path, capsys
) -> None:
    # "=?utf-8?b?...?=" hiding a line break, a fake header and a right-to-left override.
    import base64

    trick = base64.b64encode("Pay\r\nFrom: boss@example.org \u202egpj.exe".encode()).decode()
    raw = (
        f"From: Alice <alice@example.org>\r\nSubject: =?utf-8?b?{trick}?=\r\n"
        f"Date: {formatgen.DATE}\r\n\r\nThe code is {ANSWER}.\r\n"
    ).encode()
    path = tmp_path / "trick.eml"
    path.write_bytes(raw)
    best = ask(capsys, str(path), "What is the code?", "--model", str(oracle_pack))["answers"][0]
    location = best["location"]
    assert location.startswith('page 1 of e-mail "Pay From: boss@example.org gpj.exe" from Alice')
    assert not any(ch in location for ch in "\r\n\u202e")


def test_html_page_keeps_its_text_and_drops_scripts_and_remote_resources(every_format: Path):
    with formats.open_laid_out(every_format / "page.html") as pdf:  # what the viewer shows
        text = " ".join(page.get_text() for page in pdf)
    assert "Filler one." in text and "cell one" in text and ANSWER in text
    for unwanted in ("SCRIPTRAN", "document.write", "alert", "127.0.0.1", "[image]", "url("):
        assert unwanted not in text
