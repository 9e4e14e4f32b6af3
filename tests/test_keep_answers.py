"""Answers you can keep: `ask --format text|json|csv|markdown`, safe terminal output.

The exported Markdown, CSV and JSON of a known question (rule-based pack) are
parsed back and must give exactly the answers of `--json`, with document and
page. Document text and file names are untrusted: no escape sequence reaches
the terminal, and a file name that is not UTF-8 never crashes printing nor
puts an invalid byte in the JSON.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from desktop_qa.cli import main
from desktop_qa.core.reading import export
from tests.gui_helpers import env_for_subprocess

QUESTION = "What is the launch code?"
FIELDS = ("text", "score", "probability", "page", "start", "end", "context")


def ask(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["ask", *argv]) == 0
    return capsys.readouterr().out


def parse_markdown(text: str) -> tuple[dict[str, str], list[dict[str, object]]]:
    """The document, model and answer rows of an exported Markdown file."""
    head: dict[str, str] = {}
    rows: list[dict[str, object]] = []
    for line in text.splitlines():
        if line.startswith("- Document: "):
            head["document"] = export.md_unescape(line[len("- Document: ") :])
        elif line.startswith("- Model: "):
            head["model"] = export.md_unescape(line[len("- Model: ") :])
        elif line.startswith("## "):
            head["question"] = export.md_unescape(line[3:])
        elif line.startswith("| ") and not line.startswith(("| #", "| ---")):
            cells = [export.md_unescape(c) for c in _split_row(line)]
            rank, text, score, prob, doc, page, start, end, context = cells
            rows.append(
                {
                    "rank": rank,
                    "text": text,
                    "score": float(score),
                    "probability": float(prob),
                    "document": doc,
                    "page": int(page) if page else None,
                    "start": int(start),
                    "end": int(end),
                    "context": context,
                }
            )
    return head, rows


def _split_row(line: str) -> list[str]:
    """Cells of a Markdown table row, honouring backslash-escaped pipes."""
    cells, cell, i = [], "", 0
    body = line.strip()[1:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            cell += body[i : i + 2]
            i += 2
            continue
        if body[i] == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += body[i]
        i += 1
    cells.append(cell.strip())
    return cells


def test_markdown_csv_json_round_trip_the_answers(capsys, oracle_pack, handbook_pdf):
    args = [str(handbook_pdf), QUESTION, "--model", str(oracle_pack)]
    truth = json.loads(ask(capsys, *args, "--json"))
    answers = truth["answers"]
    assert [a["text"] for a in answers][:1] == ["Alpha Bravo"] and len(answers) == 5
    assert answers[0]["page"] == 41
    # --format json is --json, the same object.
    again = json.loads(ask(capsys, *args, "--format", "json"))
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in truth.items() if k != "seconds"
    }

    rows = list(csv.DictReader(io.StringIO(ask(capsys, *args, "--format", "csv"))))
    assert len(rows) == len(answers)
    for rank, (row, a) in enumerate(zip(rows, answers, strict=True), 1):
        assert row["question"] == QUESTION and row["model"].startswith("oracle-test")
        assert row["kind"] == "answer" and int(row["rank"]) == rank
        assert row["document"] == str(handbook_pdf)
        assert row["text"] == a["text"] and row["context"] == a["context"]
        assert float(row["score"]) == a["score"] and float(row["probability"]) == a["probability"]
        assert int(row["page"]) == a["page"]
        assert (int(row["start"]), int(row["end"])) == (a["start"], a["end"])

    head, md_rows = parse_markdown(ask(capsys, *args, "--format", "markdown"))
    assert head["question"] == QUESTION and head["document"] == str(handbook_pdf)
    assert head["model"].startswith("oracle-test")
    assert len(md_rows) == len(answers)
    for rank, (row, a) in enumerate(zip(md_rows, answers, strict=True), 1):
        assert row["rank"] == str(rank) and row["document"] == str(handbook_pdf)
        assert {k: row[k] for k in FIELDS} == {k: a[k] for k in FIELDS}


def test_text_format_is_the_table(capsys, oracle_pack, handbook_pdf):
    args = [str(handbook_pdf), QUESTION, "--model", str(oracle_pack), "--top-k", "2"]
    default = ask(capsys, *args)
    assert ask(capsys, *args, "--format", "text").splitlines()[:-1] == default.splitlines()[:-1]
    lines = default.splitlines()
    assert lines[0] == f"handbook.pdf: {QUESTION}"
    assert lines[2].split()[:2] == ["1", "Alpha"] and lines[2].split()[-1] == "41"
    assert lines[-1].startswith("(") and "oracle-test" in lines[-1]


def test_json_and_format_disagreeing_is_one_error(capsys, oracle_pack, handbook_pdf):
    code = main(["ask", str(handbook_pdf), QUESTION, "--json", "--format", "csv"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_escape_sequences_in_a_document_never_reach_the_terminal(tmp_path, capsys, oracle_pack):
    hostile = "\x1b]0;pwned\x07"  # retitles the terminal
    clear = "\x1b[2J"  # clears the screen
    doc = tmp_path / "hostile.txt"
    doc.write_text(f"The launch code is Alpha {hostile} Bravo. {clear}Done.\n", encoding="utf-8")
    args = [str(doc), QUESTION, "--model", str(oracle_pack)]
    for fmt in ("text", "csv", "markdown"):
        out = ask(capsys, *args, "--format", fmt)
        assert "\x1b" not in out and "\x07" not in out, fmt
        assert "Alpha Bravo" in out and "pwned" not in out, fmt
    # JSON keeps the text exactly, escaped.
    raw = ask(capsys, *args, "--json")
    assert "\x1b" not in raw and "\\u001b" in raw
    assert hostile in json.loads(raw)["answers"][0]["text"]


def test_clean_text_drops_controls_keeps_words():
    assert export.clean_text("a\x1b[31mred\x1b[0m b\x9b2Jc\x00d\te") == "ared bcd\te"
    assert export.clean_text("caf\udce9.pdf") == "caf\\xe9.pdf"


@pytest.mark.skipif(sys.platform != "linux", reason="non-UTF-8 file names are a POSIX matter")
def test_non_utf8_file_name_under_a_strict_utf8_stdout(tmp_path, oracle_pack):
    name = os.fsencode(tmp_path) + b"/caf\xe9-\xff.txt"
    with open(name, "wb") as fh:
        fh.write(b"The launch code is Alpha Bravo.\n")
    env = env_for_subprocess(tmp_path / "user")
    env.update(PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    for fmt in ("text", "json", "csv", "markdown"):
        proc = subprocess.run(
            [sys.executable, "-m", "desktop_qa", "ask", name, QUESTION, "--model", str(oracle_pack)]
            + ["--format", fmt],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == 0, (fmt, proc.stderr)
        assert b"Traceback" not in proc.stderr
        out = proc.stdout.decode("utf-8")  # valid UTF-8: no raw 0xFF byte
        assert b"\xff" not in proc.stdout
        if fmt == "json":
            data = json.loads(out)
            assert os.fsencode(data["document"]) == name  # the bytes come back exactly
            assert data["answers"][0]["text"] == "Alpha Bravo"
        else:  # the bytes shown as \xNN (Markdown escapes the backslash)
            shown = export.md_unescape(out) if fmt == "markdown" else out
            assert "caf\\xe9-\\xff.txt" in shown, fmt


def test_csv_cells_from_a_document_never_run_as_formulas(tmp_path, capsys, monkeypatch):
    """OWASP CSV injection: text cells starting with = + - @ get a leading quote; numbers stay."""
    monkeypatch.chdir(tmp_path)
    for formula in (
        '=HYPERLINK("https://evil","launch code")',
        "+1+2 launch code",
        "-3+4 launch code",
        "@SUM(1) launch code",
    ):
        name = "=cmd.txt" if formula[0] == "=" else "cmd.txt"  # a name "-x" reads as an option
        (tmp_path / name).write_text(formula + "\n", encoding="utf-8")
        question = "=launch code?"
        (row,) = csv.DictReader(io.StringIO(ask(capsys, name, question, "--format", "csv")))
        assert row["text"] == "'" + formula and row["context"] == "'" + formula  # readable
        assert row["question"] == "'" + question
        assert row["document"] == ("'=cmd.txt" if name[0] == "=" else name)
        for field in ("score", "probability", "start", "end"):
            float(row[field])  # numbers the program wrote stay numbers
