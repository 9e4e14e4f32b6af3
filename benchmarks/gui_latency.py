"""UI-thread latency while the GUI answers a question (a timer-gap measurement).

A QTimer ticks every 20 ms on the UI thread while a query runs in the
window's worker; the gaps between ticks are how long a click or a key would
wait. Prints the worst gap, the 99th percentile and the mean, per model pack.

    python benchmarks/gui_latency.py                       # oracle pack, 300 pages
    python benchmarks/gui_latency.py --pack benchmarks/out/random-mobilebert-seed0
    python benchmarks/gui_latency.py --exhaustive --seconds 8

Runs offscreen unless QT_QPA_PLATFORM says otherwise (e.g. under xvfb-run).
Generated documents and packs go to benchmarks/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

OUT = Path(__file__).resolve().parent / "out"
QUESTION = "What is the launch code?"


def make_pdf(path: Path, pages: int, answer_page: int) -> Path:
    """A plain multi-page PDF with the answer on ``answer_page``."""
    import pymupdf

    if path.exists():
        return path
    words = (
        "the station crew checks the pumps and valves every morning before the shift starts "
        "and writes each reading into the log so the next team can see what changed"
    ).split()
    doc = pymupdf.open()
    for p in range(1, pages + 1):
        page = doc.new_page(width=612, height=792)
        page.insert_text((56, 60), f"Chapter {p}", fontsize=16)
        y = 90.0
        for line in range(52):
            text = " ".join(words[(line + p + i) % len(words)] for i in range(14))
            page.insert_text((56, y), text, fontsize=10)
            y += 13
        if p == answer_page:
            page.insert_text((56, y + 10), "The launch code is Alpha Bravo.", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.pdf")
    doc.save(str(tmp))
    doc.close()
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", help="model pack folder (default: a generated oracle pack)")
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--exhaustive", action="store_true", help="read the whole document")
    ap.add_argument("--seconds", type=float, default=6.0, help="stop measuring after this")
    ap.add_argument("--threads", type=int, help="onnxruntime threads (default: the GUI's)")
    ap.add_argument("--diagnose", action="store_true", help="print worker stacks after gaps")
    args = ap.parse_args(argv)

    # Private user folders: a benchmark must not touch real settings or caches.
    scratch = Path(tempfile.mkdtemp(prefix="gui-latency-"))
    for name in ("DATA", "CONFIG", "CACHE"):
        os.environ[f"DESKTOP_QA_{name}_DIR"] = str(scratch / name.lower())

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_qa.core.reading.pack import load_pack
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.gui.session import Session
    from desktop_qa.gui.window import MainWindow
    from desktop_qa.packs.oracle import build_oracle_pack

    pdf = make_pdf(OUT / f"latency-{args.pages}p.pdf", args.pages, int(args.pages * 0.68))
    pack_dir = Path(args.pack) if args.pack else OUT / "oracle-pack"
    if not args.pack and not (pack_dir / "model.json").is_file():
        build_oracle_pack(pack_dir)
    pack = load_pack(pack_dir)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = Session()
    session.settings.exhaustive = args.exhaustive
    window = MainWindow(session, restore_geometry=False)
    window.resize(1280, 900)
    window.show()
    t0 = time.perf_counter()
    from desktop_qa.core.reading.reader import DEFAULT_BATCH_SIZE
    from desktop_qa.gui.models import reader_threads

    threads = args.threads or reader_threads()
    batch = int(pack.extra.get("batch_size", DEFAULT_BATCH_SIZE))
    session.set_reader(Reader(pack, threads=threads, batch_size=batch))
    reader_s = time.perf_counter() - t0

    loaded: list[float] = []
    session.documentLoaded.connect(lambda _d: loaded.append(time.perf_counter()))
    t0 = time.perf_counter()
    session.open_document(pdf)
    while not loaded and time.perf_counter() - t0 < 120:
        app.processEvents()
        time.sleep(0.005)
    open_s = loaded[0] - t0

    ticks: list[float] = []
    stacks: list[str] = []
    finished: list[tuple[float, object]] = []
    progress: list[tuple[int, int]] = []
    session.queryFinished.connect(lambda r: finished.append((time.perf_counter(), r)))
    session.queryProgress.connect(lambda d, t: progress.append((d, t)))

    def tick() -> None:
        now = time.perf_counter()
        if args.diagnose and ticks and now - ticks[-1] > 0.06:
            frames = sys._current_frames()
            me = __import__("threading").get_ident()
            for ident, frame in frames.items():
                if ident != me:
                    stacks.append(
                        f"gap {1000 * (now - ticks[-1]):.0f} ms; thread {ident}:\n"
                        + "".join(traceback.format_stack(frame, limit=6))
                    )
        ticks.append(now)

    gc_pauses: list[tuple[int, float]] = []
    if args.diagnose:
        import gc

        gc_start: dict[str, float] = {}

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_start["t"] = time.perf_counter()
            elif "t" in gc_start:
                gc_pauses.append((info["generation"], time.perf_counter() - gc_start.pop("t")))

        gc.callbacks.append(on_gc)

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(tick)
    refs0 = (sys.getrefcount(True), sys.getrefcount(False))
    started = time.perf_counter()
    timer.start()
    session.ask(QUESTION)
    # Keep measuring after the answer: showing it (scroll, render, list) counts too.
    while time.perf_counter() - started < args.seconds:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    running = session.busy
    session.cancel_query()
    query_s = (finished[0][0] - started) if finished else None

    gaps = sorted(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    p99 = gaps[int(0.99 * (len(gaps) - 1))] if gaps else 0.0
    mean = sum(gaps) / len(gaps) if gaps else 0.0
    print(f"pack: {pack.describe()}")
    print(f"document: {pdf.name} ({args.pages} pages), opened in {open_s:.2f} s")
    print(f"reader loaded in {reader_s:.2f} s; {threads} threads; exhaustive={args.exhaustive}")
    if progress:
        print(f"windows read: {progress[-1][0]} of {progress[-1][1]}")
    if query_s is not None:
        best = finished[0][1].answers[:1]  # type: ignore[attr-defined]
        print(f"query finished in {query_s:.2f} s; best: {best[0].text if best else None!r}")
    else:
        print(f"query still running after {args.seconds:.1f} s (cancelled): {running}")
    print(
        f"UI timer gaps over {len(gaps)} ticks: max {1000 * gaps[-1]:.1f} ms, "
        f"p99 {1000 * p99:.1f} ms, mean {1000 * mean:.1f} ms (timer interval 20 ms)"
    )
    long_gc = [(g, d) for g, d in gc_pauses if d > 0.02]
    if args.diagnose:
        refs = (sys.getrefcount(True), sys.getrefcount(False))
        print(f"refcounts of True/False: before {refs0}, after {refs}")
        print(f"gc pauses > 20 ms: {[(g, round(1000 * d)) for g, d in long_gc]}")
    for text in stacks[:6]:
        print(text)
    window.close()
    session.shutdown()
    return 0 if gaps and gaps[-1] < 0.1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
