"""Find words on the book: how long ``core.documents.find.find`` takes (target: well under 100 ms).

    python benchmarks/find.py [PDF] [--repeat N] [--hostile-mb 1,4,16]

Prints, for a few queries, the hits and the median milliseconds over N runs
(the first call per document also builds the case-folded text: reported apart).
Then the hostile case of issue 30 (499 words over a text of one word repeated):
the regular expression ``find`` used before and ``find`` side by side on 0.2 MB,
and ``find`` alone on larger texts, each with the longest time another thread
(the window's) waited for the GIL while it ran.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_qa.core.documents.document import Document  # noqa: E402
from desktop_qa.core.documents.find import find, pattern  # noqa: E402
from desktop_qa.core.storage import opening  # noqa: E402

BOOK = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "books" / "freeculture.pdf"
QUERIES = ("free culture", "Creative Commons", "the", "Mickey Mouse", "ﬁrst")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", default=str(BOOK))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--hostile-mb", default="1,4,16", help="text sizes of the hostile case")
    args = parser.parse_args()
    hostile([float(mb) for mb in args.hostile_mb.split(",") if mb])
    if not Path(args.pdf).is_file():
        print(f"(no {args.pdf}: the book's figures are skipped)")
        return
    with opening.open_document(args.pdf) as opened:
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


def _timed(work: object) -> tuple[float, float]:
    """Seconds ``work()`` took on a thread, and the longest a 5 ms heartbeat here waited."""
    thread = threading.Thread(target=work)  # type: ignore[arg-type]
    started = last = time.perf_counter()
    longest = 0.0
    thread.start()
    while thread.is_alive():
        time.sleep(0.005)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    thread.join()
    return time.perf_counter() - started, longest


def hostile(sizes: list[float]) -> None:
    words = " ".join(["a"] * 498 + ["b"])
    print("499 words over 'a a a ...' (seconds; longest wait of another thread):")
    small = Document.from_text("a " * 100_000)
    regex = pattern(words)
    old, old_wait = _timed(lambda: sum(1 for _ in regex.finditer(small.text.casefold())))
    new, new_wait = _timed(lambda: find(small, words))
    print(
        f"  0.2 MB  regular expression {old:7.2f} s (wait {old_wait:5.2f} s)   find {new:6.3f} s "
        f"(wait {new_wait:5.3f} s)   ratio {old / new:6.0f}x"
    )
    for mb in sizes:
        doc = Document.from_text("a " * int(mb * 500_000))
        for whole in (False, True):
            took, wait = _timed(lambda d=doc, w=whole: find(d, words, whole_words=w))
            kind = "whole words" if whole else "words      "
            print(f"  {mb:4.0f} MB  find, {kind} {took:6.2f} s (wait {wait:5.3f} s)")


if __name__ == "__main__":
    main()
