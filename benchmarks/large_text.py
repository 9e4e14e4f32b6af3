"""Memory and time of reading a very large text file whole (``ask --exhaustive``).

Windows are tokenized a few passages at a time, spans are kept in bounded
memory and the reading's bookkeeping is a bit mask per passage, so peak RSS
should not grow with the document beyond its text, passages and index.

    python benchmarks/large_text.py [--mb 100] [--keep DIR]

Prints one JSON line: file size, wall time, peak RSS of the ``desktop-qa ask``
process (ru_maxrss of the child), windows read and the answer. The pack is the
rule-based one sized like the real model (384-token windows, stride 128): the
reading's memory does not depend on the weights, and it runs in minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from desktop_qa.packs.oracle import build_oracle_pack  # noqa: E402
from tests.factset import generate  # noqa: E402


def write_text(path: Path, megabytes: float) -> int:
    """Generated prose (many fact documents, each with its own seed) up to the size."""
    target = int(megabytes * 1024 * 1024)
    written = 0
    seed = 0
    with open(path, "w", encoding="utf-8") as fh:
        while written < target:
            text = "\n\n".join(generate(pages=40, facts=30, seed=seed).paragraphs) + "\n\n"
            fh.write(text)
            written += len(text.encode("utf-8"))
            seed += 1
        fh.write("The launch code of the Zephyr rocket is alpha seven bravo.\n")
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=100.0, help="text size in MiB (100)")
    parser.add_argument("--keep", type=Path, help="folder to keep the text and pack in")
    args = parser.parse_args(argv)
    root = Path(args.keep or tempfile.mkdtemp(prefix="dqa-large-"))
    root.mkdir(parents=True, exist_ok=True)
    text = root / f"large-{args.mb:g}mb.txt"
    if not text.exists():
        write_text(text, args.mb)
    pack = root / "oracle-384"
    if not pack.exists():
        build_oracle_pack(
            pack, max_seq_length=384, doc_stride=128, max_query_length=64, max_answer_length=30
        )
    env = dict(os.environ, DESKTOP_QA_CACHE_DIR=str(root / "cache"))
    env.pop("DESKTOP_QA_MODEL", None)
    question = "What is the launch code of the Zephyr rocket?"
    cmd = [sys.executable, "-m", "desktop_qa", "ask", str(text), question, "--model", str(pack)]
    cmd += ["--exhaustive", "--json"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out: dict[str, object] = {
        "file_mb": round(text.stat().st_size / 2**20, 1),
        "exit": proc.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "load_avg": round(os.getloadavg()[0], 2),
    }
    if proc.returncode == 0:
        result = json.loads(proc.stdout)
        out["read"] = result["read"]
        out["answer"] = result["answers"][0]["text"] if result["answers"] else None
    else:
        out["stderr"] = proc.stderr.strip().splitlines()[-1:]
    print(json.dumps(out))
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
