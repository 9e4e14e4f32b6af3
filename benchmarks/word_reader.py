"""Time to convert a Word file to markup: this checkout's reader against another checkout's.

    python benchmarks/word_reader.py [--baseline OTHER_CHECKOUT] [--file X.docx]

Without ``--file``, a generated 300-paragraph document with a heading, bullets
and a 20x4 table (python-docx writes it). Each checkout's converter
(``formats.word.docx``, or the older ``formats.office.docx``) runs in its own
process, 7 times; the minimum and median are printed, side by side, with the
load average (a busy machine slows both alike).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

_TIMER = """
import importlib, json, sys, time
from pathlib import Path
data = Path(sys.argv[1]).read_bytes()
for name in ("desktop_qa.core.documents.formats.word", "desktop_qa.core.documents.formats.office",
             "desktop_qa.core.formats.office"):
    try:
        convert = importlib.import_module(name).docx
        break
    except (ImportError, AttributeError):
        continue
convert(data, "x")
times = []
for _ in range(7):
    started = time.perf_counter()
    convert(data, "x")
    times.append(time.perf_counter() - started)
print(json.dumps({"reader": name, "min": min(times), "median": sorted(times)[3]}))
"""


def sample(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Lease terms", 1)
    for i in range(300):
        style = "List Bullet" if i % 10 == 0 else None
        document.add_paragraph(f"Paragraph {i} about the property and its upkeep.", style=style)
    table = document.add_table(rows=20, cols=4)
    for r in range(20):
        for c in range(4):
            table.cell(r, c).text = f"cell {r} {c}"
    document.save(path)
    return path


def run(checkout: Path, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, str(path)], env=env, capture_output=True, text=True,
        check=True, cwd=checkout,
    )  # fmt: skip
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--file", type=Path, help="a .docx to convert (default: generated)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.file or sample(Path(folder) / "sample.docx")
        rows = [("this checkout", run(HERE, path))]
        if args.baseline:
            rows.append(("baseline", run(args.baseline.resolve(), path)))
    for label, row in rows:
        print(
            f"{label:14} {row['reader']:45} min {row['min'] * 1000:7.0f} ms  "
            f"median {row['median'] * 1000:7.0f} ms"
        )
    if len(rows) == 2:
        print(f"baseline / this: {rows[1][1]['median'] / rows[0][1]['median']:.1f}x (medians)")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
