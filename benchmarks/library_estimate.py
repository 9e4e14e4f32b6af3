"""The library's "Read more of the library (about …)" estimate against the time it takes.

    python benchmarks/library_estimate.py PACK [--book PDF] [--extra N]

A fresh library (its own data folder under a temporary directory, the user's
library untouched) holds a copy of the book and N more files of the shared
pymupdf-tests corpus. Each question is asked of the library as the window asks
it (depth 24), then read four times deeper from that result, as the window's
read-more does; the estimate the window shows
(``engine.whole_read_seconds(result, passages=depth * 4)``) is printed beside
the measured time. The threshold is forced as in ``bounded.py``: +1e9 makes
every question a no-answer, so the deeper read always runs. Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
QUESTIONS = (
    "What is the launch code?",
    "What did Walt Disney copy from Buster Keaton?",
    "Who invented FM radio?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack")
    parser.add_argument("--book", default=str(SHARED / "corpora/books/freeculture.pdf"))
    parser.add_argument("--extra", type=int, default=20, help="corpus files beside the book")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dqa-libest-"))
    os.environ["DESKTOP_QA_DATA_DIR"] = str(work / "data")
    os.environ["DESKTOP_QA_CACHE_DIR"] = str(work / "cache")
    sys.path.insert(0, str(REPO))
    from desktop_qa.core import find_pack
    from desktop_qa.core.reading import engine
    from desktop_qa.core.reading.query import Query
    from desktop_qa.core.reading.reader import DEFAULT_BATCH_SIZE, Reader
    from desktop_qa.core.storage.library import Library, LibraryScope, default_workers

    folder = work / "docs"
    folder.mkdir()
    shutil.copy(args.book, folder / Path(args.book).name)
    corpus = sorted((SHARED / "corpora/pymupdf-tests").glob("*.pdf"))[: args.extra]
    for path in corpus:
        shutil.copy(path, folder / path.name)
    load_start = os.getloadavg()
    with Library() as lib:
        lib.add_folder(folder)
        engine.final(lib.update(workers=default_workers(False)))
        stats = lib.stats()
    pack = find_pack(args.pack)
    reader = Reader(pack, batch_size=int(pack.extra.get("batch_size", DEFAULT_BATCH_SIZE)))
    runs = []
    with Library(read_only=True) as lib:
        scope = LibraryScope(lib)
        for question in QUESTIONS:
            query = Query(question, threshold=1e9)
            t = time.perf_counter()
            first = engine.final(engine.answer(scope, query, reader))
            bounded_s = time.perf_counter() - t
            deeper = replace(query, depth=query.depth * 4)
            estimate = engine.whole_read_seconds(first, passages=deeper.depth)
            t = time.perf_counter()
            more = engine.final(engine.answer(scope, deeper, reader, resume=first))
            measured = time.perf_counter() - t
            runs.append(
                {
                    "question": question,
                    "bounded_s": round(bounded_s, 3),
                    "bounded_passages": first.read.passages,
                    "estimate_s": round(estimate or 0.0, 2),
                    "read_more_s": round(measured, 3),
                    "read_more_passages": more.read.passages,
                    "read_more_windows": more.read.windows - first.read.windows,
                    "measured_over_estimate": round(measured / estimate, 2) if estimate else None,
                }
            )
    ratios = [r["measured_over_estimate"] for r in runs if r["measured_over_estimate"]]
    print(
        json.dumps(
            {
                "library": {
                    k: stats.get(k) for k in ("documents", "pages", "passages") if k in stats
                },
                "files": 1 + len(corpus),
                "total_passages": scope.total_passages,
                "runs": runs,
                "median_measured_over_estimate": statistics.median(ratios) if ratios else None,
                "load_avg_start": [round(x, 2) for x in load_start],
                "load_avg_end": [round(x, 2) for x in os.getloadavg()],
            },
            indent=1,
        )
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
