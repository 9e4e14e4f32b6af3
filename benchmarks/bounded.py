"""Bounded reading on a real book, side by side with the reading it replaced.

    python benchmarks/bounded.py PACK [--book PDF] [--skip-exhaustive]

PACK is the full-size int8 pack (``desktop-qa model build --random-init
mobilebert /tmp/mbpack``). Its weights are random, so whether a question is
"answered" is forced with the threshold: -1e9 makes the first passages'
answer final (a question answered in the ranked passages), +1e9 makes every
question a no-answer (the bounded read down to the depth, then the whole book).

Prints one JSON object:

* ``answered``: per question, seconds to the final answer reading every window
  of the 12 best passages (``before``, the previous engine) and the best
  window of each (``after``, this engine); medians and their ratio.
* ``no_answer``: "What is the launch code?" (not in the book) read to the
  bounded no-answer, then the whole book (``--exhaustive``), and the ratio.
* ``recall``: on the generated 300-page fact set (paraphrased questions), the
  share of facts whose sentence lies in what each reading reads first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from timing import answer_timed  # noqa: E402  (benchmarks/timing.py)

from desktop_qa.core import Document, OpenedDocument, Query, load_pack  # noqa: E402
from desktop_qa.core.reading import engine  # noqa: E402
from desktop_qa.core.reading.loop import FOCUS_TOKENS, Reading  # noqa: E402
from desktop_qa.core.reading.reader import Reader  # noqa: E402
from desktop_qa.core.search.index import TOP_PASSAGES  # noqa: E402
from desktop_qa.core.storage import opening  # noqa: E402
from tests.factset import generate  # noqa: E402

BOOK = REPO.parent / "shared" / "corpora" / "books" / "freeculture.pdf"
QUESTIONS = [
    "What did Walt Disney copy from Buster Keaton?",
    "When was Steamboat Willie released?",
    "Who invented FM radio?",
    "What did the Sonny Bono Copyright Term Extension Act do?",
    "Why did Jesse Jordan pay the recording industry?",
    "What is the public domain?",
    "How long did the first copyright term last in 1790?",
    "What did Eldred want to publish on the internet?",
    "Who owns the rights to the photographs of Kodak users?",
    "What happened to the Causbys' chickens?",
]
NOT_IN_BOOK = "What is the launch code?"


def _time(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def _drain(gen: Any) -> None:
    for _ in gen:
        pass


def before(opened: OpenedDocument, query: Query, reader: Reader) -> tuple[float, float, Any]:
    """Today's reading (main before issue 20): the full best window of each of the 12 best
    passages; if no answer, their other windows and full windows down to depth 48."""
    started = time.perf_counter()
    reading = Reading(opened, query, reader)
    ranked = opened.search(query.question, 48)
    first, rest = reading.best_windows(ranked[:TOP_PASSAGES])
    steps = reading.phase(first, len(first))
    first_s = None
    for step in steps:
        if first_s is None and step.result is not None:
            first_s = time.perf_counter() - started
    result = reading.result()
    if result.no_answer:
        _drain(reading.phase(rest, len(rest)))
        _drain(reading.phase(reading.stream(ranked[TOP_PASSAGES:48]), 36))
        result = reading.result()
    total = time.perf_counter() - started
    return first_s or total, total, result


def after(opened: OpenedDocument, query: Query, reader: Reader) -> tuple[float, float, Any]:
    return answer_timed(opened, query, reader)


def answered(opened: OpenedDocument, reader: Reader) -> dict[str, Any]:
    rows = []
    after(opened, Query(QUESTIONS[0], threshold=-1e9), reader)  # warm-up
    before(opened, Query(QUESTIONS[0], threshold=-1e9), reader)
    for question in QUESTIONS:
        query = Query(question, threshold=-1e9)
        # Interleaved, so load on the machine hits both alike.
        f_before, t_before, r_before = before(opened, query, reader)
        f_after, t_after, r_after = after(opened, query, reader)
        rows.append(
            {
                "question": question,
                "before_first_s": round(f_before, 3),
                "before_s": round(t_before, 3),
                "before_tokens": r_before.state.tokens,
                "after_first_s": round(f_after, 3),
                "after_s": round(t_after, 3),
                "after_tokens": r_after.state.tokens,
                "windows": r_after.read.windows,
                "estimate_whole_s": round(engine.whole_read_seconds(r_after) or 0, 1),
            }
        )

    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    return {
        "questions": rows,
        "median_first_before_s": med("before_first_s"),
        "median_first_after_s": med("after_first_s"),
        "median_before_s": med("before_s"),
        "median_after_s": med("after_s"),
        "after_over_before": round(med("after_s") / med("before_s"), 3),
        "first_after_over_before": round(med("after_first_s") / med("before_first_s"), 3),
        "median_estimate_whole_s": med("estimate_whole_s"),
    }


def no_answer(opened: OpenedDocument, reader: Reader, exhaustive: bool) -> dict[str, Any]:
    query = Query(NOT_IN_BOOK, threshold=1e9)
    rounds = []
    for _ in range(3):
        _, t_before, old = before(opened, query, reader)
        _, t_after, bounded = after(opened, query, reader)
        rounds.append((t_before, t_after))
    b = statistics.median(r[0] for r in rounds)
    a = statistics.median(r[1] for r in rounds)
    out: dict[str, Any] = {
        "before_s": round(b, 2),
        "before_read": old.read.to_json(),
        "bounded_s": round(a, 2),
        "bounded_over_before": round(a / b, 3),
        "bounded_read": bounded.read.to_json(),
        "bounded_message": bounded.summary,
        "estimate_whole_s": round(engine.whole_read_seconds(bounded) or 0, 1),
    }
    if exhaustive:
        _, t_whole, whole = after(opened, query.deeper(), reader)
        out["exhaustive_s"] = round(t_whole, 1)
        out["exhaustive_read"] = whole.read.to_json()
        out["bounded_over_exhaustive"] = round(a / t_whole, 4)
        out["estimate_over_exhaustive"] = round(out["estimate_whole_s"] / t_whole, 2)
    return out


def _window_span(item: Any) -> tuple[int, int]:
    offsets = [
        o
        for o, t in zip(item.encoding.offsets, item.encoding.sequence_ids, strict=True)
        if t == 1 and o[1] > o[0]
    ]
    return offsets[0][0] + item.offset, offsets[-1][1] + item.offset


def recall(reader: Reader) -> dict[str, Any]:
    """Share of facts whose sentence lies inside what is read, today and now."""
    fd = generate(pages=300, facts=240)
    text = fd.text
    starts, pos = [], 0
    for p in fd.paragraphs:
        starts.append(pos)
        pos += len(p) + 2
    opened = OpenedDocument.from_document(Document.from_text(text))
    hits = dict.fromkeys(
        ("today_top12", "now_top12", "passages_24", "passages_48", "now_focus_24"), 0
    )
    tokens = {"today_top12": 0, "now_top12": 0}
    for fact in fd.facts:
        a = text.index(fact.sentence, starts[fact.paragraph])
        b = a + len(fact.sentence)
        query = Query(fact.question)
        deep = opened.search(query.question, 48)
        inside = [r.passage.start <= a and b <= r.passage.end for r in deep]
        hits["passages_24"] += any(inside[:24])
        hits["passages_48"] += any(inside)
        for key, length, depth in (
            ("today_top12", None, TOP_PASSAGES),
            ("now_top12", FOCUS_TOKENS, TOP_PASSAGES),
            ("now_focus_24", FOCUS_TOKENS, 24),
        ):
            reading = Reading(opened, query, reader)
            first, _ = reading.best_windows(deep[:depth], length)
            if key in tokens:
                tokens[key] += sum(len(i.encoding.ids) for i in first)
            hits[key] += any(lo <= a and b <= hi for lo, hi in map(_window_span, first))
    n = len(fd.facts)
    return {
        "facts": n,
        **{k: round(v / n, 3) for k, v in hits.items()},
        "tokens_per_question": {k: round(v / n) for k, v in tokens.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", type=Path)
    parser.add_argument("--book", type=Path, default=BOOK)
    parser.add_argument("--skip-exhaustive", action="store_true")
    args = parser.parse_args(argv)
    reader = Reader(load_pack(args.pack))
    opened = opening.open_document(args.book)
    out = {
        "book": args.book.name,
        "pack": reader.pack.name,
        "total_passages": opened.total_passages,
        "threads": reader.threads,
        "load_avg_start": [round(v, 2) for v in os.getloadavg()],
        "recall": recall(reader),
        "answered": answered(opened, reader),
        "no_answer": no_answer(opened, reader, not args.skip_exhaustive),
        "load_avg_end": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
