"""Download a SQuAD 2.0 model from the Hugging Face Hub and turn it into an installed pack.

Steps: list the repo's files; fetch its ONNX export (or its PyTorch weights,
exported locally through ``packs.export``) and its tokenizer (``tokenizer.json``
or ``vocab.txt``) into the hub cache; check or repair the graph's input and
output names; quantize to int8; write the manifest; answer a built-in question
to prove the pack runs; install atomically.

This module is the build pipeline (which files, in which steps). The hub is
reached only through a ``Hub`` object (``packs.hub``; ``HfHub`` by default),
so tests run everything except the network call against a local folder; the
graph's names are checked and repaired by ``packs.graph``, the manifest is
written by ``packs.write``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.reading.pack import ModelPack, load_pack
from desktop_qa.core.system import paths
from desktop_qa.packs.graph import fix_graph_io, is_quantized
from desktop_qa.packs.hub import HfHub, Hub, RepoInfo, StepFn
from desktop_qa.packs.write import write_manifest

DEFAULT_REPO = "csarron/mobilebert-uncased-squad-v2"


@dataclass(frozen=True)
class Recommended:
    """A SQuAD 2.0 model known to make a good pack, as ``model download --list`` shows it.

    ``squad2_f1`` is the F1 its model card publishes on the SQuAD 2.0 dev set (the
    official script); ``size_mb`` (the int8 graph), ``ms_per_window`` and
    ``answer_s_on_book`` were measured with a random-initialised pack of the same
    architecture (``python benchmarks/readers.py``, docs/performance.md, "Readers"):
    weights do not change the speed.
    """

    repo_id: str
    architecture: str
    parameters_m: int
    license: str
    squad2_f1: float
    size_mb: float
    ms_per_window: float
    answer_s_on_book: float
    note: str


# Measured by benchmarks/readers.py on the 2-core test machine under load 7-10 (other
# work running): the ratios between rows, measured in one run, hold better than the
# absolute figures (docs/performance.md, "Readers").
RECOMMENDED: tuple[Recommended, ...] = (
    Recommended(
        DEFAULT_REPO,
        "mobilebert",
        25,
        "mit",
        78.8,
        26.0,
        446,
        4.7,
        "the default: smallest and fastest",
    ),
    Recommended(
        "deepset/minilm-uncased-squad2",
        "bert (MiniLM-L12-H384)",
        33,
        "cc-by-4.0",
        79.5,
        33.6,
        808,
        4.9,
        "WordPiece like MobileBERT; 1.8x MobileBERT's time a window",
    ),
    Recommended(
        "deepset/tinyroberta-squad2",
        "roberta (6 layers)",
        82,
        "cc-by-4.0",
        82.0,
        81.7,
        765,
        10.6,
        "the most accurate; byte-level BPE, cased; about 2x MobileBERT's time",
    ),
)

# ONNX variants we never pick: CPU onnxruntime runs them badly or not at all.
_SKIP_ONNX = re.compile(r"(fp16|f16|q4|int4|bnb4|uint4)", re.I)
_QUANTIZED_NAME = re.compile(r"(quantized|int8|uint8|qint8|quant)", re.I)
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_CHECKPOINT_EXTRAS = (
    "config.json",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "README.md",
)

# The built-in check: any QA model must return some span; a trained one this one.
VALIDATION_CONTEXT = (
    "The museum opened in 1921. Its first director was Maria Lopez, "
    "who ran it for thirty years before retiring to Lisbon."
)
VALIDATION_QUESTION = "Who was the first director of the museum?"
VALIDATION_EXPECTED = "Maria Lopez"

CancelFn = Callable[[], bool]


# ---------------------------------------------------------------- choosing files


@dataclass
class Plan:
    """Which repo files make the pack."""

    onnx: str | None = None
    onnx_data: list[str] = field(default_factory=list)
    tokenizer: str | None = None
    vocab: str | None = None
    bpe: tuple[str, str] | None = None  # vocab.json, merges.txt (RoBERTa-family repos)
    weights: str | None = None
    extras: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        names = [
            self.onnx,
            *self.onnx_data,
            self.tokenizer,
            self.vocab,
            *(self.bpe or ()),
            self.weights,
            *self.extras,
        ]
        return list(dict.fromkeys(n for n in names if n))


def _parent(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def _in_dirs(files: Sequence[str], basename: str, dirs: Sequence[str]) -> str | None:
    present = set(files)
    for d in dirs:
        candidate = f"{d}/{basename}" if d else basename
        if candidate in present:
            return candidate
    return None


def choose_onnx(files: Sequence[str]) -> str | None:
    """The repo's ONNX export: fp32 ``model.onnx`` first (we quantize it ourselves)."""
    onnx = [f for f in files if f.lower().endswith(".onnx") and not _SKIP_ONNX.search(f)]
    if not onnx:
        return None

    def rank(name: str) -> tuple[int, int, int, int]:
        base = name.rsplit("/", 1)[-1].lower()
        return (
            bool(_QUANTIZED_NAME.search(name)),
            base != "model.onnx",
            name.count("/"),
            len(name),
        )

    return sorted(onnx, key=rank)[0]


def plan_files(files: Sequence[str], *, allow_export: bool = True) -> Plan:
    """Pick the files to fetch, or say clearly why this repo cannot become a pack."""
    plan = Plan()
    plan.onnx = choose_onnx(files)
    dirs: list[str] = [""]
    if plan.onnx:
        dirs = list(dict.fromkeys([_parent(plan.onnx), ""]))
        plan.onnx_data = [
            f
            for f in files
            if f != plan.onnx and f.startswith(plan.onnx) and "data" in f[len(plan.onnx) :]
        ]
    plan.tokenizer = _in_dirs(files, "tokenizer.json", dirs)
    if plan.tokenizer is None:
        plan.vocab = _in_dirs(files, "vocab.txt", dirs)
    if plan.tokenizer is None and plan.vocab is None:
        bpe_vocab = _in_dirs(files, "vocab.json", dirs)
        merges = _in_dirs(files, "merges.txt", dirs)
        if bpe_vocab and merges:
            plan.bpe = (bpe_vocab, merges)
    if plan.tokenizer is None and plan.vocab is None and plan.bpe is None:
        raise UserError(
            "the repo has neither tokenizer.json nor vocab.txt (nor vocab.json with "
            "merges.txt), so its text cannot be tokenized"
        )
    for extra in ("config.json", "tokenizer_config.json", "README.md"):
        found = _in_dirs(files, extra, dirs)
        if found:
            plan.extras.append(found)
    if plan.onnx is None:
        plan.weights = next((w for w in _WEIGHTS if w in files), None)
        if plan.weights is None:
            raise UserError(
                "the repo has neither an ONNX export nor PyTorch weights "
                "(model.safetensors or pytorch_model.bin)"
            )
        if not allow_export:
            raise UserError(
                "the repo has no ONNX export; exporting its PyTorch weights needs the export "
                'extra: pip install -e ".[export]"'
            )
        plan.extras += [f for f in _CHECKPOINT_EXTRAS if f in files and f not in plan.files]
    return plan


# ---------------------------------------------------------------- the pipeline


def pack_name(repo_id: str, quantization: str) -> str:
    base = repo_id.rsplit("/", 1)[-1].lower()
    suffix = "int8" if quantization.startswith("int8") else "fp32"
    return base if base.endswith(suffix) else f"{base}-{suffix}"


def _json(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _lower_case(repo_id: str, tok_config: dict[str, Any]) -> bool:
    if "do_lower_case" in tok_config:
        return bool(tok_config["do_lower_case"])
    name = repo_id.lower()
    return "uncased" in name or "cased" not in name


def validate_pack(pack_dir: Path) -> dict[str, Any]:
    """Answer the built-in question; refuse a pack that cannot produce a span at all."""
    from desktop_qa.core.documents.document import Document
    from desktop_qa.core.reading.engine import OpenedDocument, answer, final
    from desktop_qa.core.reading.query import Query
    from desktop_qa.core.reading.reader import Reader
    from desktop_qa.core.reading.squad import compute_exact

    pack = load_pack(pack_dir)
    try:
        reader = Reader(pack)
        doc = Document.from_text(VALIDATION_CONTEXT, name="validation")
        with OpenedDocument.from_document(doc) as scope:
            result = final(answer(scope, Query(VALIDATION_QUESTION, top_k=1), reader))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises many kinds
        raise UserError(
            f"the downloaded model does not run ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]})"
        ) from None
    guess = result.best_guess
    if guess is None or not guess.text.strip():
        raise UserError("the downloaded model returns no answer span for a simple question")
    return {
        "question": VALIDATION_QUESTION,
        "best_guess": guess.text,
        "expected": VALIDATION_EXPECTED,
        "correct": bool(compute_exact(VALIDATION_EXPECTED, guess.text)),
        "no_answer": result.no_answer,
    }


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def _pack_from_onnx(
    info: RepoInfo, plan: Plan, local: dict[str, Path], out: Path, step: StepFn
) -> dict[str, Any]:
    """Pack folder ``out`` from the repo's ONNX export; returns the manifest values."""
    try:
        import onnx  # noqa: F401  (checking and quantizing the graph need it)

        from desktop_qa.packs.quantize import agreement, quantize_int8
    except ImportError:
        raise UserError(
            "this installation cannot check or quantize a downloaded model (the onnx package "
            "is missing)",
            hint="onnx_missing",  # the CLI: pip or a ready pack; the app: a pack folder
        ) from None
    from desktop_qa.packs.vocab import bpe_tokenizer_from_files, tokenizer_from_vocab_txt

    assert plan.onnx is not None
    work = out / ".work"
    work.mkdir(parents=True)
    fp32 = work / plan.onnx.rsplit("/", 1)[-1]
    shutil.copyfile(local[plan.onnx], fp32)
    for data in plan.onnx_data:  # external weights must sit beside the graph, same name
        shutil.copyfile(local[data], work / data.rsplit("/", 1)[-1])
    config = _json(
        local.get(
            next(
                (
                    e
                    for e in plan.extras
                    if e.endswith("config.json") and not e.endswith("tokenizer_config.json")
                ),
                "",
            ),
            None,
        )
    )
    tok_config = _json(
        local.get(next((e for e in plan.extras if e.endswith("tokenizer_config.json")), ""), None)
    )
    lower = _lower_case(info.repo_id, tok_config)
    if plan.tokenizer:
        shutil.copyfile(local[plan.tokenizer], out / "tokenizer.json")
    elif plan.bpe:
        bpe_tokenizer_from_files(local[plan.bpe[0]], local[plan.bpe[1]], out / "tokenizer.json")
    else:
        assert plan.vocab is not None
        tokenizer_from_vocab_txt(local[plan.vocab], out / "tokenizer.json", lower)

    renames = fix_graph_io(fp32)
    if renames:
        step(f"renamed graph outputs {renames}")
    values: dict[str, Any] = {}
    if is_quantized(fp32):
        step("the repo's ONNX export is already quantized; using it as is")
        if plan.onnx_data:
            raise UserError(
                "the repo's quantized ONNX keeps its weights in a separate file; not supported"
            )
        shutil.copyfile(fp32, out / "model.onnx")
        values["quantization"] = "int8 (from the hub)"
    else:
        step("quantizing to int8")
        quantize_int8(fp32, out / "model.onnx")
        values["quantization"] = "int8-dynamic"
    max_len = min(384, int(config.get("max_position_embeddings") or 512))
    if values["quantization"] == "int8-dynamic":
        step("measuring int8 against fp32")
        values["agreement"] = agreement(
            fp32, out / "model.onnx", out / "tokenizer.json", max_seq_length=max_len
        )
    shutil.rmtree(work)
    values.update(
        architecture=str(config.get("model_type") or "unknown"),
        do_lower_case=lower,
        max_seq_length=max_len,
        doc_stride=min(128, max_len // 2),
        max_query_length=min(64, max_len // 2),
    )
    return values


def _pack_from_weights(
    info: RepoInfo, plan: Plan, local: dict[str, Path], out: Path, step: StepFn
) -> dict[str, Any]:
    """Pack folder ``out`` by exporting the repo's PyTorch checkpoint (export extra)."""
    from desktop_qa.packs import export

    checkpoint = out.parent / info.repo_id.rsplit("/", 1)[-1]
    checkpoint.mkdir()
    for name in plan.files:
        shutil.copyfile(local[name], checkpoint / name.rsplit("/", 1)[-1])
    step("exporting the PyTorch weights to ONNX (takes a minute)")
    built, _report = export.build_pack_from_checkpoint(checkpoint, out / "built", quantize=True)
    manifest = json.loads((built / "model.json").read_text(encoding="utf-8"))
    for name in manifest.get("files", {}):
        shutil.move(str(built / name), str(out / name))
    shutil.rmtree(built)
    shutil.rmtree(checkpoint)
    keep = (
        "architecture",
        "do_lower_case",
        "max_seq_length",
        "doc_stride",
        "max_query_length",
        "quantization",
        "agreement",
        "onnx",
        "tokenizer",
    )
    return {k: manifest[k] for k in keep if k in manifest}


def _export_available() -> bool:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def download_pack(
    repo_id: str = DEFAULT_REPO,
    *,
    revision: str | None = None,
    progress: StepFn | None = None,
    cancel: CancelFn | None = None,
    hub: Hub | None = None,
    name: str | None = None,
) -> ModelPack:
    """Fetch ``repo_id`` from the hub, build a verified int8 pack and install it.

    ``progress`` gets one line per step (byte progress comes from
    huggingface_hub's own bars); ``cancel`` is polled between steps.
    """
    from desktop_qa.packs.install import install_pack

    step = progress or (lambda _msg: None)
    hub = hub or HfHub()
    step(f"looking up {repo_id}")
    info = hub.info(repo_id, revision)
    _check(cancel)
    try:
        plan = plan_files(info.files, allow_export=True)
    except UserError as exc:
        raise UserError(f"model {repo_id}: {exc.message}", hint=exc.hint) from None
    if plan.onnx is None and not _export_available():
        raise UserError(
            f"model {repo_id} has no ONNX export; exporting its PyTorch weights needs the "
            'export extra: pip install -e ".[export]"'
        )
    local: dict[str, Path] = {}
    for filename in plan.files:
        _check(cancel)
        step(f"fetching {filename}")
        local[filename] = hub.fetch(info, filename)
    _check(cancel)

    staging = paths.cache_dir() / "downloads"
    staging.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pack-", dir=staging))
    try:
        out = work / "pack"
        out.mkdir()
        if plan.onnx:
            values = _pack_from_onnx(info, plan, local, out, step)
        else:
            values = _pack_from_weights(info, plan, local, out, step)
        _check(cancel)
        manifest: dict[str, Any] = {
            "name": name or pack_name(repo_id, values.get("quantization", "")),
            **values,
            "null_threshold": 0.0,
            "trained": True,
            "source": f"hf://{repo_id}@{info.revision}",
            "license": info.license,
        }
        write_manifest(out, manifest)
        step("checking that the model answers a question")
        manifest["validation"] = validate_pack(out)
        write_manifest(out, manifest)
        _check(cancel)
        step("installing")
        return install_pack(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
