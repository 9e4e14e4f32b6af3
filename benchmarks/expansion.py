"""Files that expand: peak memory and time of `desktop-qa find` on each (issues 28 and 30).

    python benchmarks/expansion.py [--only NAME ...] [--baseline OTHER_CHECKOUT]
                                   [--limit-gb 3] [--timeout 60] [--out DIR]

Builds every case of ``tests/expansiongen.py`` (a few KB to a few tens of MB on
disk; the 2 GiB "thumbnails" take a few seconds each to deflate) into
``--out`` (a temporary folder by default), then runs ``desktop-qa find FILE
"Zanzibar quokka" --json`` on each in a child process with its address space
limited (``RLIMIT_AS``, ``--limit-gb``) and a time limit, from a fresh cache.
Prints one line per case: seconds (wall and CPU), peak RSS (``ru_maxrss`` of the child),
exit code, matches found or the ``error:`` line, and whether that is what the
case should give (``read``: the fact found; else words of its one line).
With ``--baseline DIR`` each case also runs on that checkout (say ``main``
before this work) side by side, and the ratios are printed.
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import expansiongen as gen  # noqa: E402

GIB = 1 << 30
Case = tuple[str, Callable[[Path], Path], str]


def cases() -> list[Case]:
    """(name, builder of the file in a folder, what reading must give)."""
    xlsx_attachment = gen.xlsx_shared(Path(tempfile.mkdtemp()) / "a.xlsx", 10_000, 0.0001)
    return [
        ("xlsx 1 MB string x 2,000 cells", lambda d: gen.xlsx_shared(d / "s2k.xlsx", 2_000),
         "characters of text"),
        ("xlsx 1 MB string x 20,000 cells", lambda d: gen.xlsx_shared(d / "s20k.xlsx", 20_000),
         "characters of text"),
        ("xlsx 110 KB, 1 MB string x 12,000", lambda d: gen.xlsx_shared(d / "s12k.xlsx", 12_000,
                                                                          pad_kb=110),
         "characters of text"),
        ("ods 500 KB cell x 16,000 columns", lambda d: gen.ods_repeated(d / "rep.ods"),
         "characters of text"),
        ("docx 2 GiB thumbnail", lambda d: gen.docx_thumbnail_bomb(d / "thumb.docx"), "read"),
        ("pptx 2 GiB thumbnail", lambda d: gen.pptx_thumbnail_bomb(d / "thumb.pptx"), "read"),
        ("xlsx 2 GiB embedding", lambda d: gen.xlsx_embedding_bomb(d / "embed.xlsx"), "read"),
        ("eml carrying the 2 GiB docx", lambda d: gen.eml_with(
            d / "thumb.eml", [("r.docx", gen.docx_thumbnail_bomb(d / "t.docx").read_bytes())]),
         "read"),
        ("docx document.xml 4 KB declared, 2 GiB", lambda d: gen.docx_lying_document(
            d / "lie.docx"), "damaged zip container"),
        ("docx thumbnail 4 KB declared, 2 GiB", lambda d: gen.docx_lying(
            d / "lie2.docx", "docProps/thumbnail.jpeg"), "read"),
        ("docx numbering.xml 4 KB declared, 2 GiB", lambda d: gen.docx_lying(
            d / "lie3.docx", "word/numbering.xml"), "damaged zip container"),
        ("odt tables nested 24", lambda d: gen.odt_nested_tables(d / "t24.odt", 24), "read"),
        ("odt tables nested 26", lambda d: gen.odt_nested_tables(d / "t26.odt", 26), "read"),
        ("pptx groups nested 40", lambda d: gen.pptx_nested_groups(d / "groups.pptx", 40),
         "read"),
        ("odt lists nested 1,000", lambda d: gen.odt_nested_lists(d / "l1000.odt", 1000),
         "read"),
        ("odt lists nested 5,000", lambda d: gen.odt_nested_lists(d / "l5000.odt", 5000),
         "levels deep"),
        ("docx 2,000 styles x 3,000 paragraphs", lambda d: gen.docx_styles(
            d / "styles.docx", 2000, 3000), "read"),
        ("docx 2,672 styles", lambda d: gen.docx_styles(d / "s2672.docx", 2672, 300), "read"),
        ("docx 22 MB valid", lambda d: gen.docx_big_valid(d / "big.docx"), "read"),
        ("eml 6,000,000 MIME parts", lambda d: gen.eml_many_parts(d / "parts.eml", 6_000_000),
         "MIME parts"),
        ("eml 497 attachments", lambda d: gen.eml_many_attachments(
            d / "att.eml", 497, xlsx_attachment.read_bytes(), "sheet.xlsx"), "attachments"),
        *[
            (f"html {tag} nested {n}", lambda d, t=tag, n=n: gen.html_nested(
                d / f"{t}{n}.html", n, t), "read")
            for tag, n in (("div", 350), ("ul", 350), ("blockquote", 350), ("table", 300),
                           ("div", 3000))
        ],
        ("html div nested 200,000", lambda d: gen.html_nested(d / "deep.html", 200_000),
         "levels deep"),
        ("html 25 MB in one text node", lambda d: gen.html_one_node(d / "node.html", 25),
         "characters of text"),
        ("html 6 MB in one text node", lambda d: gen.html_one_node(d / "node6.html", 6),
         "read"),
        ("epub div nested 350", lambda d: gen.epub_nested(d / "deep.epub", 350), "levels deep"),
        ("epub div nested 60", lambda d: gen.epub_nested(d / "ok.epub", 60), "read"),
        ("rtf 30 MB", lambda d: gen.rtf_big(d / "big.rtf", 30), "characters of text"),
    ]  # fmt: skip


def run(repo: Path, path: Path, limit: int, timeout: float) -> dict:
    """``find`` in a child limited to ``limit`` bytes of address space, from a fresh cache;
    its own peak RSS comes from ``wait4`` (killed at ``timeout`` seconds)."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "PYTHONPATH": str(repo), "QT_QPA_PLATFORM": "offscreen"}
        for name in ("DATA", "CONFIG", "CACHE"):
            env[f"DESKTOP_QA_{name}_DIR"] = str(Path(home) / name.lower())

        def limits() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        out_path, err_path = Path(home) / "out", Path(home) / "err"
        started = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "desktop_qa", "find", str(path), gen.FACT, "--json"],
                stdout=out, stderr=err, env=env, cwd=home, preexec_fn=limits,
            )  # fmt: skip
        killed = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout and not killed:
                child.kill()
                killed = True
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        seconds = time.perf_counter() - started
        stdout, stderr = out_path.read_bytes(), err_path.read_bytes()
    lines = stderr.decode(errors="replace").splitlines()
    matches = None
    try:
        matches = json.loads(stdout)["matches"]
    except (ValueError, KeyError, TypeError):
        pass
    return {
        "seconds": round(seconds, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # what a loaded machine hides
        "peak_mb": round(usage.ru_maxrss / 1024),
        "code": "timeout" if killed else child.returncode,
        "matches": matches,
        "stderr": lines[-1][:200] if lines else "",
        "stderr_lines": len(lines),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="cases whose name holds one of these words")
    parser.add_argument("--baseline", type=Path, help="another checkout to run side by side")
    parser.add_argument("--limit-gb", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, help="where the files are built (kept)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="expansion-"))
    folder.mkdir(parents=True, exist_ok=True)
    limit = int(args.limit_gb * GIB)
    print(f"# load average {os.getloadavg()[0]:.2f}; RLIMIT_AS {args.limit_gb} GB; "
          f"timeout {args.timeout:.0f} s; files in {folder}")  # fmt: skip
    for name, build, expect in cases():
        if args.only and not any(word in name for word in args.only):
            continue
        path = build(folder)
        size = path.stat().st_size
        row = {"case": name, "kb_on_disk": round(size / 1024, 1), "expect": expect}
        repos = [("after", REPO)] + ([("before", args.baseline)] if args.baseline else [])
        for label, repo in repos:
            result = run(repo, path, limit, args.timeout)
            if expect == "read":
                result["ok"] = result["code"] == 0 and bool(result["matches"])
            else:
                result["ok"] = (
                    result["code"] == 2
                    and result["stderr_lines"] == 1
                    and expect in result["stderr"]
                    and str(path) in result["stderr"]
                )
            row[label] = result
        if args.baseline:
            a, b = row["after"], row["before"]
            row["time_ratio_before_over_after"] = round(b["seconds"] / max(a["seconds"], 1e-3), 1)
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
