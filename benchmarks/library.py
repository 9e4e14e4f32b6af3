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
import zlib
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


def project(i: int) -> str:
    """A name unique to document ``i`` (up to 17,576 documents): ProjectAAA, ProjectAAB, ..."""
    return f"Project{chr(65 + i // 676 % 26)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}"


def fact(i: int) -> str:
    return f"The launch code of {project(i)} is Alpha{i} Bravo{i} and it is secret."


def question(i: int) -> str:
    return f"What is the launch code of {project(i)}?"


def _pdf(pages: list[list[str]]) -> bytes:
    """A text PDF written directly: 9 pt Helvetica, one line per string, deflated streams.

    Writing with PyMuPDF's ``insert_text`` took about 0.5 s per 30-page file on the shared
    machine (40 minutes for 10,000 files on 2 cores); this writer makes the same kind of
    page (one text block of lines at the top left, a base-14 font) about 50x faster.
    """
    objects: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{4 + 2 * k} 0 R" for k in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Count {n} /Kids [{kids}] >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for k, lines in enumerate(pages):
        text = "".join(f"({line}) Tj T*\n" if line else "T*\n" for line in lines)
        stream = zlib.compress(f"BT /F1 9 Tf 11 TL 56 732 Td\n{text}ET".encode(), 6)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * k} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
            + stream
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for num, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{num} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _write(i: int, folder: str, salt: int = 0, pages: int = PAGES) -> int:
    rng = random.Random(i * 7919 + salt)
    fact_page = rng.randrange(pages)
    body = []
    for p in range(pages):
        lines = []
        for line in range(44):
            lines.append(" ".join(rng.choices(WORDS, k=12)))
            if line % 8 == 7:
                lines.append("")
        if p == fact_page:
            lines.insert(10, fact(i))
        body.append(lines)
    sub = Path(folder) / f"group-{i // 100:03d}"
    sub.mkdir(parents=True, exist_ok=True)
    (sub / f"report-{i:05d}.pdf").write_bytes(_pdf(body))
    return i


def generate(folder: Path, docs: int, pages: int) -> float:
    """Write the generated PDFs once (skipped when the folder is complete for this size)."""
    marker = folder / ".complete"
    size = f"{docs} {pages}"
    if marker.exists() and marker.read_text() == size:
        return 0.0
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        n = range(docs)
        list(pool.map(_write, n, [str(folder)] * docs, [0] * docs, [pages] * docs, chunksize=50))
    marker.write_text(size)
    return time.perf_counter() - started


STEP = r"""
import json, resource, sys, time
from desktop_qa.core.reading import engine
from desktop_qa.core.storage.library import Library, default_workers
folders = json.loads(sys.argv[1])
with Library() as lib:
    for f in folders:
        lib.add_folder(f)
    t = time.perf_counter()
    steps = lib.update(workers=default_workers(False))
    shown = 0.0
    while True:
        try:
            p = next(steps)
        except StopIteration as stop:
            report = stop.value
            break
        if p.seconds - shown >= 30:  # progress for a long run, on stderr
            shown = p.seconds
            print(f"{p.done}/{p.total} files, {p.pages} pages, {p.seconds:.0f} s, "
                  f"{p.pages_per_second:.0f} pages/s, eta {p.eta or 0:.0f} s", file=sys.stderr,
                  flush=True)
    seconds = time.perf_counter() - t
    stats = lib.stats()
print(json.dumps({"seconds": seconds, "report": report.to_json(), "stats": stats,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

QUERY = r"""
import json, resource, statistics, sys, time
from desktop_qa.core import find_pack
from desktop_qa.core.reading import engine
from desktop_qa.core.storage.library import Library, LibraryScope
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import DEFAULT_BATCH_SIZE, Reader
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
from desktop_qa.core.documents.document import load_document
from desktop_qa.core.storage.library import Library
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


class _IndexOnly(Exception):
    """Stop after the full index (``--index-only``)."""


def run_py(code: str, *args: str, env: dict[str, str], show: bool = False) -> dict[str, Any]:
    """Run one step in its own process; ``show`` passes its stderr (progress) through."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=None if show else subprocess.PIPE,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        err = (out.stderr or "").strip()
        return {"error": err.splitlines()[-1] if err else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default="/tmp/mbpack", help="full-size int8 pack")
    parser.add_argument("--folder", default="/tmp/desktop-qa-library-bench")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--docs", type=int, default=DOCS, help="generated documents")
    parser.add_argument("--pages", type=int, default=PAGES, help="pages per generated document")
    parser.add_argument("--keep", action="store_true", help="keep the library database")
    parser.add_argument(
        "--data",
        help="library data folder, kept: a full index found there (full.json) is reused, "
        "an interrupted one resumed",
    )
    parser.add_argument("--index-only", action="store_true", help="stop after the full index")
    parser.add_argument("--no-app", action="store_true", help="skip the app's RSS step")
    args = parser.parse_args()
    folder = Path(args.folder)
    load_before = os.getloadavg()
    generated_s = generate(folder, args.docs, args.pages)
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="dqa-libbench-"))
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO), DESKTOP_QA_DATA_DIR=str(data))
    folders = [str(folder), str(CORPORA)]
    out: dict[str, Any] = {"generated_s": round(generated_s, 1), "generated_pages": args.pages}
    saved = data / "full.json"
    try:
        if saved.exists():
            full = json.loads(saved.read_text())
            out["full_index_reused"] = True
        else:
            full = run_py(STEP, json.dumps(folders), env=env, show=True)
            full["load_after"] = os.getloadavg()
            if "error" not in full and not full["report"].get("cancelled"):
                saved.write_text(json.dumps(full))
        db = sum(f.stat().st_size for f in data.glob("library.sqlite*"))
        pages = full["stats"]["pages"]
        out.update(
            documents=full["stats"]["indexed"],
            failed=full["stats"]["failed"],
            pages=pages,
            passages=full["stats"]["passages"],
            full_index_s=round(full["seconds"], 1),
            full_index_load_after=[round(v, 2) for v in full.get("load_after", [])],
            pages_per_s=round(full["report"]["pages"] / full["seconds"], 1),
            db_mb=round(db / 2**20, 1),
            db_kb_per_page=round(db / 1024 / max(pages, 1), 2),
            indexer_peak_rss_mb=round(full["rss_mb"], 1),
            worker_peak_rss_mb=round(full["workers_rss_mb"], 1),
        )
        if args.index_only:
            raise _IndexOnly
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
        picks = rng.sample(range(args.docs), args.questions)
        questions = [question(i) for i in picks]
        out["keyword"] = run_py(QUERY, "", json.dumps(questions), env=env)
        if args.pack and Path(args.pack).is_dir():
            out["int8"] = run_py(QUERY, args.pack, json.dumps(questions), env=env)
            if not args.no_app:
                out["app"] = run_py(APP, args.pack, json.dumps(questions[:5]), env=env)
    except _IndexOnly:
        pass
    finally:
        if args.keep or args.data:
            print(f"library kept in {data}", file=sys.stderr)
        else:
            shutil.rmtree(data, ignore_errors=True)
    out["load"] = {"before": [round(v, 2) for v in load_before], "after": list(os.getloadavg())}
    out["cores"] = os.cpu_count()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
