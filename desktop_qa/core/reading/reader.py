"""The extractive reader: tokenizer windows in, start/end logits out (onnxruntime).

Only mechanics live here (encoding with offsets, batching, the session); the
rules that turn logits into answers are in ``spans`` and ``qa``.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import KNOWN_INPUTS, REQUIRED_OUTPUTS, ModelPack
from desktop_qa.core.system import files, portable
from desktop_qa.core.system.runtime import (
    import_onnxruntime,
    new_session,
    physical_cores,
    session_options,
)

if TYPE_CHECKING:
    from tokenizers import Encoding

# Chosen by measurement (benchmarks/document.py --tuning, benchmarks/README.md): on a
# 2-core laptop-class CPU, batches of 4 windows cost 15-25% less per window than
# single windows, nearly as little as 8, with half the wait for the first batch.
DEFAULT_BATCH_SIZE = 4
# The optimized graph saved in the cache cuts session creation from 0.5-0.8 s to
# 0.1-0.2 s at the same speed per window (15.5 vs 15.1 ms, interleaved A/B).
CACHE_OPTIMIZED = True
SAVED_GRAPHS_KEPT = 3  # one per recently used pack; about the pack's size each


@dataclass(frozen=True)
class Window:
    """One model input: question + a slice of one passage, with character offsets."""

    passage: int
    ids: np.ndarray  # int64 (seq,)
    type_ids: np.ndarray  # int64 (seq,)
    context_mask: np.ndarray  # bool (seq,): True for passage tokens
    offsets: np.ndarray  # int64 (seq, 2): document character offsets of each token


def context_mask(encoding: Encoding) -> np.ndarray:
    """True for the passage's tokens: the encoding's second sequence, whatever the tokenizer.

    Type ids cannot say it: RoBERTa-family tokenizers give every token type 0;
    special tokens have no sequence id.
    """
    return np.fromiter((s == 1 for s in encoding.sequence_ids), dtype=bool)


def _cached_session(pack: ModelPack, threads: int, level: Any) -> Any:
    """A session from the optimized graph saved in the cache, writing it on first use.

    Keyed by the graph's checksum, the onnxruntime version, the level and the
    machine (an ALL-optimized graph may hold CPU-specific kernels). The sidecar
    ``.sha256`` file records the saved graph's checksum *and* the checksum of
    the pack's own ``model.onnx`` it was made from; an entry made from another
    graph, or damaged, is deleted and rebuilt. The cache folder is trusted like
    the data folder (docs/models.md, "Trust and limits"): these checks catch damage and
    mix-ups, not a forger who can write the user's own folders. Any failure
    falls back to optimizing the pack's graph in memory (returns None).
    """
    ort = import_onnxruntime()

    from desktop_qa.core.system import paths

    source = str(pack.files.get(pack.onnx, "")).lower()
    if not source:
        return None
    key = f"{source[:16]}-ort{ort.__version__}-l{int(level)}-{_cpu_key()}"
    folder = paths.cache_dir() / "models"
    saved = folder / f"{key}.onnx"
    check = saved.with_suffix(".sha256")
    if saved.is_file():
        try:
            # A bit flip in a weight would load fine and answer wrong: verify first.
            recorded = json.loads(check.read_text(encoding="ascii"))
            if recorded.get("source") != source or files.sha256_file(saved) != recorded.get(
                "saved"
            ):
                raise ValueError("saved graph does not match its checksum or its pack")
            disabled = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            options = session_options(threads, disabled, quiet=True)
            session = new_session(saved, options)
            _check_io(session, pack)
            os.utime(saved)  # recently used: pruned last
            return session
        except Exception:
            files.remove(saved, check)  # damaged or foreign: rebuild below
    tmp = folder / f".tmp-{os.getpid()}-{key}.onnx"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Prove the folder writable before onnxruntime tries (a read-only cache
        # folder would otherwise make it log errors): no file, no cache.
        with open(tmp, "xb"):
            pass
    except OSError:
        return None
    try:
        options = session_options(threads, level, quiet=True)
        options.optimized_model_filepath = str(tmp)
        session = new_session(pack.onnx_path, options)
        _check_io(session, pack)
        record = {"source": source, "saved": files.sha256_file(tmp)}
        check.write_text(json.dumps(record), encoding="ascii")
        portable.replace(tmp, saved)
        _prune_saved(folder)
        return session
    except Exception:
        files.remove(tmp)
        return None


def _cpu_key() -> str:
    """Machine and instruction-set identity: an ALL-level graph may use CPU-specific kernels."""
    import hashlib

    ident = f"{platform.machine()}|{platform.processor()}"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "")
        ident += "|" + flags
    except OSError:
        pass
    return hashlib.sha256(ident.encode()).hexdigest()[:12]


def _prune_saved(folder: Path) -> None:
    try:
        graphs = list(folder.glob("*.onnx"))
    except OSError:
        return
    files.delete_oldest(
        graphs, max_files=SAVED_GRAPHS_KEPT, companions=lambda p: (p.with_suffix(".sha256"),)
    )


MIN_PASSAGE_TOKENS = 8
_INT_TYPES = frozenset({"tensor(int64)"})
_FLOAT_TYPES = frozenset({"tensor(float)"})


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = " ".join(lines[0].split()) if lines else ""
    return (text or exc.__class__.__name__)[:160]


def _check_io(session: Any, pack: ModelPack) -> None:
    """The graph's declared inputs and outputs must be what the reader feeds and reads:
    int64 inputs, float32 logits, all of rank 2 ([batch, sequence])."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    problems = [f"unknown input {name!r}" for name in inputs if name not in KNOWN_INPUTS]
    if "input_ids" not in inputs:
        problems.append("no input 'input_ids'")
    problems += [f"no output {name!r}" for name in REQUIRED_OUTPUTS if name not in outputs]
    for group, types, kind in ((inputs, _INT_TYPES, "int64"), (outputs, _FLOAT_TYPES, "float")):
        for name, arg in group.items():
            if group is outputs and name not in REQUIRED_OUTPUTS:
                continue
            shape = arg.shape
            if arg.type not in types:
                problems.append(f"{name} is {arg.type}, not {kind}")
            elif not isinstance(shape, list) or len(shape) != 2:
                rank = len(shape) if isinstance(shape, list) else "unknown"
                problems.append(f"{name} has rank {rank}, not 2 ([batch, sequence])")
    if problems:
        raise UserError(
            f"model pack {pack.path}: the graph's inputs/outputs do not match the pack format "
            f"({'; '.join(problems[:3])}); expected int64 input_ids, attention_mask, "
            "token_type_ids -> float start_logits, end_logits, all [batch, sequence]"
        )


class Reader:
    """A loaded pack: tokenizer plus onnxruntime session, reused across questions."""

    def __init__(
        self,
        pack: ModelPack,
        *,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        optimization: Any = None,
        cache_optimized: bool = CACHE_OPTIMIZED,
        onnx_path: Path | None = None,
    ):
        """Load the pack's tokenizer and session (settings: benchmarks/README.md).

        ``optimization`` is an onnxruntime GraphOptimizationLevel (default ALL);
        ``cache_optimized`` stores the optimized graph in the cache folder so
        later loads skip the optimizer; ``onnx_path`` swaps the graph
        (benchmarks comparing quantization variants).
        """
        from tokenizers import Tokenizer

        ort = import_onnxruntime()
        self.pack = pack
        self.batch_size = max(1, batch_size)
        self.threads = threads or physical_cores()
        try:
            self.tokenizer = Tokenizer.from_file(str(pack.tokenizer_path))
            self.tokenizer.no_padding()
            self.tokenizer.no_truncation()
            pair = self.tokenizer.encode("a", "b")
            bare = self.tokenizer.encode("a", "b", add_special_tokens=False)
            self.special_tokens = max(0, len(pair.ids) - len(bare.ids))
        except Exception as exc:
            raise UserError(
                f"model pack {pack.path}: {pack.tokenizer} is not a tokenizers file "
                f"({_first_line(exc)}); reinstall the pack"
            ) from None
        # The window must hold the longest question, the template's special
        # tokens and at least a few passage tokens.
        room = pack.max_seq_length - pack.max_query_length - self.special_tokens
        if room < MIN_PASSAGE_TOKENS:
            raise UserError(
                f"model pack {pack.path}: its tokenizer adds {self.special_tokens} special "
                f"tokens, which with max_query_length {pack.max_query_length} leaves "
                f"{max(room, 0)} of {pack.max_seq_length} tokens for the document; "
                "use a pack made for this app"
            )
        level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimization is None else optimization
        graph = Path(onnx_path) if onnx_path is not None else pack.onnx_path
        self.session = None
        if cache_optimized and onnx_path is None:
            self.session = _cached_session(pack, self.threads, level)
        if self.session is None:
            try:
                self.session = new_session(graph, session_options(self.threads, level))
            except Exception as exc:
                raise UserError(
                    f"model pack {pack.path}: {pack.onnx} is not a loadable ONNX graph "
                    f"({_first_line(exc)}); reinstall the pack"
                ) from None
            _check_io(self.session, pack)
        self.input_names = [i.name for i in self.session.get_inputs()]
        vocab = self.tokenizer.get_vocab()
        # Padding sits under attention mask 0; RoBERTa still counts positions from
        # its own pad id, so use the tokenizer's.
        self.pad_id = int(vocab.get("[PAD]", vocab.get("<pad>", 0)))

    # -- encoding -------------------------------------------------------------
    def truncate_question(self, question: str) -> str:
        """Keep the first ``max_query_length`` question tokens (cut at a token end)."""
        enc = self.tokenizer.encode(question, add_special_tokens=False)
        limit = self.pack.max_query_length
        if len(enc.ids) <= limit:
            return question
        return question[: enc.offsets[limit - 1][1]]

    def encode(
        self,
        question: str,
        passages: Sequence[tuple[int, int, str]],
        max_length: int | None = None,
    ) -> list[tuple[int, int, Encoding]]:
        """Token encodings of (passage index, char offset, text) pairs with the question.

        Each is ``max_seq_length`` tokens at most (``max_length``, if smaller:
        short windows, overlapping by a quarter of their passage room);
        consecutive encodings of one passage overlap by ``doc_stride`` tokens.
        Tokenizing runs in Rust without the GIL; turning an encoding into arrays
        (``window``) is left to the caller, batch by batch, so a long document
        never stalls other threads.
        """
        if not passages:
            return []
        question = self.truncate_question(question)
        q_len = len(self.tokenizer.encode(question, add_special_tokens=False).ids)
        seq = self.pack.max_seq_length
        short = max_length is not None and max_length < seq
        if short:
            seq = max(int(max_length or 0), q_len + self.special_tokens + MIN_PASSAGE_TOKENS)
        room = seq - q_len - self.special_tokens
        stride = min(self.pack.doc_stride, max(0, room // 4 if short else room - 1))
        tok = self.tokenizer
        tok.enable_truncation(seq, stride=stride, strategy="only_second")
        try:
            encodings = tok.encode_batch([(question, text) for _, _, text in passages])
        finally:
            tok.no_truncation()
        return [
            (index, offset, part)
            for (index, offset, _), enc in zip(passages, encodings, strict=True)
            for part in (enc, *enc.overflowing)
        ]

    @staticmethod
    def window(passage: int, offset: int, encoding: Encoding) -> Window:
        """Model input arrays of one encoding; offsets shifted into document characters."""
        return Window(
            passage=passage,
            ids=np.asarray(encoding.ids, dtype=np.int64),
            type_ids=np.asarray(encoding.type_ids, dtype=np.int64),
            context_mask=context_mask(encoding),
            offsets=np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2) + offset,
        )

    def windows(self, question: str, passages: Sequence[tuple[int, int, str]]) -> list[Window]:
        """All windows at once (tests, small inputs); the reading builds them per batch."""
        return [self.window(*item) for item in self.encode(question, passages)]

    # -- inference ------------------------------------------------------------
    def run(self, batch: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
        """Logits for a batch, padded only to the batch's longest window."""
        length = max(len(w.ids) for w in batch)
        n = len(batch)
        ids = np.full((n, length), self.pad_id, dtype=np.int64)
        types = np.zeros((n, length), dtype=np.int64)
        attn = np.zeros((n, length), dtype=np.int64)
        for row, w in enumerate(batch):
            ids[row, : len(w.ids)] = w.ids
            types[row, : len(w.ids)] = w.type_ids
            attn[row, : len(w.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": attn, "token_type_ids": types}
        try:
            start, end = self.session.run(
                list(REQUIRED_OUTPUTS), {k: v for k, v in feeds.items() if k in self.input_names}
            )
        except Exception as exc:  # onnxruntime raises several types
            raise UserError(
                f"model pack {self.pack.path}: the model failed while reading ({_first_line(exc)})",
                hint="other_pack",
            ) from None
        start, end = np.asarray(start), np.asarray(end)
        if start.shape != (n, length) or end.shape != (n, length):
            raise UserError(
                f"model pack {self.pack.path}: the model returned logits of shape "
                f"{start.shape}/{end.shape} for {n} windows of {length} tokens; "
                "use a format-1 pack"
            )
        return start.astype(np.float32, copy=False), end.astype(np.float32, copy=False)
