"""Turn Hugging Face QA models into model packs: tokenizer, ONNX export, int8, manifest.

A pack from a checkpoint folder or from random weights (tests, benchmarks).
The graph itself comes from ``packs.export_torch``; torch and transformers are
imported only through its ``require_torch``, inside functions, so the app and
the download path run without them.
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

from desktop_qa.core.errors import UserError
from desktop_qa.packs.export_torch import export_onnx, require_torch
from desktop_qa.packs.vocab import (
    BPE_SAMPLE,
    COMMON_WORDS,
    base_vocab,
    bpe_tokenizer_from_files,
    pad_vocab,
    tokenizer_from_vocab_txt,
    train_byte_level_bpe,
    write_tokenizer,
)

# Config keyword arguments of each random architecture (``RANDOM_ARCHITECTURES`` names
# its transformers model type). "mobilebert" is google/mobilebert-uncased
# (identical to transformers' MobileBertConfig defaults, spelled out so a change
# of defaults upstream cannot silently change the benchmark model); "tiny" keeps
# the same structure at a size that builds, exports and runs in a second or two.
# "minilm" is microsoft/MiniLM-L12-H384-uncased (deepset/minilm-uncased-squad2's base,
# a BERT with WordPiece); "tinyroberta" is deepset/tinyroberta-squad2 (a 6-layer RoBERTa:
# byte-level BPE, no token type ids); "tiny-roberta" is the same family at test size.
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
    "minilm": {
        "vocab_size": 30522,
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
    },
    "tinyroberta": {
        "vocab_size": 50265,
        "hidden_size": 768,
        "num_hidden_layers": 6,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-5,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
    },
    "tiny-roberta": {
        "vocab_size": 1000,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "hidden_act": "gelu",
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "layer_norm_eps": 1e-5,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
    },
}
RANDOM_ARCHITECTURES: dict[str, str] = {
    "tiny": "mobilebert",
    "mobilebert": "mobilebert",
    "minilm": "bert",
    "tinyroberta": "roberta",
    "tiny-roberta": "roberta",
}

PACK_DEFAULTS: dict[str, Any] = {
    "max_seq_length": 384,
    "doc_stride": 128,
    "max_query_length": 64,
    "max_answer_length": 30,
    "null_threshold": 0.0,
}


def _known(config_name: str) -> str:
    if config_name not in RANDOM_CONFIGS:
        raise UserError(
            f"unknown random config {config_name!r}; choose one of {', '.join(RANDOM_CONFIGS)}"
        )
    return RANDOM_ARCHITECTURES[config_name]


def random_model(config_name: str, seed: int) -> Any:
    """An untrained QA model of ``RANDOM_CONFIGS[config_name]``: same seed, same weights."""
    torch, transformers = require_torch()
    model_type = _known(config_name)
    torch.manual_seed(seed)
    config = transformers.AutoConfig.for_model(model_type, **RANDOM_CONFIGS[config_name])
    return transformers.AutoModelForQuestionAnswering.from_config(config).eval()


def is_bpe(config_name: str) -> bool:
    """The config's family tokenizes with byte-level BPE (RoBERTa), not WordPiece."""
    return _known(config_name) == "roberta"


def check_tokenizer_file(path: Path, size: int) -> None:
    """A ``tokenizer.json`` a random pack can use: loadable, encodes pairs, ids below ``size``."""
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
        pair = tok.encode("a question", "a passage")
    except Exception as exc:  # noqa: BLE001 - tokenizers raises its own Exception type
        raise UserError(
            f"cannot read tokenizer {path} ({' '.join(str(exc).split())[:120]}): pass a "
            "tokenizers JSON file (tokenizer.json)"
        ) from None
    if 1 not in [s for s in pair.sequence_ids if s is not None]:
        raise UserError(f"tokenizer {path} does not encode question-passage pairs")
    if tok.get_vocab_size() > size:
        raise UserError(
            f"tokenizer {path} has {tok.get_vocab_size():,} entries but this model config has "
            f"{size:,}: use a tokenizer of at most that size"
        )


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
    tokenizer_file: Path | None = None,
) -> Path:
    """Build an untrained pack (tests, benchmarks): real export path, random weights.

    With ``keep_fp32`` the fp32 graph stays in the pack as ``model.fp32.onnx``
    (listed in the manifest's checksums), so benchmarks compare the same weights.
    ``vocab_file`` (a WordPiece ``vocab.txt`` with the config's entry count, e.g. BERT's
    uncased one for ``mobilebert``) replaces the generated vocabulary, which splits real
    prose into characters (about 4x the windows): timings then match what a user sees.
    A RoBERTa config takes a byte-level BPE: ``tokenizer_file`` (any ``tokenizer.json``),
    else one trained on the fly on built-in English (``vocab.train_byte_level_bpe``).
    """
    size = int(RANDOM_CONFIGS[config_name]["vocab_size"]) if config_name in RANDOM_CONFIGS else 0
    bpe = is_bpe(config_name)
    if vocab_file is not None and tokenizer_file is not None:
        raise UserError("pass --vocab or --tokenizer, not both")
    if vocab_file is not None:
        if bpe:
            raise UserError(
                f"the {config_name} config tokenizes with byte-level BPE, not a WordPiece "
                "vocab.txt: pass --tokenizer tokenizer.json, or neither to train one"
            )
        check_vocab_file(Path(vocab_file), size)
    if tokenizer_file is not None:
        check_tokenizer_file(Path(tokenizer_file), size)
    model = random_model(config_name, seed)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        if tokenizer_file is not None:
            shutil.copyfile(tokenizer_file, tmp / "tokenizer.json")
            vocabulary = f"{Path(tokenizer_file).name} (sha256 {_sha256(Path(tokenizer_file))})"
        elif vocab_file is not None:
            tokenizer_from_vocab_txt(Path(vocab_file), tmp / "tokenizer.json", lowercase=True)
            vocabulary = f"{Path(vocab_file).name} (sha256 {_sha256(Path(vocab_file))})"
        elif bpe:
            texts = [*BPE_SAMPLE, " ".join([*COMMON_WORDS, *extra_words])]
            train_byte_level_bpe(texts, tmp / "tokenizer.json", size, min_frequency=1)
            vocabulary = "byte-level BPE trained on built-in English (packs.vocab.BPE_SAMPLE)"
        else:
            vocab = pad_vocab(base_vocab(extra_words), model.config.vocab_size)
            write_tokenizer(vocab, tmp / "tokenizer.json", lowercase=True)
            vocabulary = "generated (desktop_qa.packs.vocab.base_vocab)"
        fp32 = export_onnx(model, tmp / "model.fp32.onnx")
        quantization = _quantize_into(tmp, quantize)
        if not quantize:
            fp32.rename(tmp / "model.onnx")
        elif not keep_fp32:
            fp32.unlink()
        manifest: dict[str, Any] = {
            "name": f"random-{config_name}-seed{seed}-{'int8' if quantize else 'fp32'}",
            "architecture": RANDOM_ARCHITECTURES[config_name],
            "do_lower_case": not bpe and tokenizer_file is None,
            **PACK_DEFAULTS,
            "max_seq_length": min(
                PACK_DEFAULTS["max_seq_length"], int(model.config.max_position_embeddings)
            ),
            "quantization": quantization,
            "trained": False,
            "source": (
                f"random weights: desktop_qa.packs.export RANDOM_CONFIGS[{config_name!r}], "
                f"seed {seed}"
            ),
            "vocabulary": vocabulary,
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
    _, transformers = require_torch()
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
    require_torch()
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
        elif (checkpoint_dir / "vocab.json").is_file() and (
            checkpoint_dir / "merges.txt"
        ).is_file():
            bpe_tokenizer_from_files(
                checkpoint_dir / "vocab.json", checkpoint_dir / "merges.txt", tmp / "tokenizer.json"
            )
        else:
            raise UserError(
                f"checkpoint {checkpoint_dir} has no tokenizer.json, vocab.txt or "
                "vocab.json + merges.txt"
            )
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
