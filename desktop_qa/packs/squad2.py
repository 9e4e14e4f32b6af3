"""The official SQuAD 2.0 dev set, fetched from the hub's parquet copy (``model eval``).

Converted to SQuAD JSON and cached under the app's cache folder, so an
evaluation after the first runs offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop_qa.core.errors import UserError
from desktop_qa.core.system import paths
from desktop_qa.packs.hub import HfHub, Hub, StepFn

SQUAD2_DATASET = "rajpurkar/squad_v2"
SQUAD2_DEV_URL = "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json"


def rows_to_squad(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Hub parquet rows (id, title, context, question, answers) -> SQuAD 2.0 JSON."""
    articles: dict[str, dict[str, Any]] = {}
    paragraphs: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        title = str(row.get("title") or "")
        context = str(row["context"])
        article = articles.setdefault(title, {"title": title, "paragraphs": []})
        key = (title, context)
        if key not in paragraphs:
            paragraphs[key] = {"context": context, "qas": []}
            article["paragraphs"].append(paragraphs[key])
        answers = row.get("answers") or {}
        texts = list(answers.get("text") or [])
        starts = list(answers.get("answer_start") or [])
        paragraphs[key]["qas"].append(
            {
                "id": str(row["id"]),
                "question": str(row["question"]),
                "answers": [
                    {"text": str(t), "answer_start": int(s)}
                    for t, s in zip(texts, starts + [-1] * (len(texts) - len(starts)), strict=True)
                ],
                "is_impossible": not texts,
            }
        )
    return {"version": "v2.0", "data": list(articles.values())}


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(
            "reading the hub's parquet copy of SQuAD 2.0 needs pyarrow (pip install pyarrow); "
            f"or download {SQUAD2_DEV_URL} and pass it as DATA.json"
        ) from None
    return pq.read_table(path).to_pylist()


def fetch_squad2_dev(*, hub: Hub | None = None, progress: StepFn | None = None) -> Path:
    """The official SQuAD 2.0 dev set as SQuAD JSON, cached under the app's cache folder."""
    target = paths.cache_dir() / "squad2" / "dev-v2.0.json"
    if target.is_file():
        return target
    step = progress or (lambda _msg: None)
    hub = hub or HfHub()
    step(f"looking up dataset {SQUAD2_DATASET}")
    info = hub.info(SQUAD2_DATASET, None, repo_type="dataset")
    parquet = sorted(
        f for f in info.files if f.endswith(".parquet") and "validation" in f.rsplit("/", 1)[-1]
    )
    if not parquet:
        raise UserError(
            f"dataset {SQUAD2_DATASET} has no validation parquet file; "
            f"download {SQUAD2_DEV_URL} and pass it as DATA.json"
        )
    step(f"fetching {parquet[0]}")
    rows = _read_parquet(hub.fetch(info, parquet[0]))
    data = rows_to_squad(rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, target)
    return target
