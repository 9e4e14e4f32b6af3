"""Dynamic int8 quantization of exported QA graphs, and a check of what it costs.

Used both by the export path and by the download path (a downloaded fp32 ONNX
file is quantized on the user's machine), so this module must never import
torch: only onnx, onnxruntime, numpy and tokenizers.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from desktop_qa.core.reading import spans
from desktop_qa.core.reading.reader import context_mask

# Chosen by measurement on a random full-size MobileBERT (benchmarks/reader.py,
# see benchmarks/README.md): quantizing MatMul (the weights of every dense
# layer) gives the speed-up; also quantizing Gather (the 30522 x 128 word
# embedding table) takes the pack from 38.6 MB to 26.1 MB at no measurable
# cost (max logit difference 0.00086 -> 0.00087, best-span agreement 24/24)
# and no change in speed, which matters for the installer and the download.
# Per-tensor weights are as fast as per-channel and keep the logits as close.
DEFAULT_OP_TYPES: tuple[str, ...] = ("MatMul", "Gather")
DEFAULT_PER_CHANNEL = False
DEFAULT_REDUCE_RANGE = False

# Plain English question/context pairs: realistic token mixes for the agreement
# check (the random sequences below cover the rest of the vocabulary).
SAMPLE_PAIRS: tuple[tuple[str, str], ...] = (
    (
        "When does the lease term end?",
        "The lease term begins on the first of March and ends on the last day of "
        "February of the following year, unless the tenant gives notice.",
    ),
    (
        "Who shall pay the rent?",
        "The tenant shall pay the rent to the landlord on the first Monday of each "
        "month, by bank transfer to the account named in section two.",
    ),
    (
        "What is the capital city?",
        "The report names the capital city of the state, which lies on the river "
        "between two mountain ranges, and gives its population in table three.",
    ),
    (
        "What is the launch date?",
        "The launch date was moved from April to June after the first test of the "
        "system found a problem with the data from the third stage.",
    ),
    (
        "How many parties signed the agreement?",
        "Three parties signed the agreement in December: the landlord, the tenant "
        "and the bank that provided the payment guarantee.",
    ),
    (
        "Which code is used for the answer?",
        "Each answer in the document is given a code made of a letter and a number, "
        "for example alpha seven or bravo two, as listed in chapter four.",
    ),
)


def quantize_int8(
    fp32_onnx: Path,
    int8_onnx: Path,
    *,
    per_channel: bool = DEFAULT_PER_CHANNEL,
    reduce_range: bool = DEFAULT_REDUCE_RANGE,
    op_types: Sequence[str] | None = DEFAULT_OP_TYPES,
) -> Path:
    """Write an int8 (dynamic, QInt8 weights) copy of ``fp32_onnx``; about 4x smaller and faster.

    The output is written to a temporary file beside ``int8_onnx`` and renamed, so
    an interrupted run never leaves a half-written model where a pack expects one.
    """
    from desktop_qa.core.system.runtime import import_onnxruntime

    import_onnxruntime()  # telemetry off before onnxruntime loads
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32_onnx, int8_onnx = Path(fp32_onnx), Path(int8_onnx)
    int8_onnx.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".quant-", suffix=".onnx", dir=int8_onnx.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    quiet = _DropPreprocessHint()
    logging.getLogger().addFilter(quiet)
    try:
        quantize_dynamic(
            fp32_onnx,
            tmp,
            op_types_to_quantize=list(op_types) if op_types else None,
            per_channel=per_channel,
            reduce_range=reduce_range,
            weight_type=QuantType.QInt8,
        )
        os.replace(tmp, int8_onnx)
    finally:
        logging.getLogger().removeFilter(quiet)
        tmp.unlink(missing_ok=True)
    return int8_onnx


class _DropPreprocessHint(logging.Filter):
    """quantize_dynamic logs a pre-processing hint on every call; it would clutter every
    pack build and download, and is advice for static (calibrated) quantization."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _session(path: Path) -> Any:
    from desktop_qa.core.system.runtime import new_session

    return new_session(path)


def _template(tok: Any) -> tuple[list[list[int]], list[list[int]], int, int]:
    """The tokenizer's pair template: special ids and type ids before the question, between
    question and passage, after the passage; and the type ids of question and passage."""
    enc = tok.encode("a", "b")
    seq = enc.sequence_ids
    q_at = seq.index(0)
    c_at = seq.index(1)
    q_end = max(i for i, s in enumerate(seq) if s == 0) + 1
    c_end = max(i for i, s in enumerate(seq) if s == 1) + 1
    cuts = [(0, q_at), (q_end, c_at), (c_end, len(seq))]
    ids = [list(enc.ids[a:b]) for a, b in cuts]
    types = [list(enc.type_ids[a:b]) for a, b in cuts]
    return ids, types, int(enc.type_ids[q_at]), int(enc.type_ids[c_at])


def _sample_inputs(
    tokenizer_json: Path, samples: int, max_seq_length: int, seed: int
) -> list[tuple[dict[str, np.ndarray], np.ndarray]]:
    """(feeds for one window, boolean mask of its context tokens) per sample."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    tok.no_padding()
    tok.enable_truncation(max_length=max_seq_length, strategy="only_second")
    vocab = tok.get_vocab()
    (pre, mid, post), (pre_t, mid_t, post_t), q_type, c_type = _template(tok)
    added = {i for i, t in tok.get_added_tokens_decoder().items() if t.special}
    bracketed = {i for t, i in vocab.items() if t.startswith(("[", "<")) and t.endswith(("]", ">"))}
    specials = added | bracketed | set(pre) | set(mid) | set(post)
    ordinary = np.array(sorted(set(vocab.values()) - specials), dtype=np.int64)
    rng = np.random.default_rng(seed)
    n_special = len(pre) + len(mid) + len(post)

    out: list[tuple[dict[str, np.ndarray], np.ndarray]] = []
    for question, context in SAMPLE_PAIRS[: max(0, samples)]:
        enc = tok.encode(question, context)
        ids = np.array(enc.ids, dtype=np.int64)
        types = np.array(enc.type_ids, dtype=np.int64)
        out.append((_feeds(ids, types), context_mask(enc)))
    while len(out) < samples:
        q_len = int(rng.integers(4, 16))
        c_len = int(rng.integers(16, max(17, max_seq_length - q_len - n_special)))
        c_len = min(c_len, max_seq_length - q_len - n_special)
        q = rng.choice(ordinary, q_len)
        c = rng.choice(ordinary, c_len)
        ids = np.concatenate([pre, q, mid, c, post]).astype(np.int64)
        types = np.concatenate(
            [pre_t, np.full(q_len, q_type), mid_t, np.full(c_len, c_type), post_t]
        ).astype(np.int64)
        context = np.zeros(len(ids), dtype=bool)
        start = len(pre) + q_len + len(mid)
        context[start : start + c_len] = True
        out.append((_feeds(ids, types), context))
    return out


def _feeds(ids: np.ndarray, types: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "input_ids": ids[None, :],
        "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
        "token_type_ids": types[None, :],
    }


def _best_span(start: np.ndarray, end: np.ndarray, context: np.ndarray) -> tuple[int, int]:
    """The reader's own best span (``spans.top_spans``), (0, 0) when there is none."""
    found = spans.top_spans(start, end, context, max_answer_length=30, k=20)
    return found[0][:2] if found else (0, 0)


def agreement(
    fp32_onnx: Path,
    int8_onnx: Path,
    tokenizer_json: Path,
    *,
    samples: int = 24,
    max_seq_length: int = 384,
    seed: int = 0,
) -> dict[str, float | int]:
    """How far the int8 graph's logits and best answers drift from the fp32 graph's.

    Built-in English pairs plus seeded random token sequences, one window each;
    only the inputs each session declares are fed (a graph may omit token_type_ids).
    """
    ref, quant = _session(Path(fp32_onnx)), _session(Path(int8_onnx))
    ref_names = {i.name for i in ref.get_inputs()}
    quant_names = {i.name for i in quant.get_inputs()}
    max_diff, diffs, same = 0.0, [], 0
    inputs = _sample_inputs(Path(tokenizer_json), samples, max_seq_length, seed)
    for feeds, context in inputs:
        r_start, r_end = ref.run(
            ["start_logits", "end_logits"], {k: v for k, v in feeds.items() if k in ref_names}
        )
        q_start, q_end = quant.run(
            ["start_logits", "end_logits"], {k: v for k, v in feeds.items() if k in quant_names}
        )
        diff = np.abs(np.concatenate([r_start - q_start, r_end - q_end], axis=-1))
        max_diff = max(max_diff, float(diff.max()))
        diffs.append(float(diff.mean()))
        same += _best_span(r_start[0], r_end[0], context) == _best_span(
            q_start[0], q_end[0], context
        )
    n = len(inputs)
    return {
        "max_logit_diff": max_diff,
        "mean_logit_diff": float(np.mean(diffs)) if diffs else 0.0,
        "best_span_agreement": same / n if n else 1.0,
        "samples": n,
    }
