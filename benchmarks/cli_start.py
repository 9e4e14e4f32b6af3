"""How fast ``desktop-qa ask`` answers on a cached document: keyword mode and with a pack.

    python benchmarks/cli_start.py PACK [--doc PDF] [--runs 5] [--baseline REPO]

Runs ``python -m desktop_qa ask DOC QUESTION --json`` as a user does (a fresh
process each time, bytecode compiled as an install has it), with its own data and
cache folders: once to fill the cache, then ``--runs`` times in keyword mode (no
pack installed) and with ``--model PACK``. With ``--baseline REPO`` (another
checkout, e.g. main before this change) the same runs alternate with that code,
so load on a shared machine hits both alike. Prints one JSON line: wall seconds
(median, min) per mode and code, the targets (keyword <= 0.5 s, pack <= 1.5 s),
the ratios, and the load average before and after. The CPU seconds (user+sys)
are given too: on a busy machine they move less than wall time.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO.parent / "shared" / "corpora" / "books" / "freeculture.pdf"
QUESTION = "Who invented FM radio?"
TARGETS = {"keyword": 0.5, "pack": 1.5}


def run(repo: Path, env: dict[str, str], argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one CLI run from ``repo``."""
    env = dict(env, PYTHONPATH=str(repo))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "desktop_qa", *argv], env=env, capture_output=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{repo}: {out.stderr.decode(errors='replace').strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack", type=Path)
    parser.add_argument("--doc", type=Path, default=BOOK)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    repos = {"this": REPO}
    if args.baseline:
        repos["baseline"] = args.baseline.resolve()
    for repo in repos.values():
        compileall.compile_dir(str(repo / "desktop_qa"), quiet=1)
    load_before = [round(v, 2) for v in os.getloadavg()]
    base = Path(tempfile.mkdtemp(prefix="dqa-clistart-"))
    envs = {}
    for name in repos:
        root = base / name
        envs[name] = dict(
            os.environ,
            DESKTOP_QA_DATA_DIR=str(root / "data"),
            DESKTOP_QA_CACHE_DIR=str(root / "cache"),
            DESKTOP_QA_CONFIG_DIR=str(root / "config"),
        )
        envs[name].pop("DESKTOP_QA_MODEL", None)
    modes = {
        "keyword": ["ask", str(args.doc), QUESTION, "--json"],
        "pack": ["ask", str(args.doc), QUESTION, "--json", "--model", str(args.pack)],
    }
    first = {}
    for name, repo in repos.items():  # fill the cache (and the saved optimized graph)
        first[name] = round(run(repo, envs[name], modes["keyword"])[0], 2)
        run(repo, envs[name], modes["pack"])
    walls: dict[str, dict[str, list[float]]] = {n: {m: [] for m in modes} for n in repos}
    cpus: dict[str, dict[str, list[float]]] = {n: {m: [] for m in modes} for n in repos}
    for _ in range(args.runs):
        for mode, argv in modes.items():
            for name, repo in repos.items():
                wall, cpu = run(repo, envs[name], argv)
                walls[name][mode].append(wall)
                cpus[name][mode].append(cpu)
    out: dict[str, object] = {"document": args.doc.name, "runs": args.runs, "first_open_s": first}
    for name in repos:
        out[name] = {
            mode: {
                "wall_median_s": round(statistics.median(walls[name][mode]), 3),
                "wall_min_s": round(min(walls[name][mode]), 3),
                "cpu_median_s": round(statistics.median(cpus[name][mode]), 3),
                "target_s": TARGETS[mode],
                "met": statistics.median(walls[name][mode]) <= TARGETS[mode],
            }
            for mode in modes
        }
    if "baseline" in repos:
        out["this_over_baseline"] = {
            m: round(
                statistics.median(walls["this"][m]) / statistics.median(walls["baseline"][m]), 3
            )
            for m in modes
        }
    out["load"] = {"before": load_before, "after": [round(v, 2) for v in os.getloadavg()]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
