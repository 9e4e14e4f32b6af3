"""A library update under each start method, side by side: what spawn (Windows, macOS,
``DESKTOP_QA_START_METHOD=spawn``) costs against fork (Linux's default for workers).

    python benchmarks/start_methods.py [FOLDER] [--workers N] [--runs N]

Each run indexes FOLDER (default: 40 small text files made here) into a fresh library,
once per start method, alternating, and prints one JSON object: the median seconds of
each, their ratio, and the seconds to start one worker and read one file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ["DESKTOP_QA_DATA_DIR"] = tempfile.mkdtemp(prefix="dqa-start-")
os.environ["DESKTOP_QA_CACHE_DIR"] = tempfile.mkdtemp(prefix="dqa-start-cache-")
os.environ.pop("DESKTOP_QA_START_METHOD", None)  # each run names its method

from desktop_qa.core.storage.library import Library, workers  # noqa: E402


def _made_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="dqa-start-docs-"))
    for i in range(40):
        (folder / f"note-{i:02}.txt").write_text(
            f"Note {i}. The meeting on day {i} moved the budget review to room {100 + i}.\n" * 20,
            encoding="utf-8",
        )
    return folder


def _update(folder: Path, method: str, n: int) -> float:
    data = Path(tempfile.mkdtemp(prefix="dqa-start-lib-"))
    os.environ["DESKTOP_QA_DATA_DIR"] = str(data)
    started = time.perf_counter()
    with Library() as lib:
        lib.add_folder(folder)
        steps = lib.update(workers=n, start_method=method)
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                assert stop.value.failed == 0, stop.value.errors
                break
    return time.perf_counter() - started


def _one_worker(path: Path, method: str) -> float:
    started = time.perf_counter()
    pool = workers.WorkerPool(1, start_method=method)
    try:
        results = [r for r in pool.run([str(path)]) if r[0]]
        assert results and results[0][2] is None, results
    finally:
        pool.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--workers", type=int, default=workers.default_workers(False))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.folder) if args.folder else _made_folder()
    methods = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]
    first = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    update: dict[str, list[float]] = {m: [] for m in methods}
    worker: dict[str, list[float]] = {m: [] for m in methods}
    for _ in range(args.runs):
        for method in methods:  # alternating: both see the same machine load
            update[method].append(_update(folder, method, args.workers))
            worker[method].append(_one_worker(first, method))
    out = {
        "folder": str(folder),
        "files": sum(1 for p in folder.rglob("*") if p.is_file()),
        "workers": args.workers,
        "runs": args.runs,
        "update_s": {m: round(statistics.median(v), 3) for m, v in update.items()},
        "one_worker_one_file_s": {m: round(statistics.median(v), 3) for m, v in worker.items()},
    }
    if len(methods) == 2:
        out["update_spawn_over_fork"] = round(
            statistics.median(update["spawn"]) / statistics.median(update["fork"]), 2
        )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
