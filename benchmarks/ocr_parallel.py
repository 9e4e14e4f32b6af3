"""OCR on every core: seconds per page of a 40-page scan, one page at a time vs in parallel.

    python benchmarks/ocr_parallel.py [--pages 40] [--rounds 2] [--jobs N]

The scan is made once by ``tests/pdfgen.py:scan_pdf`` (200 dpi, image only) from
generated two-line pages (the shape of tests/test_ocr.py's 40-page case) into
``benchmarks/out/``. Each round extracts it with ``OcrOptions(jobs=1)`` (one page
at a time, the previous behaviour) and ``jobs=N`` (default: one per physical
core, the CLI's setting), interleaved so load on the shared machine hits both.
No cache is used (``core.documents.pdf`` extraction directly). Prints one JSON line:
seconds per page of each, their ratio, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_qa.core.documents.document import load_document  # noqa: E402
from desktop_qa.core.documents.ocr.pages import OcrOptions, ocr_jobs  # noqa: E402
from tests import pdfgen  # noqa: E402

OUT = ROOT / "benchmarks" / "out"


def scan(pages: int, lines: int) -> Path:
    dst = OUT / f"scan-{pages}p-{lines}l.pdf"
    if not dst.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        # tests/test_ocr.py's 40-page scan: two columns of ``lines`` lines a page.
        content = [
            [pdfgen.page_lines(p * 10 + c, n_lines=lines, paragraph_every=3) for c in range(2)]
            for p in range(1, pages + 1)
        ]
        src = pdfgen.write_pdf(OUT / f"scan-src-{pages}p-{lines}l.pdf", content)
        pdfgen.scan_pdf(src, dst, dpi=200)
    return dst


def timed(path: Path, jobs: int) -> tuple[float, str]:
    started = time.perf_counter()
    doc = load_document(path, ocr=OcrOptions(jobs=jobs))  # no resume key: every page OCR'd
    return time.perf_counter() - started, doc.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--lines", type=int, default=2, help="lines per column (2: the test's)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=0, help="parallel pages (0: physical cores)")
    args = parser.parse_args()
    path = scan(args.pages, args.lines)
    jobs = ocr_jobs(args.jobs)
    load_before = [round(v, 2) for v in os.getloadavg()]
    one, many = [], []
    same = True
    for r in range(args.rounds):
        order = (1, jobs) if r % 2 == 0 else (jobs, 1)
        texts = {}
        for j in order:
            seconds, texts[j] = timed(path, j)
            (one if j == 1 else many).append(seconds / args.pages)
        same = same and texts[1] == texts[jobs]
    a, b = statistics.median(one), statistics.median(many)
    print(
        json.dumps(
            {
                "pages": args.pages,
                "lines_per_column": args.lines,
                "jobs": jobs,
                "cores": os.cpu_count(),
                "one_at_a_time_s_per_page": round(a, 3),
                "parallel_s_per_page": round(b, 3),
                "parallel_over_one": round(b / a, 3),
                "rounds": {
                    "one": [round(x, 3) for x in one],
                    "parallel": [round(x, 3) for x in many],
                },
                "same_text": same,
                "load": {"before": load_before, "after": [round(v, 2) for v in os.getloadavg()]},
            }
        )
    )


if __name__ == "__main__":
    main()
