"""Word recall of the text questions run on, against each workbook's own cells.

The spreadsheet part of the Office recall measure (benchmarks/office_recall.py
holds Word and PowerPoint; this script is its sheets hook, kept on its own).
For every workbook of a folder (recursively), the reference is the text its
own cells hold: for .xlsx/.xlsm/.xltx/.xltm (Strict too), every text cell of
every worksheet read straight from the XML (shared strings by index, rich-text
runs joined, phonetic runs left out; inline strings; formulas' cached text
results); for .ods, the ``text:p`` of every cell of ``content.xml`` (repeated
cells once); for .xls (no XML), the text cells as xlrd reads them from the
file's records. Numbers are not counted (the XML holds 0.130792 where the
sheet shows 13.1%: tests/test_sheets.py checks the formats). "Ours" is
``Document.text`` as ``load_document`` makes it. Both are cut into words
(``\\w+``, NFKC, case folded); recall is the share of the reference's words (a
multiset) found in ours. A file the app refuses counts as recall 0, unless
the reference is empty too (nothing to read).

    python benchmarks/sheets_recall.py /tmp/sheetcorpus --worst 15 [--json out.json]

Prints per format: files, read, median and worst recall, the share of files
at 0.95 or more; then the worst files with their error lines.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import re
import statistics
import sys
import time
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_WORD = re.compile(r"\w+")
_NS = re.compile(r"^\{[^}]*\}")
SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".ods")


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _xml(data: bytes):  # noqa: ANN202
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, recover=True)
    return etree.fromstring(data, parser)


def _local(tag: object) -> str:
    return _NS.sub("", tag) if isinstance(tag, str) else ""


def _string_item(si) -> str:  # noqa: ANN001
    """A shared or inline string: its t's, rich runs joined, phonetic (rPh) runs left out."""
    out = []
    for t in si.iter():
        if _local(t.tag) != "t":
            continue
        if any(_local(a.tag) == "rPh" for a in t.iterancestors()):
            continue
        out.append(t.text or "")
    return "".join(out)


def xlsx_reference(path: Path) -> Counter | None:
    """Words of every text cell; a shared string's words counted once per cell that uses it
    (never expanded: a hostile file repeats one 1 MB string in 12,000 cells)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            shared: list[str] = []
            if "xl/sharedStrings.xml" in names:
                root = _xml(archive.read("xl/sharedStrings.xml"))
                if root is not None:
                    shared = [_string_item(si) for si in root if _local(si.tag) == "si"]
            sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
            texts = []
            uses: Counter = Counter()
            for name in sheets:
                root = _xml(archive.read(name))
                if root is None:
                    continue
                for c in root.iter():
                    if _local(c.tag) != "c":
                        continue
                    kind = c.get("t")
                    if kind == "s":
                        v = next((e for e in c if _local(e.tag) == "v"), None)
                        if v is not None and (v.text or "").strip().isdigit():
                            index = int(v.text)
                            if index < len(shared):
                                uses[index] += 1
                    elif kind == "inlineStr":
                        for e in c:
                            if _local(e.tag) == "is":
                                texts.append(_string_item(e))
                    elif kind == "str":
                        v = next((e for e in c if _local(e.tag) == "v"), None)
                        if v is not None and v.text:
                            texts.append(v.text)
            counted = Counter(words("\n".join(texts)))
            for index, count in uses.items():
                for word, n in Counter(words(shared[index])).items():
                    counted[word] += n * count
            return counted
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None


def ods_reference(path: Path) -> Counter | None:
    try:
        with zipfile.ZipFile(path) as archive:
            root = _xml(archive.read("content.xml"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    if root is None:
        return None
    texts = []
    for cell in root.iter():
        if _local(cell.tag) != "table-cell":
            continue
        for p in cell.iter():
            if _local(p.tag) == "p":
                texts.append("".join(p.itertext()))
    return Counter(words("\n".join(texts)))


def xls_reference(path: Path) -> Counter | None:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), logfile=io.StringIO(), on_demand=True)
    except Exception:  # noqa: BLE001 - a file xlrd cannot read has no reference
        return None
    texts = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            for r in range(sheet.nrows):
                for cell in sheet.row(r):
                    if cell.ctype == xlrd.XL_CELL_TEXT:
                        texts.append(str(cell.value))
    except Exception:  # noqa: BLE001
        return None
    return Counter(words("\n".join(texts)))


HOOKS = {
    **dict.fromkeys((".xlsx", ".xlsm", ".xltx", ".xltm"), xlsx_reference),
    ".ods": ods_reference,
    ".xls": xls_reference,
}


def _limit_memory() -> None:
    """A worker past 4 GB fails with MemoryError instead of taking the machine down."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _measure_in_worker(path: str) -> tuple[Counter | None, str | None, str | None]:
    """(reference words, our text, error line), both read in the worker."""
    try:
        reference = HOOKS[Path(path).suffix.lower()](Path(path))
    except MemoryError:
        reference = None
    text, error = _ours(path)
    return reference, text, error


def _ours(path: str) -> tuple[str | None, str | None]:
    import contextlib

    from desktop_qa.core.documents.document import load_document
    from desktop_qa.core.errors import UserError

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return load_document(path).text, None
    except UserError as exc:
        return None, str(exc)
    except MemoryError:
        return None, "MemoryError (over the benchmark's 4 GB)"
    except Exception as exc:  # noqa: BLE001 - a crash is a result here
        return None, f"crash: {type(exc).__name__}: {str(exc)[:120]}"


class _Worker:
    """One reading process, replaced after a time-out or every 50 files (memory)."""

    def __init__(self) -> None:
        self.pool = self._new()

    @staticmethod
    def _new():  # noqa: ANN205
        return mp.get_context("spawn").Pool(1, _limit_memory, maxtasksperchild=50)

    def read(self, path: Path, timeout: float) -> tuple[Counter | None, str | None, str | None]:
        job = self.pool.apply_async(_measure_in_worker, (str(path),))
        try:
            return job.get(timeout)
        except mp.TimeoutError:
            self.pool.terminate()
            self.pool = self._new()
            return None, None, f"timeout after {timeout:.0f} s"


def measure(path: Path, timeout: float, worker: _Worker) -> dict:
    started = time.perf_counter()
    reference, text, error = worker.read(path, timeout)
    seconds = time.perf_counter() - started
    ref = reference or Counter()
    total = sum(ref.values())
    if text is None:
        recall = None if total == 0 else 0.0
    else:
        got = Counter(words(text))
        recall = None if total == 0 else sum((ref & got).values()) / total
    return {
        "file": str(path),
        "format": path.suffix.lower(),
        "reference_words": total,
        "recall": recall,
        "error": error,
        "seconds": round(seconds, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    files = sorted(
        p for p in args.folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
    )
    results = []
    worker = _Worker()
    partial = None if args.json is None else args.json.with_suffix(".partial.jsonl")
    for n, path in enumerate(files, 1):
        results.append(measure(path, args.timeout, worker))
        if partial is not None:
            with open(partial, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(results[-1]) + "\n")
        print(f"\r{n}/{len(files)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"{'format':8} {'files':>5} {'counted':>7} {'read':>5} {'median':>7} {'worst':>6} "
          f"{'>=0.95':>7}")  # fmt: skip
    by_format: dict[str, list[dict]] = {}
    for r in results:
        by_format.setdefault(r["format"], []).append(r)
    for fmt, rows in sorted(by_format.items()):
        counted = [r["recall"] for r in rows if r["recall"] is not None]
        read = sum(1 for r in rows if r["error"] is None)
        if counted:
            share = sum(1 for x in counted if x >= 0.95) / len(counted)
            median, worst = statistics.median(counted), min(counted)
            print(f"{fmt:8} {len(rows):5d} {len(counted):7d} {read:5d} "
                  f"{median:7.3f} {worst:6.3f} {share:7.1%}")  # fmt: skip
        else:
            print(f"{fmt:8} {len(rows):5d} {0:7d} {read:5d}")
    counted_rows = [r for r in results if r["recall"] is not None]
    worst = sorted(counted_rows, key=lambda r: r["recall"])[: args.worst]
    print("\nworst:")
    for r in worst:
        why = f"  ({r['error'][:150]})" if r["error"] else ""
        print(f"  {r['recall']:.3f}  {r['reference_words']:6d} words  {r['file']}{why}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
