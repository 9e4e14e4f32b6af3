"""Speed at document scale: one JSON line of figures for a generated 300-page PDF.

    python benchmarks/document.py [--quick] [--tuning] [--no-full-scan]

The PDF (about 150k words, 240 facts, tests/factset.py) and the model pack are
built once into benchmarks/out/ (gitignored) and reused. The pack is the
full-size random-weight int8 MobileBERT of benchmarks/reader.py (speed does not
depend on weights) with its tokenizer's vocabulary extended by the document's
words: the generated test vocabulary would split most words into characters
(4x the tokens of a real WordPiece vocabulary, so 4x the windows).

Timings of the app run in a child process ("app"), so its peak RSS is the app's
own: open (cold, then cached), load the reader, ask questions pre-ranked and
exhaustively. ``--tuning`` also times onnxruntime session options on real
windows of the document (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import answer_timed  # noqa: E402  (benchmarks/timing.py)

from desktop_qa.core.reading.pack import load_pack  # noqa: E402
from desktop_qa.core.search.index import TOKENIZERS, TOP_PASSAGES, PassageIndex  # noqa: E402
from desktop_qa.core.search.passages import make_passages  # noqa: E402
from desktop_qa.packs.write import write_manifest  # noqa: E402
from tests.factset import FactDocument, generate  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
BASE_PACK = OUT / "random-mobilebert-seed0"
DOC_PACK = OUT / "random-mobilebert-seed0-docvocab"
RECALL_KS = (1, 4, 8, 12, 16)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def loadavg() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


# -- inputs ------------------------------------------------------------------------------------
def fact_document(pages: int) -> FactDocument:
    return generate(pages=pages, facts=240 if pages >= 100 else max(24, pages * 2))


def write_pdf(fd: FactDocument, path: Path) -> Path:
    """One text box per paragraph (a block each, as in a real report), 9 pt Helvetica."""
    import pymupdf

    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = pymupdf.open()
    for number, paragraphs in enumerate(fd.pages(), 1):
        page = pdf.new_page(width=612, height=792)
        y = 56.0
        for paragraph in paragraphs:
            rect = pymupdf.Rect(56, y, 556, 750)
            left = page.insert_textbox(rect, paragraph, fontsize=9, fontname="helv")
            if left < 0:
                raise RuntimeError(f"page {number}: paragraph does not fit")
            y = 750 - left + 9
        page.insert_text((290, 772), str(number), fontsize=8, fontname="helv")
    tmp = path.with_suffix(".tmp.pdf")
    pdf.save(str(tmp))
    pdf.close()
    os.replace(tmp, path)
    return path


def base_pack() -> Path:
    try:
        pack = load_pack(BASE_PACK)
        if pack.quantization == "int8-dynamic":
            return BASE_PACK
    except Exception:  # noqa: BLE001 - any problem with the cached pack means rebuild
        pass
    from desktop_qa.packs import export

    started = time.perf_counter()
    export.build_random_pack("mobilebert", BASE_PACK, seed=0, keep_fp32=True)
    print(f"built {BASE_PACK} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return BASE_PACK


def doc_pack(fd: FactDocument) -> Path:
    """The random int8 pack with a vocabulary that holds the document's words."""
    from desktop_qa.packs.vocab import base_vocab, pad_vocab, write_tokenizer

    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]+", fd.text)})
    words += sorted({w.lower() for f in fd.facts for w in re.findall(r"[A-Za-z]+", f.question)})
    try:
        pack = load_pack(DOC_PACK)
        if pack.extra.get("vocab_words") == len(set(words)):
            return DOC_PACK
    except Exception:  # noqa: BLE001
        pass
    src = base_pack()
    tmp = Path(tempfile.mkdtemp(prefix=".docpack-", dir=OUT))
    shutil.copy(src / "model.onnx", tmp / "model.onnx")
    if (src / "model.fp32.onnx").is_file():
        shutil.copy(src / "model.fp32.onnx", tmp / "model.fp32.onnx")
    write_tokenizer(pad_vocab(base_vocab(words), 30522), tmp / "tokenizer.json")
    manifest = json.loads((src / "model.json").read_text())
    manifest = {k: v for k, v in manifest.items() if k not in ("format", "files")}
    manifest["name"] = "random-mobilebert-seed0-int8-docvocab"
    manifest["vocab_words"] = len(set(words))
    if (tmp / "model.fp32.onnx").is_file():
        manifest["extra_files"] = ["model.fp32.onnx"]
    write_manifest(tmp, manifest)
    if DOC_PACK.exists():
        shutil.rmtree(DOC_PACK)
    tmp.rename(DOC_PACK)
    return DOC_PACK


# -- recall ------------------------------------------------------------------------------------
def fact_passages(text: str, fd: FactDocument, passages: list) -> list[int | None]:
    """The passage holding each fact sentence in ``text`` (None if extraction changed it)."""
    starts = [p.start for p in passages]
    out: list[int | None] = []
    for fact in fd.facts:
        offset = text.find(fact.sentence)
        out.append(None if offset < 0 else bisect.bisect_right(starts, offset) - 1)
    return out


def recall(index: PassageIndex, fd: FactDocument, targets: list[int | None]) -> dict[str, Any]:
    found = dict.fromkeys(RECALL_KS, 0)
    started = time.perf_counter()
    for fact, target in zip(fd.facts, targets, strict=True):
        ranked = [h.passage for h in index.search(fact.question, max(RECALL_KS))]
        for k in RECALL_KS:
            found[k] += target is not None and target in ranked[:k]
    seconds = time.perf_counter() - started
    n = len(fd.facts)
    return {
        "recall_at": {str(k): round(v / n, 4) for k, v in found.items()},
        "search_ms": round(seconds / n * 1000, 2),
    }


def compare_tokenizers(fd: FactDocument) -> dict[str, Any]:
    passages = make_passages(fd.text)
    targets = fact_passages(fd.text, fd, passages)
    out: dict[str, Any] = {}
    for name in TOKENIZERS:
        started = time.perf_counter()
        index = PassageIndex.build(fd.text, passages, tokenizer=name)
        build = time.perf_counter() - started
        out[name] = {"build_s": round(build, 3), **recall(index, fd, targets)}
        index.close()
    return out


# -- the app (child process) -------------------------------------------------------------------
def app(pdf: Path, pack_dir: Path, pages: int, full_scan: bool, questions: int) -> dict:
    """Everything the app does, timed; peak RSS is this process's."""
    import gc

    from desktop_qa.core import Query
    from desktop_qa.core.reading import engine
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.core.storage import cache, opening

    fd = fact_document(pages)
    cache.clear()
    out: dict[str, Any] = {}
    started = time.perf_counter()
    doc = opening.open_document(pdf).doc
    out["open_cold_s"] = round(time.perf_counter() - started, 3)
    out["chars"], out["words"], out["pages"] = len(doc.text), len(doc.text.split()), doc.page_count
    del doc
    gc.collect()
    cached = []
    for _ in range(3):
        started = time.perf_counter()
        opened = opening.open_document(pdf)
        cached.append(time.perf_counter() - started)
    doc = opened.doc
    out["open_cached_s"] = round(statistics.median(cached), 4)
    out["cached_vs_cold"] = round(out["open_cached_s"] / out["open_cold_s"], 4)
    out["cache_entry_mb"] = round(cache.entry_path(doc.content_hash).stat().st_size / 2**20, 1)
    index = opened.index
    out["passages"] = len(index.passages)
    targets = fact_passages(doc.text, fd, index.passages)
    out["facts_found_in_text"] = sum(t is not None for t in targets)
    out["prerank"] = {"top_passages": TOP_PASSAGES, **recall(index, fd, targets)}

    started = time.perf_counter()
    engine.final(engine.answer(opened, Query(fd.facts[0].question), None))
    out["keyword_answer_s"] = round(time.perf_counter() - started, 4)

    started = time.perf_counter()
    pack = load_pack(pack_dir)
    reader = Reader(pack)
    out["reader_load_s"] = round(time.perf_counter() - started, 3)
    out["batch_size"] = reader.batch_size
    out["threads"] = reader.threads

    def ask(question: str, exhaustive: bool) -> dict[str, float]:
        first, total, result = answer_timed(opened, Query(question, exhaustive=exhaustive), reader)
        return {"first_s": first, "total_s": total, "windows": result.read.windows}

    ask(fd.facts[1].question, False)  # warm-up
    step_facts = fd.facts[:: max(1, len(fd.facts) // questions)][:questions]
    runs = [ask(f.question, False) for f in step_facts]
    out["ranked"] = {
        "questions": len(runs),
        "first_answer_s": round(statistics.median(r["first_s"] for r in runs), 3),
        "total_s": round(statistics.median(r["total_s"] for r in runs), 3),
        "windows": round(statistics.median(r["windows"] for r in runs), 1),
    }
    if full_scan:
        full = ask(fd.facts[2].question, True)
        out["full_scan"] = {k: round(v, 3) for k, v in full.items()}
        out["first_answer_vs_full_scan"] = round(
            out["ranked"]["first_answer_s"] / full["total_s"], 5
        )
        out["ranked_total_vs_full_scan"] = round(out["ranked"]["total_s"] / full["total_s"], 5)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def run_app(pdf: Path, pack: Path, pages: int, full_scan: bool, questions: int) -> dict:
    env = dict(os.environ)
    cmd = [sys.executable, __file__, "--app", str(pdf), str(pack), str(pages)]
    cmd += ["--questions", str(questions)] + ([] if full_scan else ["--no-full-scan"])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"app child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- session tuning ----------------------------------------------------------------------------
def tuning(pdf: Path, pack_dir: Path, pages: int, rounds: int = 3) -> dict:
    """Per-window latency of session options on the windows the app reads first."""
    from desktop_qa.core.system.runtime import import_onnxruntime

    ort = import_onnxruntime()

    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.core.storage import opening

    fd = fact_document(pages)
    opened = opening.open_document(pdf)
    doc, index = opened.doc, opened.index
    pack = load_pack(pack_dir)
    reader = Reader(pack)
    windows = []
    for fact in fd.facts[:4]:
        ranked = [index.passages[h.passage] for h in index.search(fact.question, TOP_PASSAGES)]
        items = [(p.index, p.start, doc.text[p.start : p.end]) for p in ranked]
        windows += reader.windows(fact.question, items)
    windows = windows[:32]
    out: dict[str, Any] = {
        "windows": len(windows),
        "mean_tokens": round(statistics.mean(len(w.ids) for w in windows), 1),
    }

    def per_window_ms(r: Reader, batch: int) -> float:
        started = time.perf_counter()
        for i in range(0, len(windows), batch):
            r.run(windows[i : i + batch])
        return (time.perf_counter() - started) / len(windows) * 1000

    # Every option gets its own reader; rounds interleave them so that other work on
    # the machine slows all options alike, and the best round of each is kept.
    options: dict[str, tuple[Reader, int]] = {}
    loads: dict[str, float] = {}

    def add(label: str, batch: int = 1, **kwargs: Any) -> None:
        started = time.perf_counter()
        options[label] = (Reader(pack, batch_size=batch, **kwargs), batch)
        loads[label] = round(time.perf_counter() - started, 3)

    for b in (1, 2, 4, 8):
        add(f"batch_{b}", b, cache_optimized=False)
    add("threads_1", threads=1, cache_optimized=False)
    levels = {
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    for name, level in levels.items():
        add(f"opt_{name}", optimization=level, cache_optimized=False)
    with tempfile.TemporaryDirectory() as tmp:  # saved optimized model: write, then reuse
        old = os.environ.get("DESKTOP_QA_CACHE_DIR")
        os.environ["DESKTOP_QA_CACHE_DIR"] = tmp
        add("saved_first_load", cache_optimized=True)
        add("saved_optimized", cache_optimized=True)
        if old is None:
            os.environ.pop("DESKTOP_QA_CACHE_DIR")
        else:
            os.environ["DESKTOP_QA_CACHE_DIR"] = old
    sizes: dict[str, float] = {}
    fp32 = pack.path / "model.fp32.onnx"
    if fp32.is_file():
        from desktop_qa.packs.quantize import quantize_int8

        add("quant_fp32", cache_optimized=False, onnx_path=fp32)
        sizes["quant_fp32"] = fp32.stat().st_size
        sizes["opt_all"] = pack.onnx_path.stat().st_size
        key = str(pack.files.get("model.fp32.onnx", "fp32"))[:12]
        for label, kwargs in {
            "quant_int8_quantize_py_defaults": {},
            "quant_int8_per_channel": {"per_channel": True},
            "quant_int8_reduce_range": {"reduce_range": True},
            "quant_int8_per_channel_reduce_range": {"per_channel": True, "reduce_range": True},
        }.items():
            path = OUT / f"variant-{key}-{label}.onnx"
            if not path.is_file():
                quantize_int8(fp32, path, **kwargs)
            add(label, cache_optimized=False, onnx_path=path)
            sizes[label] = path.stat().st_size
    best: dict[str, float] = {}
    for r, batch in options.values():
        r.run(windows[:batch])  # warm-up
    for _ in range(rounds):
        for label, (r, batch) in options.items():
            best[label] = min(best.get(label, float("inf")), per_window_ms(r, batch))
    out["ms_per_window"] = {k: round(v, 1) for k, v in best.items()}
    out["session_load_s"] = loads
    out["size_mb"] = {k: round(v / 2**20, 1) for k, v in sizes.items()}
    out["rounds"] = rounds
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 pages instead of 300")
    parser.add_argument("--pages", type=int, help="pages of the generated PDF")
    parser.add_argument("--tuning", action="store_true", help="also time session options")
    parser.add_argument("--no-full-scan", action="store_true", help="skip the exhaustive scan")
    parser.add_argument("--questions", type=int, default=8, help="pre-ranked questions to time")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved tuning rounds")
    parser.add_argument("--app", nargs=3, metavar=("PDF", "PACK", "PAGES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ["DESKTOP_QA_CACHE_DIR"] = str(OUT / "bench-cache")  # never the user's cache
    if args.app:
        pdf, pack, pages = Path(args.app[0]), Path(args.app[1]), int(args.app[2])
        result = app(pdf, pack, pages, not args.no_full_scan, args.questions)
        print(json.dumps(result))
        return 0
    pages = args.pages or (40 if args.quick else 300)
    load_start = loadavg()
    fd = fact_document(pages)
    pdf = write_pdf(fd, OUT / f"facts-{pages}p.pdf")
    pack = doc_pack(fact_document(300))  # one vocabulary for every page count
    result: dict[str, Any] = {
        "benchmark": "document",
        "pages": pages,
        "facts": len(fd.facts),
        "pdf_mb": round(pdf.stat().st_size / 2**20, 2),
        "pack": load_pack(pack).name,
        "cpu_count": os.cpu_count(),
    }
    result["tokenizers"] = compare_tokenizers(fd)
    result["app"] = run_app(pdf, pack, pages, not args.no_full_scan, args.questions)
    if args.tuning:
        result["tuning"] = tuning(pdf, pack, pages, rounds=args.rounds)
    a = result["app"]
    result["targets"] = {
        "first_answer_under_tenth_of_full_scan": a.get("first_answer_vs_full_scan", 1) < 0.1,
        "prerank_recall_at_least_95": a["prerank"]["recall_at"][str(TOP_PASSAGES)] >= 0.95,
        "cached_open_under_tenth_of_cold": a["cached_vs_cold"] < 0.1,
        "peak_rss_under_500mb": a["peak_rss_mb"] < 500,
    }
    result["loadavg_1m_start_end"] = [load_start, loadavg()]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
