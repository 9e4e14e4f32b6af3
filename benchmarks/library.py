"""The library at size: 1,000+ documents, 30,000+ pages, indexed, updated and asked.

    python benchmarks/library.py [--pack /tmp/mbpack] [--folder DIR] [--questions 50]

The generated PDFs (1,000 documents of 30 pages, each a fact on one page) are
written once into ``--folder`` (kept; default /tmp/desktop-qa-library-bench)
and ``../shared/corpora`` is added beside them. Every measured step runs in
its own process (the CLI's code path: ``Library.update`` with every core) so
peak RSS is that step's. Prints one JSON line:

* ``full_index_s``, ``pages_per_s``, ``documents``, ``pages``, ``db_mb``,
  ``db_kb_per_page``, ``indexer_peak_rss_mb`` (the indexing process) and
  ``worker_peak_rss_mb`` (the largest extraction worker);
* ``update_10_changed_s`` (10 files rewritten with new content) and
  ``update_no_change_s``;
* ``load_document_ms`` p50/p95: decoding a document from the store (what an
  answer needs), beside ``reextract_ms`` (re-reading it with PyMuPDF);
* ``int8`` and ``keyword``: query latency over ``--questions`` questions,
  ``first_s`` (first answer shown) and ``final_s``, p50/p95, and the query
  process's ``peak_rss_mb``;
* ``app``: the desktop app (offscreen) with the library panel open, asking 5
  library questions with the int8 pack and opening each answer's document:
  its ``peak_rss_mb``;
* ``load``: the machine's load average before and after (it is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CORPORA = REPO.parent / "shared" / "corpora"
DOCS = 1000
PAGES = 30
WORDS = """the of and to in is was that for it as with be on by at this from or are not which
but have had they you were their one all we can her has there been if more when will would who
so what out up into do than time only could new about other some them these may then its our
most over such also after first two any years where many well made way even how back down
because being each both work between before through three during under while same last year
must part place long since life still world might state great own should old very home use day
end report table figure data system value number name city river mountain budget contract lease
""".split()
PROJECTS = [f"Project{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(DOCS)]


def fact(i: int) -> str:
    return f"The launch code of {PROJECTS[i]} is Alpha{i} Bravo{i} and it is secret."


def question(i: int) -> str:
    return f"What is the launch code of {PROJECTS[i]}?"


def _write(i: int, folder: str, salt: int = 0) -> int:
    import pymupdf

    rng = random.Random(i * 7919 + salt)
    doc = pymupdf.open()
    fact_page = rng.randrange(PAGES)
    for p in range(PAGES):
        page = doc.new_page(width=612, height=792)
        lines = []
        for line in range(44):
            lines.append(" ".join(rng.choice(WORDS) for _ in range(12)))
            if line % 8 == 7:
                lines.append("")
        if p == fact_page:
            lines.insert(10, fact(i))
        page.insert_text((56, 60), "\n".join(lines), fontsize=9, fontname="helv")
    sub = Path(folder) / f"group-{i // 100:02d}"
    sub.mkdir(parents=True, exist_ok=True)
    doc.save(str(sub / f"report-{i:04d}.pdf"), garbage=0, deflate=True)
    doc.close()
    return i


def generate(folder: Path) -> float:
    """Write the generated PDFs once (skipped when the folder is complete)."""
    marker = folder / ".complete"
    if marker.exists():
        return 0.0
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_write, range(DOCS), [str(folder)] * DOCS, chunksize=20))
    marker.write_text("ok")
    return time.perf_counter() - started


STEP = r"""
import json, resource, sys, time
from desktop_qa.core import engine
from desktop_qa.core.library import Library, default_workers
folders = json.loads(sys.argv[1])
with Library() as lib:
    for f in folders:
        lib.add_folder(f)
    t = time.perf_counter()
    report = engine.final(lib.update(workers=default_workers(False)))
    seconds = time.perf_counter() - t
    stats = lib.stats()
print(json.dumps({"seconds": seconds, "report": report.to_json(), "stats": stats,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

QUERY = r"""
import json, resource, statistics, sys, time
from desktop_qa.core import engine, find_pack
from desktop_qa.core.library import Library, LibraryScope
from desktop_qa.core.query import Query
from desktop_qa.core.reader import DEFAULT_BATCH_SIZE, Reader
pack_dir, questions = sys.argv[1], json.loads(sys.argv[2])
reader = None
if pack_dir:
    pack = find_pack(pack_dir)
    reader = Reader(pack, batch_size=int(pack.extra.get("batch_size", DEFAULT_BATCH_SIZE)))
firsts, finals, read = [], [], []
with Library(read_only=True) as lib:
    for q in questions:
        t = time.perf_counter()
        scope = LibraryScope(lib)
        steps = engine.answer(scope, Query(q), reader)
        first = None
        while True:
            try:
                p = next(steps)
                if first is None and p.result is not None:
                    first = time.perf_counter() - t
            except StopIteration as stop:
                result = stop.value
                break
        total = time.perf_counter() - t
        finals.append(total)
        firsts.append(first if first is not None else total)
        read.append(result.read.passages)
def pct(v, q):
    v = sorted(v)
    return round(v[min(len(v) - 1, int(q * len(v)))], 3)
print(json.dumps({
    "first_s": {"p50": round(statistics.median(firsts), 3), "p95": pct(firsts, 0.95)},
    "final_s": {"p50": round(statistics.median(finals), 3), "p95": pct(finals, 0.95)},
    "passages_read_p50": statistics.median(read),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""

LOAD = r"""
import json, statistics, sys, time, random
from desktop_qa.core.document import load_document
from desktop_qa.core.library import Library
with Library(read_only=True) as lib:
    rows = lib.documents(state="indexed")
    rng = random.Random(0)
    sample = rng.sample(rows, 20)
    store, again = [], []
    for row in sample:
        t = time.perf_counter(); lib.load(row.id); store.append(time.perf_counter() - t)
        t = time.perf_counter(); load_document(row.path); again.append(time.perf_counter() - t)
    pages = statistics.median(r.pages for r in sample)
print(json.dumps({"store_ms": round(statistics.median(store) * 1000, 1),
    "reextract_ms": round(statistics.median(again) * 1000, 1), "pages_p50": pages}))
"""


APP = r"""
import json, os, resource, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from desktop_qa.gui.session import Session
from desktop_qa.gui.window import MainWindow
pack, questions = sys.argv[1], json.loads(sys.argv[2])
app = QApplication([])
session = Session(persist=False)
window = MainWindow(session, restore_geometry=False)
window.resize(1400, 900)
window.show()
window.library.dock.show()  # the panel lists every document
loop = QEventLoop()
session.modelChanged.connect(lambda _p: loop.quit())
session.load_model(pack)
loop.exec()
window.library.scope_library()
for q in questions:
    loop = QEventLoop()
    slots = (
        # The answer's document opens (when it is not on screen already) and renders.
        (session.queryFinished, lambda r: QTimer.singleShot(1500, loop.quit)),
        (session.queryFailed, lambda m: loop.quit()),
    )
    for signal, slot in slots:
        signal.connect(slot)
    session.ask_library(q)
    loop.exec()
    for signal, slot in slots:
        signal.disconnect(slot)
rows = len(window.library.panel.rows())
window.library.shutdown()
session.shutdown()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_rss_mb": round(rss, 1), "documents_listed": rows,
    "questions": len(questions)}))
"""


def run_py(code: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="/tmp/mbpack", help="full-size int8 pack")
    parser.add_argument("--folder", default="/tmp/desktop-qa-library-bench")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the library database")
    args = parser.parse_args()
    folder = Path(args.folder)
    load_before = os.getloadavg()
    generated_s = generate(folder)
    data = Path(tempfile.mkdtemp(prefix="dqa-libbench-"))
    env = dict(os.environ, PYTHONPATH=str(REPO), DESKTOP_QA_DATA_DIR=str(data))
    folders = [str(folder), str(CORPORA)]
    out: dict[str, Any] = {"generated_s": round(generated_s, 1)}
    try:
        full = run_py(STEP, json.dumps(folders), env=env)
        db = sum(f.stat().st_size for f in data.glob("library.sqlite*"))
        pages = full["stats"]["pages"]
        out.update(
            documents=full["stats"]["indexed"],
            failed=full["stats"]["failed"],
            pages=pages,
            passages=full["stats"]["passages"],
            full_index_s=round(full["seconds"], 1),
            pages_per_s=round(full["report"]["pages"] / full["seconds"], 1),
            db_mb=round(db / 2**20, 1),
            db_kb_per_page=round(db / 1024 / max(pages, 1), 2),
            indexer_peak_rss_mb=round(full["rss_mb"], 1),
            worker_peak_rss_mb=round(full["workers_rss_mb"], 1),
        )
        # 10 files with new content, then nothing changed.
        changed = sorted(folder.rglob("report-*.pdf"))[:10]
        for i, path in enumerate(changed):
            _write(int(path.stem.split("-")[1]), str(folder), salt=int(time.time()) + i)
        upd = run_py(STEP, json.dumps(folders), env=env)
        out["update_10_changed_s"] = round(upd["seconds"], 2)
        out["update_10_report"] = upd["report"]
        same = run_py(STEP, json.dumps(folders), env=env)
        out["update_no_change_s"] = round(same["seconds"], 2)
        out["load_document"] = run_py(LOAD, env=env)
        rng = random.Random(1)
        picks = rng.sample(range(DOCS), args.questions)
        questions = [question(i) for i in picks]
        out["keyword"] = run_py(QUERY, "", json.dumps(questions), env=env)
        if args.pack and Path(args.pack).is_dir():
            out["int8"] = run_py(QUERY, args.pack, json.dumps(questions), env=env)
            out["app"] = run_py(APP, args.pack, json.dumps(questions[:5]), env=env)
    finally:
        if args.keep:
            print(f"library kept in {data}", file=sys.stderr)
        else:
            shutil.rmtree(data, ignore_errors=True)
    out["load"] = {"before": [round(v, 2) for v in load_before], "after": list(os.getloadavg())}
    out["cores"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
