"""Turn Hugging Face QA models into model packs: ONNX export, int8 quantization, manifest.

The only module of the project that may import torch and transformers, and it
does so inside functions: the app and the download path run without them, and
the error a user sees when they are missing names the extra to install.
It stays one module of about 500 lines for that reason: every torch and
transformers call sits behind the same guard, apart from the rest of the app.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from desktop_qa.core.errors import UserError
from desktop_qa.packs.vocab import base_vocab, pad_vocab, tokenizer_from_vocab_txt, write_tokenizer

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ("start_logits", "end_logits")
DEFAULT_OPSET = 17
INSTALL_HINT = 'install the export extra: pip install -e ".[export]"'

# MobileBertConfig keyword arguments. "mobilebert" is google/mobilebert-uncased
# (identical to transformers' MobileBertConfig defaults, spelled out so a change
# of defaults upstream cannot silently change the benchmark model); "tiny" keeps
# the same structure at a size that builds, exports and runs in a second or two.
RANDOM_CONFIGS: dict[str, dict[str, Any]] = {
    "tiny": {
        "vocab_size": len(base_vocab()),
        "hidden_size": 64,
        "embedding_size": 32,
        "intra_bottleneck_size": 32,
        "true_hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "num_feedforward_networks": 2,
        "use_bottleneck": True,
        "key_query_shared_bottleneck": True,
        "normalization_type": "no_norm",
        "hidden_act": "relu",
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "trigram_input": True,
        "classifier_activation": False,
    },
    "mobilebert": {
        "vocab_size": 30522,
        "hidden_size": 512,
        "embedding_size": 128,
        "intra_bottleneck_size": 128,
        "true_hidden_size": 128,
        "num_hidden_layers": 24,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "num_feedforward_networks": 4,
        "use_bottleneck": True,
        "use_bottleneck_attention": False,
        "key_query_shared_bottleneck": True,
        "normalization_type": "no_norm",
        "hidden_act": "relu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "trigram_input": True,
        "classifier_activation": True,
    },
}

PACK_DEFAULTS: dict[str, Any] = {
    "max_seq_length": 384,
    "doc_stride": 128,
    "max_query_length": 64,
    "max_answer_length": 30,
    "null_threshold": 0.0,
}


def _require_torch() -> tuple[Any, Any]:
    """Import torch and transformers, or explain in one line how to get them."""
    try:
        import torch
        import transformers
    except ImportError:
        raise UserError(f"building packs needs torch and transformers; {INSTALL_HINT}") from None
    return torch, transformers


def _graph_inputs(model: Any) -> list[str]:
    """Inputs the model really uses: token_type_ids only where it has a segment embedding."""
    import inspect

    params = inspect.signature(model.forward).parameters
    names = [n for n in INPUT_NAMES if n in params]
    if "token_type_ids" in names and getattr(model.config, "type_vocab_size", 2) < 2:
        names.remove("token_type_ids")
    return names


def export_onnx(
    model: Any,
    out_path: Path,
    opset: int = DEFAULT_OPSET,
    *,
    verify: bool = True,
    atol: float = 1e-3,
) -> Path:
    """Export a ``*ForQuestionAnswering`` model to one self-contained ONNX file.

    The graph has int64 inputs [batch, sequence] named as in the pack format and
    float outputs start_logits/end_logits, so the reader can feed any window
    shape. Uses the TorchScript exporter (dynamo=False), which traces the
    transformers models in well under a minute and writes no external data; the
    dynamo exporter is the fallback. With ``verify`` the ONNX Runtime outputs are
    compared with torch on a padded batch, and a mismatch raises RuntimeError.
    MobileBERT's bottleneck NoNorms are folded into their Linear layers on a copy
    first (see ``_fold_no_norm``); ``model`` itself is left unchanged.
    """
    torch, _ = _require_torch()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    names = _graph_inputs(model)
    previous = getattr(model.config, "_attn_implementation", None)
    if previous not in (None, "eager") and hasattr(model, "set_attn_implementation"):
        # Plain MatMul/Softmax attention: SDPA traces to extra IsNaN/Where passes
        # over every [heads, seq, seq] score tensor, about 10% slower in ONNX Runtime.
        try:
            model.set_attn_implementation("eager")
        except (ValueError, ImportError):
            previous = None
    try:
        folded = _fold_no_norm(torch, model)
        _export(torch, _qa_wrapper(torch, folded, names), model.config, names, out_path, opset)
        if verify:  # against the caller's model, so a wrong fold fails here
            _verify(torch, _qa_wrapper(torch, model, names), names, out_path, _vocab(model), atol)
        return out_path
    finally:
        if previous not in (None, "eager"):
            model.set_attn_implementation(previous)


def _fold_no_norm(torch: Any, model: Any) -> Any:
    """A copy of ``model`` whose NoNorms that directly follow a Linear are folded into it.

    MobileBERT's NoNorm is ``x * w + b`` per channel; after ``y = x @ W.T + c`` with
    nothing in between (the two bottleneck projections of every layer, 48 of them
    in the full model) it is exactly a Linear with weight ``W * w[:, None]`` and bias
    ``c * w + b``. That takes 96 elementwise passes out of the graph, which cost
    about as much as their data is small: one pass per op over [batch, seq, 128].
    The NoNorms after a residual sum stay: there the residual would still need its
    own Mul, and carrying the scale forward instead would change the activation
    ranges that int8 quantization sees. Other models come back as is.
    """

    def foldable(m: Any) -> bool:
        return (
            type(m).__name__ == "BottleneckLayer"
            and isinstance(getattr(m, "dense", None), torch.nn.Linear)
            and type(getattr(m, "LayerNorm", None)).__name__ == "NoNorm"
        )

    if not any(foldable(m) for m in model.modules()):
        return model
    import copy

    model = copy.deepcopy(model).eval()
    for module in [m for m in model.modules() if foldable(m)]:
        norm, dense = module.LayerNorm, module.dense
        with torch.no_grad():
            dense.weight.mul_(norm.weight[:, None])
            if dense.bias is None:
                dense.bias = torch.nn.Parameter(norm.bias.detach().clone())
            else:
                dense.bias.mul_(norm.weight).add_(norm.bias)
        module.LayerNorm = torch.nn.Identity()
    return model


def _vocab(model: Any) -> int:
    return int(getattr(model.config, "vocab_size", 1000))


def _qa_wrapper(torch: Any, model: Any, names: list[str]) -> Any:
    """``model`` as a module of positional inputs returning (start_logits, end_logits)."""

    class _QA(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> tuple[Any, Any]:
            out = self.model(**dict(zip(names, args, strict=True)), return_dict=True)
            return out.start_logits, out.end_logits

    return _QA().eval()


def _export(
    torch: Any, wrapper: Any, config: Any, names: list[str], out_path: Path, opset: int
) -> None:
    vocab_size = int(getattr(config, "vocab_size", 1000))
    dummy = _dummy_inputs(torch, names, batch=2, seq=16, vocab_size=vocab_size)

    with tempfile.TemporaryDirectory(prefix=".export-", dir=out_path.parent) as tmp_dir:
        tmp = Path(tmp_dir) / "model.onnx"
        with torch.no_grad():
            try:
                _torch_export(torch, wrapper, dummy, tmp, names, opset, dynamo=False)
            except (TypeError, RuntimeError, ImportError, AttributeError):
                _torch_export(torch, wrapper, dummy, tmp, names, opset, dynamo=True)
        _single_file(tmp, out_path)


def _dummy_inputs(torch: Any, names: list[str], *, batch: int, seq: int, vocab_size: int) -> tuple:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(5, max(6, vocab_size), (batch, seq), generator=gen, dtype=torch.long)
    mask = torch.ones(batch, seq, dtype=torch.long)
    mask[-1, seq * 3 // 4 :] = 0
    types = torch.zeros(batch, seq, dtype=torch.long)
    types[:, seq // 3 :] = 1
    values = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return tuple(values[n] for n in names)


def _torch_export(
    torch: Any, wrapper: Any, dummy: tuple, tmp: Path, names: list[str], opset: int, *, dynamo: bool
) -> None:
    """``torch.onnx.export`` as both exporters share it; each says in its own way that the
    batch and sequence axes are dynamic."""
    import warnings

    if dynamo:
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", min=2, max=4096)
        own = {"external_data": False, "dynamic_shapes": tuple({0: batch, 1: seq} for _ in names)}
    else:
        axes = {n: {0: "batch", 1: "sequence"} for n in [*names, *OUTPUT_NAMES]}
        own = {"dynamic_axes": axes, "do_constant_folding": True}
    with warnings.catch_warnings():
        if not dynamo:
            # Tracer chatter about Python bools in transformers' mask helpers: the
            # checks it names are shape-only and true for every window we feed.
            warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            dummy,
            str(tmp),
            input_names=names,
            output_names=list(OUTPUT_NAMES),
            opset_version=opset,
            dynamo=dynamo,
            **own,
        )


def _single_file(tmp: Path, out_path: Path) -> None:
    """Move the export into place as one file, folding in external data if any was written."""
    import onnx

    if any(p != tmp for p in tmp.parent.iterdir()):
        model = onnx.load(str(tmp), load_external_data=True)
        onnx.save(model, str(tmp), save_as_external_data=False)
    shutil.move(str(tmp), str(out_path))


def _verify(
    torch: Any, wrapper: Any, names: list[str], onnx_path: Path, vocab_size: int, atol: float
) -> float:
    from desktop_qa.core.runtime import new_session

    sess = new_session(onnx_path)
    declared = [i.name for i in sess.get_inputs()]
    if sorted(declared) != sorted(names) or [o.name for o in sess.get_outputs()] != list(
        OUTPUT_NAMES
    ):
        raise RuntimeError(f"exported graph has unexpected inputs/outputs: {declared}")
    args = _dummy_inputs(torch, names, batch=3, seq=37, vocab_size=vocab_size)
    with torch.no_grad():
        expected = [t.numpy() for t in wrapper(*args)]
    got = sess.run(list(OUTPUT_NAMES), {n: a.numpy() for n, a in zip(names, args, strict=True)})
    worst = max(float(np.abs(e - g).max()) for e, g in zip(expected, got, strict=True))
    scale = max(1.0, max(float(np.abs(e).max()) for e in expected))
    if worst > atol * scale:
        raise RuntimeError(f"ONNX export differs from torch by {worst:.3g} (> {atol * scale:.3g})")
    return worst


def random_model(config_name: str, seed: int) -> Any:
    torch, transformers = _require_torch()
    if config_name not in RANDOM_CONFIGS:
        raise UserError(
            f"unknown random config {config_name!r}; choose one of {', '.join(RANDOM_CONFIGS)}"
        )
    torch.manual_seed(seed)
    config = transformers.MobileBertConfig(**RANDOM_CONFIGS[config_name])
    return transformers.MobileBertForQuestionAnswering(config).eval()


def _finish(tmp: Path, out_dir: Path) -> Path:
    """Swap the finished pack into place; the old pack disappears only once the new one exists."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{int(time.time() * 1000)}")
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out_dir


def _quantize_into(tmp: Path, quantize: bool) -> str:
    """model.onnx becomes the int8 graph; the fp32 graph stays beside it only until then."""
    from desktop_qa.packs.quantize import quantize_int8

    if not quantize:
        return "none"
    quantize_int8(tmp / "model.fp32.onnx", tmp / "model.onnx")
    return "int8-dynamic"


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_vocab_file(path: Path, size: int) -> None:
    """A ``vocab.txt`` a random pack can use: readable text, the special tokens, ``size`` lines.

    Raises UserError saying what is wrong with the file, before the export starts.
    """
    try:
        tokens = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read vocabulary {path}: {exc}") from None
    missing = [t for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]") if t not in tokens]
    if missing:
        raise UserError(
            f"vocabulary {path} is not a WordPiece vocab.txt (no {', '.join(missing)}): "
            "pass a BERT-style vocabulary, one token a line"
        )
    if len(tokens) != size:
        raise UserError(
            f"vocabulary {path} has {len(tokens):,} entries but this model config has "
            f"{size:,}: use a vocabulary of that size (the mobilebert config takes BERT's "
            "uncased 30,522-entry vocab.txt; tiny keeps its generated vocabulary)"
        )


def build_random_pack(
    config_name: str,
    out_dir: Path,
    *,
    seed: int = 0,
    quantize: bool = True,
    extra_words: Iterable[str] = (),
    keep_fp32: bool = False,
    vocab_file: Path | None = None,
) -> Path:
    """Build an untrained MobileBERT pack (tests, benchmarks): real export path, random weights.

    With ``keep_fp32`` the fp32 graph stays in the pack as ``model.fp32.onnx``
    (listed in the manifest's checksums), so benchmarks compare the same weights.
    ``vocab_file`` (a WordPiece ``vocab.txt`` with the config's entry count, e.g. BERT's
    uncased one for ``mobilebert``) replaces the generated vocabulary, which splits real
    prose into characters (about 4x the windows): timings then match what a user sees.
    """
    if vocab_file is not None:
        check_vocab_file(Path(vocab_file), int(RANDOM_CONFIGS[config_name]["vocab_size"]))
    model = random_model(config_name, seed)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        if vocab_file is not None:
            tokenizer_from_vocab_txt(Path(vocab_file), tmp / "tokenizer.json", lowercase=True)
        else:
            vocab = pad_vocab(base_vocab(extra_words), model.config.vocab_size)
            write_tokenizer(vocab, tmp / "tokenizer.json", lowercase=True)
        fp32 = export_onnx(model, tmp / "model.fp32.onnx")
        quantization = _quantize_into(tmp, quantize)
        if not quantize:
            fp32.rename(tmp / "model.onnx")
        elif not keep_fp32:
            fp32.unlink()
        manifest: dict[str, Any] = {
            "name": f"random-{config_name}-seed{seed}-{'int8' if quantize else 'fp32'}",
            "architecture": "mobilebert",
            "do_lower_case": True,
            **PACK_DEFAULTS,
            "quantization": quantization,
            "trained": False,
            "source": (
                f"random weights: desktop_qa.packs.export RANDOM_CONFIGS[{config_name!r}], "
                f"seed {seed}"
            ),
            "vocabulary": (
                f"{Path(vocab_file).name} (sha256 {_sha256(Path(vocab_file))})"
                if vocab_file is not None
                else "generated (desktop_qa.packs.vocab.base_vocab)"
            ),
            "license": "AGPL-3.0-or-later (generated)",
        }
        if quantize and keep_fp32:
            manifest["extra_files"] = ["model.fp32.onnx"]
            manifest["fp32_onnx"] = "model.fp32.onnx"
        from desktop_qa.packs.write import write_manifest

        write_manifest(tmp, manifest)
        return _finish(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _checkpoint_license(checkpoint_dir: Path, config: Any) -> str:
    """License named in the model card's front matter, else in config.json, else 'unknown'."""
    readme = checkpoint_dir / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8", errors="replace")
        front = re.match(r"\A---\s*\n(.*?)\n---", text, re.S)
        if front:
            found = re.search(r"^license:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", front.group(1), re.M)
            if found:
                return found.group(1)
    value = getattr(config, "license", None)
    return str(value) if value else "unknown"


def _do_lower_case(checkpoint_dir: Path) -> bool:
    tok_config = checkpoint_dir / "tokenizer_config.json"
    if tok_config.is_file():
        try:
            data = json.loads(tok_config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if isinstance(data, dict) and "do_lower_case" in data:
            return bool(data["do_lower_case"])
    return "cased" not in checkpoint_dir.name.lower().replace("uncased", "")


def _load_qa_model(checkpoint_dir: Path) -> Any:
    """Load a local checkpoint's QA head, refusing checkpoints that do not have one."""
    _, transformers = _require_torch()
    where = f"checkpoint {checkpoint_dir}"
    if not (checkpoint_dir / "config.json").is_file():
        raise UserError(f"{where} has no config.json; pass a Hugging Face model folder")
    try:
        config = transformers.AutoConfig.from_pretrained(str(checkpoint_dir), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UserError(f"{where}: config.json cannot be read ({exc.__class__.__name__})") from None
    archs = list(getattr(config, "architectures", None) or [])
    if archs and not any(a.endswith("ForQuestionAnswering") for a in archs):
        raise UserError(
            f"{where} is a {archs[0]}, not a question-answering model "
            "(expected a *ForQuestionAnswering checkpoint, e.g. fine-tuned on SQuAD 2.0)"
        )
    try:
        model, info = transformers.AutoModelForQuestionAnswering.from_pretrained(
            str(checkpoint_dir), local_files_only=True, output_loading_info=True
        )
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(
            f"{where} cannot be loaded as a question-answering model ({exc.__class__.__name__})"
        ) from None
    if any("qa_outputs" in k for k in info.get("missing_keys", [])):
        raise UserError(f"{where} has no trained question-answering head (qa_outputs)")
    return model.eval(), config


def build_pack_from_checkpoint(
    checkpoint_dir: Path,
    out_dir: Path,
    *,
    quantize: bool = True,
    name: str | None = None,
    trained: bool = True,
    samples: int = 24,
) -> tuple[Path, dict[str, Any]]:
    """Pack a local fine-tuned QA checkpoint (e.g. MobileBERT on SQuAD 2.0) for the app.

    Returns the pack folder and the fp32-vs-int8 agreement report, which is also
    kept in the manifest under "agreement" so a pack carries its own evidence.
    """
    checkpoint_dir = Path(checkpoint_dir).expanduser()
    if not checkpoint_dir.is_dir():
        raise UserError(f"checkpoint folder {checkpoint_dir} not found")
    _require_torch()
    model, config = _load_qa_model(checkpoint_dir)
    lower = _do_lower_case(checkpoint_dir)

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        if (checkpoint_dir / "tokenizer.json").is_file():
            shutil.copyfile(checkpoint_dir / "tokenizer.json", tmp / "tokenizer.json")
        elif (checkpoint_dir / "vocab.txt").is_file():
            tokenizer_from_vocab_txt(checkpoint_dir / "vocab.txt", tmp / "tokenizer.json", lower)
        else:
            raise UserError(f"checkpoint {checkpoint_dir} has neither tokenizer.json nor vocab.txt")
        max_len = min(
            PACK_DEFAULTS["max_seq_length"], int(getattr(config, "max_position_embeddings", 512))
        )
        fp32 = export_onnx(model, tmp / "model.fp32.onnx")
        quantization = _quantize_into(tmp, quantize)
        if quantize:
            from desktop_qa.packs.quantize import agreement as measure

            report: dict[str, Any] = measure(
                fp32,
                tmp / "model.onnx",
                tmp / "tokenizer.json",
                samples=samples,
                max_seq_length=max_len,
            )
            fp32.unlink()
        else:
            fp32.rename(tmp / "model.onnx")
            report = {
                "max_logit_diff": 0.0,
                "mean_logit_diff": 0.0,
                "best_span_agreement": 1.0,
                "samples": 0,
            }
        suffix = "int8" if quantize else "fp32"
        manifest = {
            "name": name or f"{checkpoint_dir.name}-{suffix}",
            "architecture": str(getattr(config, "model_type", "unknown")),
            "do_lower_case": lower,
            **PACK_DEFAULTS,
            "max_seq_length": max_len,
            "doc_stride": min(PACK_DEFAULTS["doc_stride"], max_len // 2),
            "max_query_length": min(PACK_DEFAULTS["max_query_length"], max_len // 2),
            "quantization": quantization,
            "trained": bool(trained),
            "source": str(checkpoint_dir.resolve()),
            "license": _checkpoint_license(checkpoint_dir, config),
            "agreement": report,
        }
        from desktop_qa.packs.write import write_manifest

        write_manifest(tmp, manifest)
        return _finish(tmp, out_dir), report
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
