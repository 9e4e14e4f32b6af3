"""Run a model pack over a SQuAD 2.0 file and score it with the official metrics.

This is how we know a pack is any good, and how its ``null_threshold`` is
calibrated: every question goes through the same ``engine.answer`` the app uses (one
document per paragraph), so the numbers measure what users get.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from desktop_qa.core.documents.document import Document
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import squad
from desktop_qa.core.reading.engine import OpenedDocument, answer, final
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader

# Stands in for "no span at all" (empty context) so scores stay finite and JSON-safe.
NO_SPAN_NA_SCORE = 1e6


def _bad(path: Path, problem: str) -> UserError:
    return UserError(
        f"{path} is not a SQuAD 2.0 file: {problem} "
        '(expected {"data": [{"paragraphs": [{"context": ..., "qas": [...]}]}]})'
    )


def load_squad(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read and check a SQuAD v1.1/v2.0 JSON file; returns its ``data`` list."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"evaluation file {path} not found; pass a SQuAD 2.0 JSON file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"not readable JSON ({exc.__class__.__name__})") from None
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, list):
        raise _bad(path, 'no "data" list')
    seen: set[str] = set()
    for a, article in enumerate(data):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise _bad(path, f'article {a} has no "paragraphs" list')
        for p, para in enumerate(paragraphs):
            if not isinstance(para, dict) or not isinstance(para.get("context"), str):
                raise _bad(path, f'article {a} paragraph {p} has no "context" text')
            if not isinstance(para.get("qas"), list):
                raise _bad(path, f'article {a} paragraph {p} has no "qas" list')
            for qa in para["qas"]:
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str):
                    raise _bad(path, f'a question in article {a} paragraph {p} has no "question"')
                qid = qa.get("id")
                if not isinstance(qid, str) or not qid:
                    raise _bad(path, f'a question in article {a} paragraph {p} has no "id"')
                if qid in seen:
                    raise _bad(path, f"question id {qid!r} appears twice")
                seen.add(qid)
                answers = qa.get("answers")
                if not isinstance(answers, list) or not all(
                    isinstance(x, dict) and isinstance(x.get("text"), str) for x in answers
                ):
                    raise _bad(path, f'question {qid!r} has no "answers" list of {{"text": ...}}')
                if qa.get("is_impossible") and answers:
                    raise _bad(path, f"question {qid!r} is marked impossible but has answers")
    return data


def _limit(data: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """The first ``limit`` questions in file order, as a smaller dataset."""
    if limit is None:
        return data
    if limit < 1:
        raise UserError(f"must be at least 1 (got {limit})", setting="limit")
    out: list[dict[str, Any]] = []
    left = limit
    for article in data:
        paragraphs = []
        for para in article["paragraphs"]:
            if left <= 0:
                break
            qas = para["qas"][:left]
            left -= len(qas)
            if qas:
                paragraphs.append({**para, "qas": qas})
        if paragraphs:
            out.append({**article, "paragraphs": paragraphs})
        if left <= 0:
            break
    return out


def evaluate(
    data_path: str | os.PathLike[str],
    reader: Reader,
    *,
    limit: int | None = None,
    threshold: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    dataset: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Answer every question of a SQuAD 2.0 file with ``reader`` and score the answers.

    Returns the official metrics (``exact``, ``f1``, ``total``, ``HasAns_*``,
    ``NoAns_*``) for the pack's actual decisions at ``threshold`` (default: the
    pack's ``null_threshold``), plus the official best-threshold search
    (``best_exact``, ``best_f1`` and their ``*_thresh`` in na-score units,
    na = null - best span) run on the spans each question would get if forced
    to answer, and ``calibrated_null_threshold``: the pack value reaching
    ``calibrated_f1``. ``predictions`` and ``na_scores`` are per question id.
    ``dataset`` is the file's already loaded ``data`` list, if the caller has it.
    """
    data = _limit(load_squad(data_path) if dataset is None else dataset, limit)
    pack = reader.pack
    used_threshold = pack.null_threshold if threshold is None else float(threshold)
    total = sum(len(p["qas"]) for a in data for p in a["paragraphs"])
    preds: dict[str, str] = {}
    forced: dict[str, str] = {}
    na_scores: dict[str, float] = {}
    done = 0
    started = time.perf_counter()
    if progress is not None:
        progress(0, total)
    for article in data:
        for para in article["paragraphs"]:
            doc = Document.from_text(para["context"], name=article.get("title") or "paragraph")
            scope = OpenedDocument.from_document(doc)
            for qa in para["qas"]:
                qid = qa["id"]
                query = _query(qa["question"], used_threshold)
                if query is not None:
                    result = final(answer(scope, query, reader))
                    guess = result.best_guess
                    answered = not result.no_answer and result.answers
                    preds[qid] = result.answers[0].text if answered else ""
                    forced[qid] = guess.text if guess else ""
                    if result.best_span_score is None:
                        na_scores[qid] = NO_SPAN_NA_SCORE
                    elif result.null_score is None:
                        na_scores[qid] = -NO_SPAN_NA_SCORE
                    else:
                        na_scores[qid] = float(result.null_score - result.best_span_score)
                else:  # nothing to ask: abstain
                    preds[qid] = forced[qid] = ""
                    na_scores[qid] = NO_SPAN_NA_SCORE
                done += 1
                if progress is not None:
                    progress(done, total)
            scope.close()
    seconds = time.perf_counter() - started
    if not preds:
        raise UserError(f"{data_path} holds no questions")

    out: dict[str, Any] = {
        "data": str(data_path),
        "model": pack.name,
        "model_path": str(pack.path),
        "trained": pack.trained,
        "null_threshold": used_threshold,
    }
    out.update(squad.squad_v2_eval(data, preds))
    out.update(best_thresholds(data, forced, na_scores))
    out["seconds"] = round(seconds, 3)
    out["questions_per_second"] = round(done / seconds, 2) if seconds > 0 else None
    out["predictions"] = preds
    out["na_scores"] = na_scores
    return out


def _query(question: str, threshold: float) -> Query | None:
    """The question as the app would ask it; None when there is nothing to ask."""
    try:
        return Query(question, top_k=1, threshold=threshold)
    except UserError:
        return None


def best_thresholds(
    data: list[dict[str, Any]], forced: Mapping[str, str], na_scores: Mapping[str, float]
) -> dict[str, Any]:
    """Official best_* search plus the pack threshold that realises the best F1."""
    qid_to_has_ans = squad.make_qid_to_has_ans(data)
    exact_raw, f1_raw = squad.get_raw_scores(data, forced)
    found: dict[str, Any] = {}
    squad.find_all_best_thresh(found, forced, exact_raw, f1_raw, na_scores, qid_to_has_ans)
    calibrated_f1, null_threshold = squad.best_null_threshold(
        forced, f1_raw, na_scores, qid_to_has_ans
    )
    found["calibrated_f1"] = calibrated_f1
    found["calibrated_null_threshold"] = null_threshold
    return found
