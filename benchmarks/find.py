"""Find words on the book: how long ``core.documents.find.find`` takes (target: well under 100 ms).

    python benchmarks/find.py [PDF] [--repeat N]

Prints, for a few queries, the hits and the median milliseconds over N runs
(the first call per document also builds the case-folded text: reported apart).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_qa.core.documents.find import find  # noqa: E402
from desktop_qa.core.reading import engine  # noqa: E402

BOOK = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "books" / "freeculture.pdf"
QUERIES = ("free culture", "Creative Commons", "the", "Mickey Mouse", "ﬁrst")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", default=str(BOOK))
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with engine.open_document(args.pdf) as opened:
        doc = opened.doc
    started = time.perf_counter()
    find(doc, "warm up")
    print(f"first find (builds the folded text): {1000 * (time.perf_counter() - started):.1f} ms")
    for words in QUERIES:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            hits = find(doc, words)
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        boxes = [h.boxes for h in hits[:20]]
        shown = time.perf_counter() - started
        print(
            f"{words!r:>20}: {len(hits):5d} hits, {1000 * statistics.median(times):6.1f} ms "
            f"(median of {args.repeat}); boxes of the first {len(boxes)}: {1000 * shown:.1f} ms"
        )


if __name__ == "__main__":
    main()
