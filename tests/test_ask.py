"""`desktop-qa ask` end to end with the rule-based pack: exact answers, pages, boxes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main
from desktop_qa.core import Reader, load_pack
from desktop_qa.packs.oracle import build_oracle_pack
from tests.asking import ask_text
from tests.pdfgen import filler_words, handbook


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["ask", *argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("warning: model pack") and err.count("\n") == 1  # untrained pack
    return json.loads(out)


def test_answer_on_page_41_of_60_with_boxes(handbook_pdf: Path, oracle_pack: Path, capsys):
    result = run_json(
        capsys, str(handbook_pdf), "What is the launch code?", "--model", str(oracle_pack)
    )
    assert result["no_answer"] is False
    assert result["model"] == {"name": "oracle-test", "trained": False}
    best = result["answers"][0]
    assert best["text"] == "Alpha Bravo" and best["page"] == 41
    with pymupdf.open(handbook_pdf) as pdf:
        expected = pdf[40].search_for("Alpha Bravo")[0]
    (box,) = best["boxes"]
    assert all(abs(a - b) < 1.5 for a, b in zip(box, expected, strict=True))
    assert best["probability"] > 0.99 and best["score"] == 20.0
    assert result["null_score"] == 10.0
    assert "Alpha Bravo" in best["context"]
    assert len(result["answers"]) <= 5
    scores = [a["score"] for a in result["answers"]]
    assert scores == sorted(scores, reverse=True)


def test_text_file_gives_exact_offsets(tmp_path: Path, oracle_pack: Path, capsys):
    body = " ".join(filler_words(3000, 7))
    content = f"{body}\n\nÜber alles: the launch code is Alpha Bravo.\n\n{body}\n"
    path = tmp_path / "notes.txt"
    path.write_text(content, encoding="utf-8")
    result = run_json(
        capsys, str(path), "launch code?", "--model", str(oracle_pack), "--top-k", "2"
    )
    best = result["answers"][0]
    assert (best["start"], best["end"]) == (content.index("Alpha"), content.index("Alpha") + 11)
    assert best["page"] is None and best["boxes"] == []
    assert len(result["answers"]) == 2


def test_no_answer(tmp_path: Path, oracle_pack: Path, capsys):
    pdf = handbook(tmp_path / "plain.pdf", pages=5, fact=None)
    result = run_json(capsys, str(pdf), "What is the launch code?", "--model", str(oracle_pack))
    assert result["no_answer"] is True and result["answers"] == []


def test_threshold_overrides_the_pack(handbook_pdf: Path, oracle_pack: Path, capsys):
    args = [str(handbook_pdf), "What is the launch code?", "--model", str(oracle_pack)]
    # best span 20 - null 10 = 10: answered at threshold 9.9, abstains at 10.
    assert run_json(capsys, *args, "--threshold", "9.9")["no_answer"] is False
    strict = run_json(capsys, *args, "--threshold", "10")
    assert strict["no_answer"] is True and strict["best_guess"]["text"] == "Alpha Bravo"


def test_ranking_of_several_candidates(tmp_path: Path, capsys):
    pack = build_oracle_pack(
        tmp_path / "pack", {"alpha": 10, "charlie": 7}, {"bravo": 10, "delta": 6}
    )
    text = tmp_path / "t.txt"
    gap = " ".join(filler_words(30, 1))  # farther apart than max_answer_length tokens
    text.write_text(f"one alpha bravo two {gap}.\n\nthree charlie delta four.\n", encoding="utf-8")
    answers = run_json(capsys, str(text), "which?", "--model", str(pack))["answers"]
    assert [a["text"] for a in answers[:2]] == ["alpha bravo", "charlie delta"]
    assert answers[0]["probability"] > answers[1]["probability"]


def test_answer_across_a_window_boundary(oracle_pack: Path):
    """The answer straddles the end of the first window; the overlap finds it whole."""
    reader = Reader(load_pack(oracle_pack))
    question = "what is the code?"
    probe = reader.windows(question, [(0, 0, "the " * 500)])
    room = int(probe[0].context_mask.sum())  # context tokens per window
    words = ["the"] * (room - 1) + ["alpha", "bravo"] + ["the"] * 40
    text = " ".join(words)
    windows = reader.windows(question, [(0, 0, text)])
    first_ids = windows[0].ids[windows[0].context_mask]
    vocab = reader.tokenizer.get_vocab()
    assert first_ids[-1] == vocab["alpha"] and vocab["bravo"] not in first_ids
    result = ask_text(text, question, reader)
    best = result.answers[0]
    assert best.text == "alpha bravo" and best.start == text.index("alpha")


def test_human_readable_table(handbook_pdf: Path, oracle_pack: Path, capsys):
    assert main(["ask", str(handbook_pdf), "launch code?", "--model", str(oracle_pack)]) == 0
    out = capsys.readouterr().out
    assert "candidate" in out and "Alpha Bravo" in out and " 41" in out


def test_module_entry_point_and_console_script(handbook_pdf: Path, oracle_pack: Path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_qa",
            "ask",
            str(handbook_pdf),
            "code?",
            "--model",
            str(oracle_pack),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answers"][0]["page"] == 41


def test_answering_never_imports_torch_or_qt(handbook_pdf: Path, oracle_pack: Path):
    """The app answers with onnxruntime alone; torch is only for building packs."""
    code = (
        "import sys; from desktop_qa.cli import main; "
        f"main(['ask', {str(handbook_pdf)!r}, 'code?', "
        f"'--model', {str(oracle_pack)!r}, '--json']); "
        "print([m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'transformers', 'PySide6', 'shiboken6')], file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == "[]"
