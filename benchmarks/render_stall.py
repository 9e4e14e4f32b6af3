"""How long the window's thread waits while pages are drawn: in this process vs in the child.

    python benchmarks/render_stall.py [PDF] [--pages 0,1,2,10,50] [--scale 2.5] [--rounds 3]

MuPDF keeps Python's GIL while it draws, so a page drawn on a worker thread
stops the UI thread too. This draws the pages on a worker thread, once with
MuPDF in this process (how the viewer drew before ``core.documents.render``) and once
through ``PageDrawer`` (a child process, after its warm-up), side by side,
while the main thread ticks every 2 ms as an event loop would. Printed per
way: the longest and the 99th-percentile gap between ticks (what a user
feels as a stutter), and the milliseconds per page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_qa.core.documents.render import DrawJob, PageDrawer, draw, open_for_drawing  # noqa: E402

BOOK = next(  # ../shared beside the checkout (a worktree's is further up)
    (
        p / "shared" / "corpora" / "books" / "freeculture.pdf"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "corpora").is_dir()
    ),
    Path("freeculture.pdf"),
)


def ticking(work: Callable[[], object]) -> tuple[list[float], float]:
    """Run ``work`` on a thread; the main thread's tick gaps (ms) and the work's seconds."""
    go, done = threading.Event(), threading.Event()
    took: list[float] = []

    def run() -> None:
        go.wait()
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    gaps: list[float] = []
    last = time.perf_counter()
    go.set()
    while not done.is_set():
        time.sleep(0.002)
        now = time.perf_counter()
        gaps.append((now - last) * 1000)
        last = now
    thread.join()
    return gaps, took[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", default=str(BOOK))
    parser.add_argument("--pages", default="0,1,2,10,50")
    parser.add_argument("--scale", type=float, default=2.5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.pdf)
    pages = [int(p) for p in args.pages.split(",")]

    drawer = PageDrawer()
    while drawer.in_child == 0:  # the warm-up: draws here until the child is ready
        drawer.draw(DrawJob(1, str(path), None, pages[-1], 0.2))
        time.sleep(0.05)

    print(f"{path.name}: pages {args.pages} at {args.scale}x, {args.rounds} rounds each way")
    for rnd in range(args.rounds):
        # Each round opens the document anew (a cold MuPDF cache, as a newly opened file).
        mdoc = open_for_drawing(path, None)
        here = ticking(lambda m=mdoc: [draw(m, p, args.scale) for p in pages])
        mdoc.close()
        jobs = [DrawJob(100 + rnd, str(path), None, p, args.scale) for p in pages]
        child = ticking(lambda js=jobs: [drawer.draw(j) for j in js])
        for name, (gaps, seconds) in (("in this process", here), ("in the child   ", child)):
            q99 = statistics.quantiles(gaps, n=100, method="inclusive")[98] if gaps[1:] else 0.0
            print(
                f"  round {rnd + 1} {name}: longest gap {max(gaps):6.1f} ms, "
                f"p99 {q99:6.1f} ms, {seconds / len(pages) * 1000:6.1f} ms a page"
            )
    drawer.close()


if __name__ == "__main__":
    main()
