"""The app's "Read the whole document (about …)" estimate against the time the read takes.

    python benchmarks/read_estimate.py PACK [PACK ...] [--book PDF] [--question Q]

For each pack (the test pack, ``model build --random-init tiny``; the full-size one,
``model build --random-init mobilebert --vocab bert-base-uncased-vocab.txt``), the book
is asked as the window asks it (the GUI's threads and the pack's batch size), forced to
a no-answer (threshold +1e9: random weights), then read whole from that result as the
window's read-more does. Prints, per pack, the estimate the button shows
(``engine.whole_read_seconds``), the measured whole read and their ratio (target:
within 2x either way). The same process runs both, one after the other.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DESKTOP_QA_SHARED", "/work/shared"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packs", nargs="+")
    ap.add_argument("--book", default=str(SHARED / "corpora/books/freeculture.pdf"))
    ap.add_argument("--question", default="What is the launch code?")
    args = ap.parse_args(argv)
    os.environ.setdefault("DESKTOP_QA_CACHE_DIR", tempfile.mkdtemp(prefix="dqa-estimate-"))
    sys.path.insert(0, str(REPO))
    from desktop_qa.core.reading import engine
    from desktop_qa.core.reading.pack import load_pack
    from desktop_qa.core.reading.query import Query
    from desktop_qa.core.storage.opening import open_document
    from desktop_qa.gui.models import make_reader

    started = time.perf_counter()
    opened = open_document(args.book)
    print(
        f"{Path(args.book).name}: opened in {time.perf_counter() - started:.1f} s, "
        f"{opened.total_passages} passages; load {os.getloadavg()[0]:.1f}"
    )
    worst = 1.0
    for pack_dir in args.packs:
        reader = make_reader(load_pack(pack_dir))
        query = Query(args.question, threshold=1e9)
        bounded = engine.final(engine.answer(opened, query, reader))
        estimate = engine.whole_read_seconds(bounded)
        started = time.perf_counter()
        whole = engine.final(engine.answer(opened, query.deeper(), reader, resume=bounded))
        measured = time.perf_counter() - started
        ratio = measured / estimate if estimate else float("nan")
        worst = max(worst, ratio, 1 / ratio if ratio else float("inf"))
        print(
            f"{reader.pack.name}: bounded read {bounded.seconds:.2f} s "
            f"({bounded.read.passages} passages, {bounded.read.windows} windows); "
            f"estimate {estimate or 0:.1f} s; whole read {measured:.1f} s "
            f"({whole.read.windows} windows); measured / estimate {ratio:.2f}"
        )
    print(f"worst factor: {worst:.2f} (target: within 2x)")
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
