"""End-to-end evaluation with the rule-based oracle pack, whose every logit is known.

Oracle: start("alpha") = 10, start("delta") = 3, end("bravo") = 10,
end("echo") = 3, [CLS] null score 5 + 5 = 10, every other token 0.

| id | paragraph | gold | span (score) | na | default pred |
| q1 | "... alpha bravo ..." | alpha bravo | alpha bravo (20) | -10 | right |
| q5 | same paragraph | (none) | alpha bravo (20) | -10 | wrong answer |
| q2 | "... alpha charlie bravo ..." | charlie | alpha charlie bravo | -10 | F1 1/2 |
| q3 | "Nothing relevant ..." | (none) | some 0-score span | +10 | abstains: ok |
| q4 | "... delta echo ..." | delta echo | delta echo (6) | +4 | abstains: 0 |
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_qa import cli
from desktop_qa.core import load_pack
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.evaluate import evaluate, load_squad
from desktop_qa.core.reading.reader import Reader
from desktop_qa.packs.oracle import build_oracle_pack


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    return build_oracle_pack(
        tmp_path / "oracle",
        {"alpha": 10.0, "delta": 3.0},
        {"bravo": 10.0, "echo": 3.0},
        null_score=5.0,
        extra_words=["charlie", "password", "winner", "noted"],
    )


def _qa(qid: str, question: str, answers: list[str]) -> dict:
    return {
        "id": qid,
        "question": question,
        "answers": [{"text": a, "answer_start": 0} for a in answers],
        "is_impossible": not answers,
    }


SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "codes",
            "paragraphs": [
                {
                    "context": "The code word is alpha bravo today.",
                    "qas": [
                        _qa("q1", "What is the code word?", ["alpha bravo", "Alpha Bravo."]),
                        _qa("q5", "What is the password of the vault?", []),
                    ],
                },
                {
                    "context": "The winner was alpha charlie bravo here.",
                    "qas": [_qa("q2", "Who was the winner?", ["charlie"])],
                },
            ],
        },
        {
            "title": "other",
            "paragraphs": [
                {
                    "context": "Nothing relevant is written in this sentence.",
                    "qas": [_qa("q3", "What is the capital of the moon?", [])],
                },
                {
                    "context": "The delta echo value was noted.",
                    "qas": [_qa("q4", "Which value was noted?", ["delta echo"])],
                },
            ],
        },
    ],
}


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(SQUAD), encoding="utf-8")
    return path


def test_evaluate_scores_match_hand_computation(pack_dir: Path, data_file: Path) -> None:
    seen: list[tuple[int, int]] = []
    out = evaluate(
        data_file, Reader(load_pack(pack_dir)), progress=lambda d, t: seen.append((d, t))
    )
    assert out["predictions"] == {
        "q1": "alpha bravo",
        "q5": "alpha bravo",
        "q2": "alpha charlie bravo",
        "q3": "",
        "q4": "",
    }
    assert out["na_scores"] == {"q1": -10.0, "q5": -10.0, "q2": -10.0, "q3": 10.0, "q4": 4.0}
    # exact: q1 1, q5 0, q2 0, q3 1, q4 0; f1: 1, 0, 1/2, 1, 0
    assert out["total"] == 5
    assert out["exact"] == pytest.approx(40.0)
    assert out["f1"] == pytest.approx(50.0)
    assert out["HasAns_total"] == 3
    assert out["HasAns_exact"] == pytest.approx(100 / 3)
    assert out["HasAns_f1"] == pytest.approx(50.0)
    assert out["NoAns_total"] == 2
    assert out["NoAns_exact"] == pytest.approx(50.0)
    assert out["NoAns_f1"] == pytest.approx(50.0)
    # Official search over forced answers, in na order q1 q5 q2 | q4 | q3, from 2 (NoAns):
    # exact 2 +1 -1 +0 | +1 | -1 -> best 3 at -10; f1 2 +1 -1 +.5 | +1 | -1 -> best 3.5 at 4.
    assert out["best_exact"] == pytest.approx(60.0)
    assert out["best_exact_thresh"] == -10.0
    assert out["best_f1"] == pytest.approx(70.0)
    assert out["best_f1_thresh"] == 4.0
    # Pack convention: answer when na < (4 + 10) / 2 = 7, i.e. null_threshold -7.
    assert out["calibrated_f1"] == pytest.approx(70.0)
    assert out["calibrated_null_threshold"] == pytest.approx(-7.0)
    assert seen[0] == (0, 5)
    assert seen[-1] == (5, 5)


def test_evaluate_limit_and_threshold(pack_dir: Path, data_file: Path) -> None:
    reader = Reader(load_pack(pack_dir))
    out = evaluate(data_file, reader, limit=2)
    assert out["total"] == 2
    assert set(out["predictions"]) == {"q1", "q5"}
    assert out["exact"] == pytest.approx(50.0)
    # A threshold above every margin abstains everywhere: only NoAns questions score.
    out = evaluate(data_file, reader, threshold=100.0)
    assert set(out["predictions"].values()) == {""}
    assert out["exact"] == pytest.approx(40.0)
    assert out["HasAns_exact"] == 0.0
    assert out["NoAns_exact"] == 100.0


def test_eval_cli_json_and_calibrate(
    pack_dir: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["eval", str(data_file), "--model", str(pack_dir), "--json", "--calibrate"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["exact"] == pytest.approx(40.0)
    assert report["calibration"]["old"] == 0.0
    assert report["calibration"]["new"] == pytest.approx(-7.0)
    assert "predictions" not in report

    pack = load_pack(pack_dir)  # checksums were redone
    assert pack.null_threshold == pytest.approx(-7.0)
    assert pack.name == "oracle-test"
    assert pack.trained is False
    assert pack.architecture == "rule-based"

    # With the calibrated threshold q4 is answered: the best F1 becomes the actual F1.
    assert cli.main(["eval", str(data_file), "--model", str(pack_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["null_threshold"] == pytest.approx(-7.0)
    assert report["exact"] == pytest.approx(60.0)
    assert report["f1"] == pytest.approx(70.0)


def test_eval_cli_table(
    pack_dir: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["eval", str(data_file), "--model", str(pack_dir), "--limit", "3"]) == 0
    captured = capsys.readouterr()
    assert "HasAns" in captured.out
    assert "calibrated null_threshold" in captured.out
    assert "untrained" in captured.err  # the oracle is a test model and says so


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json at all", "not readable JSON"),
        ('{"version": "1.0"}', 'no "data" list'),
        ('{"data": [{"paragraphs": [{"qas": []}]}]}', 'no "context"'),
        ('{"data": [{"paragraphs": [{"context": "x", "qas": [{"question": "q"}]}]}]}', '"id"'),
    ],
)
def test_not_squad_is_one_user_error(
    tmp_path: Path, pack_dir: Path, content: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match="not a SQuAD 2.0 file"):
        load_squad(bad)
    assert cli.main(["eval", str(bad), "--model", str(pack_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert needle in err[0]


def test_eval_needs_data_or_squad2_dev(pack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["eval", "--model", str(pack_dir)]) == 2
    assert capsys.readouterr().err.startswith("error: pass a SQuAD 2.0 JSON file")
    assert cli.main(["eval", "missing.json", "--model", str(pack_dir)]) == 2
    assert "not found" in capsys.readouterr().err
