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

from desktop_qa.core import Document, OpenedDocument, Query, engine, load_pack  # noqa: E402
from desktop_qa.core.index import TOP_PASSAGES  # noqa: E402
from desktop_qa.core.qa import Reading  # noqa: E402
from desktop_qa.core.reader import Reader  # noqa: E402
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


def before(opened: OpenedDocument, query: Query, reader: Reader) -> Any:
    """The previous engine's ranked read: every window of the 12 best passages."""
    reading = Reading(opened, query, reader)
    top = opened.search(query.question, TOP_PASSAGES)
    for _ in reading.phase(reading.stream(top), 0):
        pass
    return reading.result()


def after(opened: OpenedDocument, query: Query, reader: Reader) -> Any:
    return answer_timed(opened, query, reader)[2]


def answered(opened: OpenedDocument, reader: Reader) -> dict[str, Any]:
    rows = []
    after(opened, Query(QUESTIONS[0], threshold=-1e9), reader)  # warm-up
    for question in QUESTIONS:
        query = Query(question, threshold=-1e9)
        # Interleaved, so load on the machine hits both alike.
        t_before, r_before = _time(lambda q=query: before(opened, q, reader))
        t_after, r_after = _time(lambda q=query: after(opened, q, reader))
        rows.append(
            {
                "question": question,
                "before_s": round(t_before, 3),
                "before_windows": r_before.read.windows,
                "after_s": round(t_after, 3),
                "after_windows": r_after.read.windows,
            }
        )
    b = statistics.median(r["before_s"] for r in rows)
    a = statistics.median(r["after_s"] for r in rows)
    return {
        "questions": rows,
        "median_before_s": round(b, 3),
        "median_after_s": round(a, 3),
        "after_over_before": round(a / b, 3),
    }


def no_answer(opened: OpenedDocument, reader: Reader, exhaustive: bool) -> dict[str, Any]:
    query = Query(NOT_IN_BOOK, threshold=1e9)
    t_bounded, bounded = _time(lambda: after(opened, query, reader))
    out: dict[str, Any] = {
        "bounded_s": round(t_bounded, 2),
        "bounded_read": bounded.read.to_json(),
        "bounded_message": bounded.summary,
    }
    if exhaustive:
        t_whole, whole = _time(lambda: after(opened, query.deeper(), reader))
        out["exhaustive_s"] = round(t_whole, 1)
        out["exhaustive_read"] = whole.read.to_json()
        out["bounded_over_exhaustive"] = round(t_bounded / t_whole, 4)
    return out


def recall(reader: Reader) -> dict[str, Any]:
    """Share of facts whose sentence lies inside what is read first, before and after."""
    fd = generate(pages=300, facts=240)
    text = fd.text
    starts, pos = [], 0
    for p in fd.paragraphs:
        starts.append(pos)
        pos += len(p) + 2
    opened = OpenedDocument.from_document(Document.from_text(text))
    hits_before = hits_after = hits_depth = 0
    windows_before = windows_after = 0
    for fact in fd.facts:
        a = text.index(fact.sentence, starts[fact.paragraph])
        b = a + len(fact.sentence)
        query = Query(fact.question)
        reading = Reading(opened, query, reader)
        top = opened.search(query.question, TOP_PASSAGES)
        deep = opened.search(query.question, query.depth)
        hits_before += any(r.passage.start <= a and b <= r.passage.end for r in top)
        hits_depth += any(r.passage.start <= a and b <= r.passage.end for r in deep)
        first, rest = reading.best_windows(top)
        windows_before += len(first) + len(rest)
        windows_after += len(first)
        for item in first:
            offsets = [
                o
                for o, t in zip(item.encoding.offsets, item.encoding.type_ids, strict=True)
                if t == 1 and o[1] > o[0]
            ]
            lo, hi = offsets[0][0] + item.offset, offsets[-1][1] + item.offset
            if lo <= a and b <= hi:
                hits_after += 1
                break
    n = len(fd.facts)
    return {
        "facts": n,
        "before_all_windows_of_top12": round(hits_before / n, 3),
        "after_best_window_of_top12": round(hits_after / n, 3),
        "within_depth_48": round(hits_depth / n, 3),
        "windows_per_question_before": round(windows_before / n, 1),
        "windows_per_question_after": round(windows_after / n, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", type=Path)
    parser.add_argument("--book", type=Path, default=BOOK)
    parser.add_argument("--skip-exhaustive", action="store_true")
    args = parser.parse_args(argv)
    reader = Reader(load_pack(args.pack))
    opened = engine.open_document(args.book)
    out = {
        "book": args.book.name,
        "pack": reader.pack.name,
        "total_passages": opened.total_passages,
        "threads": reader.threads,
        "load_avg_start": round(os.getloadavg()[0], 2),
        "recall": recall(reader),
        "answered": answered(opened, reader),
        "no_answer": no_answer(opened, reader, not args.skip_exhaustive),
        "load_avg_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
