"""``desktop-qa model download|build|list|info|install|remove``: managing model packs.

Everything a user needs to get a model onto an offline machine: fetch one from
the hub, build one from a checkpoint, copy one in from a folder, see what is
installed and whether it is intact.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_qa.commands.messages import user_message
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import (
    MANIFEST,
    MAX_FILES,
    ModelPack,
    file_state,
    find_pack,
    load_pack,
    read_manifest,
)
from desktop_qa.core.system import paths

# desktop_qa.packs.export.RANDOM_CONFIGS, named here so that parsing the command line
# does not import the export module.
RANDOM_CONFIGS = ("tiny", "mobilebert", "minilm", "tinyroberta", "tiny-roberta")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="download, build, list, inspect, install or remove packs")
    msub = p.add_subparsers(dest="model_command", metavar="ACTION")
    p.set_defaults(func=lambda args: _usage(p))

    d = msub.add_parser("download", help="fetch a SQuAD 2.0 model from the hub and install it")
    d.add_argument("repo_id", nargs="?", default=None, metavar="REPO_ID")
    d.add_argument("--revision", metavar="R", help="branch, tag or commit (default: main)")
    d.add_argument("--name", help="pack name (default: from the repo name)")
    d.add_argument("--json", action="store_true", help="print the installed pack as JSON")
    d.add_argument(
        "--list",
        action="store_true",
        help="name the recommended models (size, licence, SQuAD 2.0 F1, speed); no network",
    )
    d.set_defaults(func=run_download)

    b = msub.add_parser(
        "build",
        help="build a pack from a fine-tuned checkpoint folder (needs the export extra)",
        description="model build CHECKPOINT_DIR OUT_DIR, or model build --random-init tiny OUT_DIR",
    )
    b.add_argument(
        "checkpoint", nargs="?", metavar="CHECKPOINT_DIR", help="Hugging Face QA model folder"
    )
    b.add_argument("out", metavar="OUT_DIR", help="where to write the pack")
    b.add_argument(
        "--random-init",
        choices=RANDOM_CONFIGS,
        help="untrained weights of this config (tests, benchmarks); no checkpoint needed",
    )
    b.add_argument("--seed", type=int, default=0, help="seed for --random-init (0)")
    b.add_argument(
        "--vocab",
        metavar="FILE",
        help="with --random-init: a WordPiece vocab.txt instead of the generated vocabulary "
        "(BERT's uncased one for mobilebert, so timings match the real model's)",
    )
    b.add_argument(
        "--tokenizer",
        metavar="FILE",
        help="with --random-init: a tokenizers JSON file (tokenizer.json), e.g. a byte-level "
        "BPE for the RoBERTa configs (default for those: one trained on built-in English)",
    )
    b.add_argument("--no-quantize", action="store_true", help="keep fp32 weights")
    b.add_argument("--name", help="pack name (default: from the checkpoint folder)")
    b.add_argument("--install", action="store_true", help="also install the pack")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=run_build)

    ls = msub.add_parser("list", help="installed and bundled packs")
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    ls.set_defaults(func=run_list)

    i = msub.add_parser("info", help="a pack's manifest and checksums")
    i.add_argument(
        "pack",
        nargs="?",
        metavar="NAME|DIR",
        help="installed name or folder (default: the one used)",
    )
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.set_defaults(func=run_info)

    inst = msub.add_parser("install", help="verify a pack folder and copy it into the user folder")
    inst.add_argument("dir", metavar="DIR")
    inst.add_argument("--json", action="store_true", help="print the installed pack as JSON")
    inst.set_defaults(func=run_install)

    rm = msub.add_parser("remove", help="delete an installed pack")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(func=run_remove)


def _usage(parser: argparse.ArgumentParser) -> int:
    actions = "download, build, list, info, install, remove"
    print(
        f"error: {parser.prog}: choose an action ({actions}); run '{parser.prog} --help'",
        file=sys.stderr,
    )
    return 2


def _say(args: argparse.Namespace) -> Any:
    """Step messages on stderr for a person watching; scripts see only results and errors."""
    if not sys.stderr.isatty():
        return lambda _msg: None
    return lambda msg: print(msg, file=sys.stderr, flush=True)


def pack_json(pack: ModelPack) -> dict[str, Any]:
    return {
        "name": pack.name,
        "path": str(pack.path),
        "architecture": pack.architecture,
        "quantization": pack.quantization,
        "trained": pack.trained,
        "null_threshold": pack.null_threshold,
        "source": pack.source,
        "license": pack.license,
    }


def _warn_untrained(pack: ModelPack) -> None:
    if not pack.trained:
        print(
            f"warning: '{pack.name}' is UNTRAINED (a test model): its answers are meaningless",
            file=sys.stderr,
        )


def _recommended(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from desktop_qa.packs.download import RECOMMENDED

    if args.repo_id is not None:
        raise UserError("--list takes no REPO_ID: 'desktop-qa model download --list'")
    if args.json:
        print(json.dumps({"recommended": [asdict(r) for r in RECOMMENDED]}))
        return 0
    print(f"{'model':<38} {'licence':<10} {'F1':>5} {'size':>7} {'window':>8} {'answer':>7}")
    for i, r in enumerate(RECOMMENDED):
        print(
            f"{r.repo_id:<38} {r.license:<10} {r.squad2_f1:>5.1f} {r.size_mb:>5.0f}MB "
            f"{r.ms_per_window:>6.0f}ms {r.answer_s_on_book:>6.2f}s"
            + ("  (default)" if i == 0 else "")
        )
        print(f"    {r.architecture}, {r.parameters_m}M parameters; {r.note}")
    print(
        "F1: published on the SQuAD 2.0 dev set. size: the int8 pack. window: one 384-token "
        "window; answer: a question answered from the book's best passages (352-page PDF), "
        "both measured here with a random-weight pack of the architecture "
        "(benchmarks/readers.py). Install one: desktop-qa model download REPO"
    )
    return 0


def run_download(args: argparse.Namespace) -> int:
    from desktop_qa.packs import download, hub

    if args.list:
        return _recommended(args)

    pack = download.download_pack(
        args.repo_id or download.DEFAULT_REPO,
        revision=args.revision,
        progress=_say(args),
        name=args.name,
        hub=hub.HfHub(progress_bars=sys.stderr.isatty()),
    )
    return _report_installed(args, pack)


def _report_installed(args: argparse.Namespace, pack: ModelPack) -> int:
    if args.json:
        print(json.dumps(pack_json(pack)))
    else:
        print(f"installed {pack.describe()} in {pack.path}")
        validation = pack.extra.get("validation")
        if isinstance(validation, dict):
            print(f"check: {validation.get('question')} -> {validation.get('best_guess')!r}")
    _warn_untrained(pack)
    return 0


def _agreement_lines(report: dict[str, Any]) -> list[str]:
    return [
        "int8 vs fp32 agreement:",
        f"  max logit diff      {report.get('max_logit_diff', 0.0):.4f}",
        f"  mean logit diff     {report.get('mean_logit_diff', 0.0):.4f}",
        f"  best-span agreement {report.get('best_span_agreement', 1.0):.1%}"
        f" over {report.get('samples', 0)} samples",
    ]


def _random_pack(
    config: str,
    out: Path,
    seed: int,
    quantize: bool,
    vocab: Path | None = None,
    tokenizer: Path | None = None,
) -> tuple[Path, dict]:
    """Random-weight pack plus its int8-vs-fp32 agreement (fp32 graph dropped afterwards)."""
    from desktop_qa.packs.export import build_random_pack

    out = build_random_pack(
        config,
        out,
        seed=seed,
        quantize=quantize,
        keep_fp32=quantize,
        vocab_file=vocab,
        tokenizer_file=tokenizer,
    )
    if not quantize:
        return out, {}
    from desktop_qa.packs.quantize import agreement
    from desktop_qa.packs.write import write_manifest

    manifest = read_manifest(out)
    fp32 = out / str(manifest.get("fp32_onnx", "model.fp32.onnx"))
    report = dict(
        agreement(
            fp32,
            out / manifest["onnx"],
            out / manifest["tokenizer"],
            max_seq_length=int(manifest.get("max_seq_length", 384)),
        )
    )
    for key in ("files", "fp32_onnx", "extra_files"):
        manifest.pop(key, None)
    manifest["agreement"] = report
    write_manifest(out, manifest)
    fp32.unlink()
    return out, report


def run_build(args: argparse.Namespace) -> int:
    quantize = not args.no_quantize
    if args.random_init:
        if args.checkpoint is not None:
            raise UserError("with --random-init pass only OUT_DIR (no checkpoint folder)")
        vocab = Path(args.vocab) if args.vocab else None
        tokenizer = Path(args.tokenizer) if args.tokenizer else None
        out, report = _random_pack(
            args.random_init, Path(args.out), args.seed, quantize, vocab, tokenizer
        )
        if args.name:
            from desktop_qa.packs.write import write_manifest

            manifest = read_manifest(out)
            manifest.pop("files", None)
            manifest["name"] = args.name
            write_manifest(out, manifest)
    else:
        if args.vocab or args.tokenizer:
            raise UserError(
                "--vocab and --tokenizer go with --random-init (a checkpoint has its own "
                "vocabulary)"
            )
        if args.checkpoint is None:
            raise UserError(
                "pass CHECKPOINT_DIR OUT_DIR (or --random-init tiny|mobilebert OUT_DIR)"
            )
        from desktop_qa.packs.export import build_pack_from_checkpoint

        _say(args)("exporting the checkpoint to ONNX (takes a minute)")
        out, report = build_pack_from_checkpoint(
            Path(args.checkpoint), Path(args.out), quantize=quantize, name=args.name
        )
    pack = load_pack(out)
    installed = None
    if args.install:
        from desktop_qa.packs.install import install_pack

        installed = install_pack(out)
    if args.json:
        print(
            json.dumps(
                {
                    **pack_json(pack),
                    "agreement": report or None,
                    "installed": str(installed.path) if installed else None,
                }
            )
        )
    else:
        print(f"built {pack.describe()} in {pack.path}")
        if report:
            print("\n".join(_agreement_lines(report)))
        if installed:
            print(f"installed in {installed.path}")
    _warn_untrained(pack)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from desktop_qa.packs.install import list_packs

    found = list_packs()
    try:
        active = find_pack().path
    except UserError:
        active = None
    rows = []
    for origin, path, pack in found:
        ok = isinstance(pack, ModelPack)
        rows.append(
            {
                "origin": origin,
                "path": str(path),
                "active": ok and pack.path == active,
                "ok": ok,
                **(pack_json(pack) if ok else {"name": path.name, "error": user_message(pack)}),
            }
        )
    if args.json:
        print(json.dumps({"user_models_dir": str(paths.user_models_dir()), "packs": rows}))
        return 0
    if not rows:
        print(
            f"no model packs in {paths.user_models_dir()}; run 'desktop-qa model download' or "
            "'desktop-qa model install DIR'"
        )
        return 0
    for row in rows:
        mark = "*" if row["active"] else " "
        if row["ok"]:
            flag = "" if row["trained"] else "  UNTRAINED"
            print(f"{mark} {row['name']:<36} {row['quantization']:<14} {row['origin']:<8}{flag}")
        else:
            print(f"{mark} {row['name']:<36} BROKEN: {row['error']}")
        print(f"    {row['path']}")
    print("(* = the pack the app uses)")
    return 0


def resolve_pack_dir(spec: str | None) -> Path:
    """A folder for NAME|DIR: a folder with a manifest, an installed name, a bundled name."""
    if spec is None:
        return find_pack().path
    as_path = Path(spec).expanduser()
    if (as_path / MANIFEST).is_file():
        return as_path.resolve()
    from desktop_qa.packs.install import find_installed

    found = find_installed(spec)
    if found is not None:
        return found
    bundled = paths.bundled_models_dir() / spec
    if (bundled / MANIFEST).is_file():
        return bundled
    raise UserError(
        f"no model pack {spec!r}: not a pack folder nor an installed pack; "
        "run 'desktop-qa model list'"
    )


def run_info(args: argparse.Namespace) -> int:
    path = resolve_pack_dir(args.pack)
    manifest = read_manifest(path)
    checks: dict[str, str] = {}
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    for name, expected in list(files.items())[:MAX_FILES]:
        checks[name] = file_state(path, name, expected)  # never reads outside the pack
    try:
        load_pack(path)
        problem = None
    except UserError as exc:
        problem = user_message(exc)
    trained = manifest.get("trained", True) is True
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(path),
                    "manifest": manifest,
                    "checksums": checks,
                    "valid": problem is None,
                    "problem": problem,
                }
            )
        )
        return 0 if problem is None else 1
    print(f"pack    {path}")
    for key, value in manifest.items():
        if key == "files":
            continue
        shown = json.dumps(value) if isinstance(value, (dict, list)) else value
        print(f"{key:<17} {shown}")
    print("checksums:")
    for name, state in checks.items():
        print(f"  {state:<8} {name}")
    if not trained:
        print("UNTRAINED: a generated test model; its answers are meaningless")
    if problem:
        print(f"NOT USABLE: {problem}")
        return 1
    print("pack OK")
    return 0


def run_install(args: argparse.Namespace) -> int:
    from desktop_qa.packs.install import install_pack

    return _report_installed(args, install_pack(args.dir))


def run_remove(args: argparse.Namespace) -> int:
    from desktop_qa.packs.install import remove_pack

    removed = remove_pack(args.name)
    print(f"removed {removed}")
    return 0
