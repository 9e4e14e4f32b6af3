"""``library remove`` of a 3,000-document folder: how long, and whether kills leave it whole.

    python benchmarks/library_remove.py [--documents 3000] [--kills 20] [--baseline CHECKOUT]

Builds the folder (small generated text files, 30 distinct, the rest copies
indexed without reading) in a temporary data folder, then times
``desktop-qa library remove DIR`` (a whole process, as a user runs it) with this
checkout and, with ``--baseline``, another one (say ``../main`` before issue
30.6) on a copy of the same store, side by side. Then ``--kills`` runs killed
with SIGKILL at even points of the removal: how many left the store before,
after, or half (a folder gone and its documents still there).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(folder: Path, data: Path, n: int) -> None:
    os.environ["DESKTOP_QA_DATA_DIR"] = str(data)
    from desktop_qa.core.reading.engine import final
    from desktop_qa.core.storage.library import Library

    folder.mkdir(parents=True)
    for i in range(n):
        text = f"Note {i % 30}. The quokka number {i % 30} lives on island zanzibar{i % 30}.\n"
        (folder / f"note{i:05d}.txt").write_text(text, encoding="utf-8")
        if i == 29:
            with Library() as lib:
                lib.add_folder(folder)
                final(lib.update(workers=1))
    with Library() as lib:
        final(lib.update(workers=1))


def counts(store: Path) -> tuple[int, int]:
    with sqlite3.connect(store) as conn:
        return tuple(conn.execute(q).fetchone()[0] for q in  # type: ignore[return-value]
                     ("SELECT count(*) FROM folder", "SELECT count(*) FROM document"))  # fmt: skip


def remove(checkout: Path, folder: Path, data: Path) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(checkout), DESKTOP_QA_DATA_DIR=str(data))
    return [sys.executable, "-m", "desktop_qa", "library", "remove", str(folder)], env  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="desktop-qa-remove-"))
    folder, template = root / "notes", root / "template"
    started = time.perf_counter()
    build(folder, template, args.documents)
    print(f"built {counts(template / 'library.sqlite')} in {time.perf_counter() - started:.1f} s")
    data = root / "data"
    for name, checkout in (("this checkout", REPO), ("baseline", args.baseline)):
        if checkout is None:
            continue
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(template, data)
        cmd, env = remove(checkout, folder, data)
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        whole = time.perf_counter() - started
        outcome = {"before": 0, "after": 0, "half": 0}
        for k in range(args.kills):
            shutil.rmtree(data, ignore_errors=True)
            shutil.copytree(template, data)
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(whole * (k + 0.5) / args.kills)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            found = counts(data / "library.sqlite")
            key = "before" if found == (1, args.documents) else (
                "after" if found == (0, 0) else "half")  # fmt: skip
            outcome[key] += 1
        print(f"{name:>14}: library remove of {args.documents} documents {whole:.2f} s "
              f"(whole process); killed at {args.kills} even points: {outcome}")  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
