"""``desktop-qa eval DATA.json``: official SQuAD 2.0 scores for a pack, and calibration.

Calibration writes the best-F1 no-answer threshold into the pack itself, so
the app and ``ask`` use it without any extra flag.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from desktop_qa.commands.options import add_model_option, add_threshold_option
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import find_pack, load_pack, read_manifest
from desktop_qa.packs.write import write_manifest


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score a model pack on a SQuAD 2.0 file",
        description="Answer every question of a SQuAD 2.0 JSON file and print the official "
        "exact-match and F1 scores (overall, HasAns, NoAns) and the best no-answer threshold.",
    )
    p.add_argument("data", nargs="?", metavar="DATA.json", help="SQuAD 2.0 JSON file")
    add_model_option(p)
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    add_threshold_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="write the best-F1 threshold into the pack's model.json (null_threshold)",
    )
    p.add_argument(
        "--squad2-dev",
        action="store_true",
        help="evaluate on the official SQuAD 2.0 dev set (fetched from the hub once, then cached)",
    )
    p.set_defaults(func=run)


class ProgressLine:
    """One self-overwriting progress line on a terminal; silent when stderr is not a tty."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.enabled = stream.isatty()
        self.last = 0.0
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 30)
        rate = done / (now - self.started) if now > self.started else 0.0
        self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{total} {rate:5.1f} q/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()


def _fmt(value: Any) -> str:
    return f"{value:6.2f}" if isinstance(value, float) else f"{value:>6}"


def print_table(report: dict[str, Any], out: TextIO) -> None:
    trained = "" if report["trained"] else "  [UNTRAINED test model]"
    print(f"model     {report['model']}{trained}", file=out)
    print(f"data      {report['data']}", file=out)
    print(f"threshold {report['null_threshold']:g} (answer when span - null > threshold)", file=out)
    print(f"\n{'':<8} {'exact':>6} {'F1':>6} {'total':>6}", file=out)
    for label, prefix in (("all", ""), ("HasAns", "HasAns_"), ("NoAns", "NoAns_")):
        if f"{prefix}total" in report:
            print(
                f"{label:<8} {_fmt(report[prefix + 'exact'])} {_fmt(report[prefix + 'f1'])} "
                f"{_fmt(report[prefix + 'total'])}",
                file=out,
            )
    print(
        f"\nbest exact {report['best_exact']:.2f} at na-score threshold "
        f"{report['best_exact_thresh']:.4g}",
        file=out,
    )
    print(
        f"best F1    {report['best_f1']:.2f} at na-score threshold {report['best_f1_thresh']:.4g}",
        file=out,
    )
    print(
        f"calibrated null_threshold {report['calibrated_null_threshold']:.4g} "
        f"(F1 {report['calibrated_f1']:.2f}; write it with --calibrate)",
        file=out,
    )
    rate = report.get("questions_per_second")
    print(f"\n{report['seconds']:.1f} s" + (f", {rate} questions/s" if rate else ""), file=out)


def calibrate(pack_path: Any, threshold: float) -> dict[str, Any]:
    """Store ``threshold`` as the pack's null_threshold, keeping every other key."""
    manifest = read_manifest(pack_path)
    old = manifest.get("null_threshold")
    manifest["null_threshold"] = float(threshold)
    manifest.pop("files", None)
    try:
        write_manifest(pack_path, manifest)
    except OSError as exc:
        raise UserError(
            f"cannot write the threshold into {pack_path} ({exc.strerror or exc}); "
            "is the pack folder read-only (a bundled pack)? copy it with 'desktop-qa model "
            "install DIR' first"
        ) from None
    load_pack(pack_path)  # still verifies
    return {"old": old, "new": manifest["null_threshold"]}


def run(args: argparse.Namespace) -> int:
    from desktop_qa.core.reading.evaluate import evaluate, load_squad
    from desktop_qa.core.reading.reader import Reader

    if args.squad2_dev and args.data:
        raise UserError("pass either DATA.json or --squad2-dev, not both")
    if not args.squad2_dev and not args.data:
        raise UserError("pass a SQuAD 2.0 JSON file, or --squad2-dev to use the official dev set")
    if args.limit is not None and args.limit < 1:
        raise UserError(f"must be at least 1 (got {args.limit})", setting="limit")
    pack = find_pack(args.model)
    if args.squad2_dev:
        from desktop_qa.packs import hub, squad2

        tty = sys.stderr.isatty()
        data = squad2.fetch_squad2_dev(
            progress=(lambda m: print(m, file=sys.stderr)) if tty else None,
            hub=hub.HfHub(progress_bars=tty),
        )
    else:
        data = args.data
    dataset = load_squad(data)
    reader = Reader(pack, batch_size=int(pack.extra.get("batch_size", 1)))
    # Warn only once every input is known good, so a bad input stays one error line.
    if not pack.trained and not args.json:
        print(
            f"warning: model pack '{pack.name}' is untrained (a test model); its scores "
            "are meaningless",
            file=sys.stderr,
        )
    bar = ProgressLine(sys.stderr, "eval")
    try:
        report = evaluate(
            data, reader, limit=args.limit, threshold=args.threshold, progress=bar, dataset=dataset
        )
    finally:
        bar.close()
    report.pop("predictions", None)
    report.pop("na_scores", None)
    if args.calibrate:
        report["calibration"] = {
            "pack": str(pack.path),
            **calibrate(pack.path, report["calibrated_null_threshold"]),
        }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print_table(report, sys.stdout)
    if args.calibrate:
        cal = report["calibration"]
        print(f"wrote null_threshold {cal['new']:g} (was {cal['old']}) into {cal['pack']}")
    return 0
