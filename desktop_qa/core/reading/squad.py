"""SQuAD 2.0 metrics, exactly as the official ``evaluate-v2.0.py`` defines them.

Kept Qt-free and torch-free so ``desktop-qa eval`` and the tests can run on a
bare install, and kept line-for-line faithful to the official script so our
numbers are comparable with published SQuAD 2.0 results.

No-answer scores and thresholds
-------------------------------
The official script takes a per-question "no-answer probability" ``na_prob``
and predicts no answer when ``na_prob > thresh``. Our readers produce logits,
so we use ``na_score = null_score - best_span_score`` (higher = more likely
unanswerable); thresholds found by :func:`find_best_thresh` are therefore in
logit units. A pack answers when ``best_span - null > null_threshold``, i.e.
when ``na_score < -null_threshold``: the pack's ``null_threshold`` is the
*negated* na-score threshold (see :func:`null_threshold_from_na_thresh`).
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (official order)."""

    def remove_articles(text: str) -> str:
        return _ARTICLES.sub(" ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        return "".join(ch for ch in text if ch not in _PUNCTUATION)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def get_tokens(s: str) -> list[str]:
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold: str, a_pred: str) -> int:
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold: str, a_pred: str) -> float:
    """Token-overlap F1; an empty gold and an empty prediction agree (F1 = 1)."""
    gold_toks = get_tokens(a_gold)
    pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        # If either is no-answer, then F1 is 1 if they agree, 0 otherwise
        return float(gold_toks == pred_toks)
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def gold_answers(answers: Iterable[Mapping[str, Any]]) -> list[str]:
    """Gold texts that survive normalization; an unanswerable question's gold is ``[""]``."""
    golds = [a["text"] for a in answers if normalize_answer(a["text"])]
    return golds or [""]


def metric_max_over_gold(golds: Sequence[str], pred: str) -> tuple[int, float]:
    """(exact, f1) of one prediction: the best over all gold answers."""
    return (
        max(compute_exact(a, pred) for a in golds),
        max(compute_f1(a, pred) for a in golds),
    )


def iter_qas(dataset: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for article in dataset:
        for paragraph in article["paragraphs"]:
            yield from paragraph["qas"]


def make_qid_to_has_ans(dataset: Iterable[Mapping[str, Any]]) -> dict[str, bool]:
    return {qa["id"]: bool(qa["answers"]) for qa in iter_qas(dataset)}


def get_raw_scores(
    dataset: Iterable[Mapping[str, Any]], preds: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, float]]:
    """Per-question exact and F1 (questions without a prediction are skipped, as officially)."""
    exact_scores: dict[str, int] = {}
    f1_scores: dict[str, float] = {}
    for qa in iter_qas(dataset):
        qid = qa["id"]
        if qid not in preds:
            continue
        exact_scores[qid], f1_scores[qid] = metric_max_over_gold(
            gold_answers(qa["answers"]), preds[qid]
        )
    return exact_scores, f1_scores


def apply_no_ans_threshold(
    scores: Mapping[str, float],
    na_probs: Mapping[str, float],
    qid_to_has_ans: Mapping[str, bool],
    na_prob_thresh: float,
) -> dict[str, float]:
    new_scores: dict[str, float] = {}
    for qid, s in scores.items():
        pred_na = na_probs[qid] > na_prob_thresh
        new_scores[qid] = float(not qid_to_has_ans[qid]) if pred_na else s
    return new_scores


def make_eval_dict(
    exact_scores: Mapping[str, float],
    f1_scores: Mapping[str, float],
    qid_list: Sequence[str] | None = None,
) -> dict[str, float]:
    if not qid_list:
        total = len(exact_scores)
        return {
            "exact": 100.0 * sum(exact_scores.values()) / total,
            "f1": 100.0 * sum(f1_scores.values()) / total,
            "total": total,
        }
    total = len(qid_list)
    return {
        "exact": 100.0 * sum(exact_scores[k] for k in qid_list) / total,
        "f1": 100.0 * sum(f1_scores[k] for k in qid_list) / total,
        "total": total,
    }


def merge_eval(main_eval: dict[str, Any], new_eval: Mapping[str, Any], prefix: str) -> None:
    for k in new_eval:
        main_eval[f"{prefix}_{k}"] = new_eval[k]


def find_best_thresh(
    preds: Mapping[str, str],
    scores: Mapping[str, float],
    na_probs: Mapping[str, float],
    qid_to_has_ans: Mapping[str, bool],
) -> tuple[float, float]:
    """Official search: start from "abstain on everything", answer in na_prob order.

    Returns (best score in percent, na_prob threshold); predict no answer when
    ``na_prob > thresh``. ``preds`` should be the span each question would get
    if forced to answer, so the search can weigh answering against abstaining.
    """
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score: float = num_no_ans
    best_score: float = cur_score
    best_thresh = 0.0
    qid_list = sorted(na_probs, key=lambda k: na_probs[k])
    for qid in qid_list:
        if qid not in scores:
            continue
        if qid_to_has_ans[qid]:
            diff = scores[qid]
        else:
            diff = -1 if preds[qid] else 0
        cur_score += diff
        if cur_score > best_score:
            best_score = cur_score
            best_thresh = na_probs[qid]
    return 100.0 * best_score / len(scores), best_thresh


def find_all_best_thresh(
    main_eval: dict[str, Any],
    preds: Mapping[str, str],
    exact_raw: Mapping[str, float],
    f1_raw: Mapping[str, float],
    na_probs: Mapping[str, float],
    qid_to_has_ans: Mapping[str, bool],
) -> None:
    best_exact, exact_thresh = find_best_thresh(preds, exact_raw, na_probs, qid_to_has_ans)
    best_f1, f1_thresh = find_best_thresh(preds, f1_raw, na_probs, qid_to_has_ans)
    main_eval["best_exact"] = best_exact
    main_eval["best_exact_thresh"] = exact_thresh
    main_eval["best_f1"] = best_f1
    main_eval["best_f1_thresh"] = f1_thresh


def squad_v2_eval(
    dataset: Sequence[Mapping[str, Any]],
    preds: Mapping[str, str],
    na_probs: Mapping[str, float] | None = None,
    na_prob_thresh: float = 1.0,
) -> dict[str, Any]:
    """The official script's ``main``: overall, HasAns_, NoAns_ and (with na_probs) best_*.

    ``dataset`` is the SQuAD file's ``data`` list. As in the official script the
    headline numbers re-apply ``na_prob_thresh`` to ``na_probs``; pass
    ``na_probs=None`` when ``preds`` already hold the final (thresholded) answers.
    """
    na_given = na_probs is not None
    probs = dict(na_probs) if na_probs is not None else {k: 0.0 for k in preds}
    qid_to_has_ans = make_qid_to_has_ans(dataset)
    has_ans_qids = [k for k, v in qid_to_has_ans.items() if v]
    no_ans_qids = [k for k, v in qid_to_has_ans.items() if not v]
    exact_raw, f1_raw = get_raw_scores(dataset, preds)
    exact_thresh = apply_no_ans_threshold(exact_raw, probs, qid_to_has_ans, na_prob_thresh)
    f1_thresh = apply_no_ans_threshold(f1_raw, probs, qid_to_has_ans, na_prob_thresh)
    out_eval: dict[str, Any] = make_eval_dict(exact_thresh, f1_thresh)
    if has_ans_qids:
        merge_eval(out_eval, make_eval_dict(exact_thresh, f1_thresh, has_ans_qids), "HasAns")
    if no_ans_qids:
        merge_eval(out_eval, make_eval_dict(exact_thresh, f1_thresh, no_ans_qids), "NoAns")
    if na_given:
        find_all_best_thresh(out_eval, preds, exact_raw, f1_raw, probs, qid_to_has_ans)
    return out_eval


def best_null_threshold(
    preds: Mapping[str, str],
    scores: Mapping[str, float],
    na_probs: Mapping[str, float],
    qid_to_has_ans: Mapping[str, bool],
    margin: float = 0.5,
) -> tuple[float, float]:
    """Best score and the pack ``null_threshold`` that achieves it on these questions.

    Same search as :func:`find_best_thresh`, but it only stops between distinct
    na scores, because a pack cannot split questions with equal scores, and it
    turns the cut into the pack's convention: the pack answers when
    ``na < -null_threshold`` (strict), so the cut sits halfway to the next na
    score (or ``margin`` past the last one; ``margin`` below the first when
    abstaining on everything is best, where the official search says 0.0).
    """
    qids = sorted((q for q in na_probs if q in scores), key=lambda k: na_probs[k])
    if not qids:
        return 0.0, 0.0
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score: float = num_no_ans
    best_score: float = cur_score
    best_cut = na_probs[qids[0]] - margin
    i = 0
    while i < len(qids):
        value = na_probs[qids[i]]
        while i < len(qids) and na_probs[qids[i]] == value:
            qid = qids[i]
            if qid_to_has_ans[qid]:
                cur_score += scores[qid]
            elif preds[qid]:
                cur_score -= 1
            i += 1
        if cur_score > best_score:
            best_score = cur_score
            best_cut = (value + na_probs[qids[i]]) / 2.0 if i < len(qids) else value + margin
    return 100.0 * best_score / len(scores), -best_cut
