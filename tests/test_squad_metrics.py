"""The SQuAD 2.0 metrics must match the official evaluate-v2.0.py number for number."""

from __future__ import annotations

import pytest

from desktop_qa.core.reading import squad


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Quick, Brown fox!", "quick brown fox"),
        ("an apple a day", "apple day"),
        ("  Several   spaces\there ", "several spaces here"),
        ("another theory", "another theory"),  # articles only as whole words
        ("the-end", "theend"),  # punctuation goes first, so no article is left
        ("A", ""),
        ("1,000 dollars.", "1000 dollars"),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert squad.normalize_answer(text) == expected


def test_exact_ignores_case_articles_and_punctuation() -> None:
    assert squad.compute_exact("the Eiffel Tower", "Eiffel tower.") == 1
    assert squad.compute_exact("Eiffel Tower", "Tower") == 0
    assert squad.compute_exact("", "") == 1


def test_f1_partial_overlap() -> None:
    # pred "cat" vs gold "the cat sat": precision 1, recall 1/2
    assert squad.compute_f1("the cat sat", "cat") == pytest.approx(2 / 3)
    # Counter overlap counts repeated tokens: common {y: 2}, P = R = 2/3
    assert squad.compute_f1("x y y", "y y y") == pytest.approx(2 / 3)
    assert squad.compute_f1("red car", "blue bike") == 0.0
    assert squad.compute_f1("Paris", "paris!") == 1.0


def test_f1_empty_gold_and_prediction() -> None:
    assert squad.compute_f1("", "") == 1.0
    assert squad.compute_f1("", "something") == 0.0
    assert squad.compute_f1("something", "") == 0.0
    assert squad.compute_f1("the", "") == 1.0  # both normalize to no tokens


def test_gold_answers_drop_empty_and_default_to_empty_string() -> None:
    assert squad.gold_answers([]) == [""]
    assert squad.gold_answers([{"text": "the"}, {"text": "Denver"}]) == ["Denver"]
    assert squad.gold_answers([{"text": "a"}]) == [""]


def test_max_over_gold_answers() -> None:
    golds = ["Denver Broncos", "the Broncos", "Broncos team"]
    exact, f1 = squad.metric_max_over_gold(golds, "Broncos")
    assert exact == 1  # "the Broncos" normalizes to "broncos"
    assert f1 == 1.0
    exact, f1 = squad.metric_max_over_gold(["Denver Broncos", "Carolina"], "Denver")
    assert exact == 0
    assert f1 == pytest.approx(2 / 3)


DATASET = [
    {
        "title": "t",
        "paragraphs": [
            {
                "context": "ignored by the metric",
                "qas": [
                    {"id": "h1", "answers": [{"text": "Denver Broncos"}, {"text": "Broncos"}]},
                    {"id": "h2", "answers": [{"text": "the cat sat"}]},
                    {"id": "n1", "answers": [], "is_impossible": True},
                    {"id": "n2", "answers": [], "is_impossible": True},
                ],
            }
        ],
    }
]


def test_squad_v2_eval_without_na_probs() -> None:
    preds = {"h1": "Broncos", "h2": "cat", "n1": "", "n2": "Denver"}
    out = squad.squad_v2_eval(DATASET, preds)
    # exact: 1, 0, 1, 0; f1: 1, 2/3, 1, 0
    assert out["total"] == 4
    assert out["exact"] == pytest.approx(50.0)
    assert out["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1 + 0) / 4)
    assert out["HasAns_total"] == 2
    assert out["HasAns_exact"] == pytest.approx(50.0)
    assert out["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert out["NoAns_total"] == 2
    assert out["NoAns_exact"] == pytest.approx(50.0)
    assert out["NoAns_f1"] == pytest.approx(50.0)
    assert "best_f1" not in out


def test_squad_v2_eval_best_threshold_official_search() -> None:
    # Forced (answer-everything) predictions and na scores (null - best span).
    preds = {"h1": "Broncos", "h2": "cat", "n1": "x", "n2": "y"}
    na = {"h1": -3.0, "n1": -1.0, "h2": 2.0, "n2": 5.0}
    out = squad.squad_v2_eval(DATASET, preds, na, na_prob_thresh=1.0)
    # Headline re-applies na > 1.0 as no-answer: h1 1, n1 answered wrong 0,
    # h2 and n2 abstain: h2 0, n2 1.
    assert out["exact"] == pytest.approx(50.0)
    assert out["f1"] == pytest.approx(50.0)
    # Search: start 2 (abstain everywhere); h1 +1 -> 3 (best, -3); n1 -1 -> 2;
    # h2 +0 (exact) / +2/3 (f1) -> 2 / 2.667; n2 -1.
    assert out["best_exact"] == pytest.approx(75.0)
    assert out["best_exact_thresh"] == -3.0
    assert out["best_f1"] == pytest.approx(75.0)
    assert out["best_f1_thresh"] == -3.0


def test_best_null_threshold_uses_pack_convention() -> None:
    preds = {"h1": "Broncos", "h2": "cat", "n1": "x", "n2": "y"}
    na = {"h1": -3.0, "n1": -1.0, "h2": 2.0, "n2": 5.0}
    has = squad.make_qid_to_has_ans(DATASET)
    _, f1_raw = squad.get_raw_scores(DATASET, preds)
    score, null_threshold = squad.best_null_threshold(preds, f1_raw, na, has)
    assert score == pytest.approx(75.0)
    # Best cut lies between h1 (-3) and n1 (-1): na < -2 answers, i.e. span - null > 2.
    assert null_threshold == pytest.approx(2.0)
    answered = [q for q in na if -na[q] > null_threshold]
    assert answered == ["h1"]


def test_best_null_threshold_ties_and_abstain_everything() -> None:
    preds = {"n1": "x", "n2": "y", "h1": "wrong"}
    dataset = [
        {
            "paragraphs": [
                {
                    "context": "c",
                    "qas": [
                        {"id": "n1", "answers": []},
                        {"id": "n2", "answers": []},
                        {"id": "h1", "answers": [{"text": "right"}]},
                    ],
                }
            ]
        }
    ]
    na = {"n1": 1.0, "n2": 1.0, "h1": 1.0}
    has = squad.make_qid_to_has_ans(dataset)
    _, f1_raw = squad.get_raw_scores(dataset, preds)
    score, null_threshold = squad.best_null_threshold(preds, f1_raw, na, has, margin=0.5)
    assert score == pytest.approx(100 * 2 / 3)
    # Abstaining everywhere is best: answer only when na < 0.5, which none is.
    assert null_threshold == pytest.approx(-0.5)
    # The official search reports 0.0 here (its initial value).
    assert squad.find_best_thresh(preds, f1_raw, na, has) == (pytest.approx(100 * 2 / 3), 0.0)
