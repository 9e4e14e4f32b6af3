"""The extractive reader: tokenizer windows in, start/end logits out (onnxruntime).

Only mechanics live here (encoding with offsets, batching, the session); the
rules that turn logits into answers are in ``spans`` and ``qa``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_qa.core.errors import UserError
from desktop_qa.core.pack import KNOWN_INPUTS, REQUIRED_OUTPUTS, ModelPack, sha256_file

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


def physical_cores() -> int:
    """Physical cores where psutil knows them; int8 GEMMs gain nothing from SMT siblings."""
    try:
        import psutil

        count = psutil.cpu_count(logical=False)
        if count:
            return int(count)
    except Exception:
        pass
    return os.cpu_count() or 1


def _options(threads: int, level: Any) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = level
    options.log_severity_level = 3
    return options


def _cached_session(pack: ModelPack, threads: int, level: Any) -> Any:
    """A session from the optimized graph saved in the cache, writing it on first use.

    Keyed by the graph's checksum, the onnxruntime version, the level and the
    machine (an ALL-optimized graph may hold CPU-specific kernels). Any failure
    falls back to optimizing the pack's graph in memory (returns None).
    """
    import onnxruntime as ort

    from desktop_qa.core import paths

    digest = str(pack.files.get(pack.onnx, ""))[:16]
    if not digest:
        return None
    key = f"{digest}-ort{ort.__version__}-l{int(level)}-{_cpu_key()}"
    folder = paths.cache_dir() / "models"
    saved = folder / f"{key}.onnx"
    providers = ["CPUExecutionProvider"]
    check = saved.with_suffix(".sha256")
    if saved.is_file():
        try:
            # A bit flip in a weight would load fine and answer wrong: verify first.
            if sha256_file(saved) != check.read_text(encoding="ascii").strip():
                raise ValueError("saved graph does not match its checksum")
            options = _options(threads, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
            session = ort.InferenceSession(str(saved), options, providers=providers)
            os.utime(saved)  # recently used: pruned last
            return session
        except Exception:
            _unlink(saved, check)  # damaged or foreign: rebuild below
    tmp = folder / f".tmp-{os.getpid()}-{key}.onnx"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        options = _options(threads, level)
        options.optimized_model_filepath = str(tmp)
        session = ort.InferenceSession(str(pack.onnx_path), options, providers=providers)
        check.write_text(sha256_file(tmp), encoding="ascii")
        os.replace(tmp, saved)
        _prune_saved(folder)
        return session
    except Exception:
        _unlink(tmp)
        return None


def _unlink(*files: Path) -> None:
    for f in files:
        try:
            f.unlink(missing_ok=True)
        except OSError:
            pass


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
        graphs = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in graphs[SAVED_GRAPHS_KEPT:]:
        _unlink(old, old.with_suffix(".sha256"))


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
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.pack = pack
        self.batch_size = max(1, batch_size)
        self.threads = threads or physical_cores()
        try:
            self.tokenizer = Tokenizer.from_file(str(pack.tokenizer_path))
        except Exception as exc:
            raise UserError(
                f"model pack {pack.path}: {pack.tokenizer} is not a tokenizers file ({exc}); "
                "reinstall the pack"
            ) from None
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimization is None else optimization
        graph = Path(onnx_path) if onnx_path is not None else pack.onnx_path
        self.session = None
        if cache_optimized and onnx_path is None:
            self.session = _cached_session(pack, self.threads, level)
        if self.session is None:
            try:
                self.session = ort.InferenceSession(
                    str(graph), _options(self.threads, level), providers=["CPUExecutionProvider"]
                )
            except Exception as exc:
                raise UserError(
                    f"model pack {pack.path}: {pack.onnx} is not a loadable ONNX graph "
                    f"({str(exc).splitlines()[0][:120]}); reinstall the pack"
                ) from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        output_names = [o.name for o in self.session.get_outputs()]
        unknown = [n for n in self.input_names if n not in KNOWN_INPUTS]
        missing_out = [n for n in REQUIRED_OUTPUTS if n not in output_names]
        if unknown or missing_out or "input_ids" not in self.input_names:
            raise UserError(
                f"model pack {pack.path}: the graph's inputs {self.input_names} / outputs "
                f"{output_names} do not match the pack format (input_ids, attention_mask, "
                "token_type_ids -> start_logits, end_logits); use a format-1 pack"
            )
        vocab = self.tokenizer.get_vocab()
        self.pad_id = int(vocab.get("[PAD]", 0))

    # -- encoding -------------------------------------------------------------
    def truncate_question(self, question: str) -> str:
        """Keep the first ``max_query_length`` question tokens (cut at a token end)."""
        enc = self.tokenizer.encode(question, add_special_tokens=False)
        limit = self.pack.max_query_length
        if len(enc.ids) <= limit:
            return question
        return question[: enc.offsets[limit - 1][1]]

    def encode(
        self, question: str, passages: Sequence[tuple[int, int, str]]
    ) -> list[tuple[int, int, Encoding]]:
        """Token encodings of (passage index, char offset, text) pairs with the question.

        Each is ``max_seq_length`` tokens at most; consecutive encodings of one
        passage overlap by ``doc_stride`` tokens. Tokenizing runs in Rust without
        the GIL; turning an encoding into arrays (``window``) is left to the
        caller, batch by batch, so a long document never stalls other threads.
        """
        if not passages:
            return []
        question = self.truncate_question(question)
        q_len = len(self.tokenizer.encode(question, add_special_tokens=False).ids)
        seq = self.pack.max_seq_length
        room = seq - q_len - 3
        stride = min(self.pack.doc_stride, max(0, room - 1))
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
        type_ids = np.asarray(encoding.type_ids, dtype=np.int64)
        special = np.asarray(encoding.special_tokens_mask, dtype=bool)
        return Window(
            passage=passage,
            ids=np.asarray(encoding.ids, dtype=np.int64),
            type_ids=type_ids,
            context_mask=(type_ids == 1) & ~special,
            offsets=np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2) + offset,
        )

    def windows(self, question: str, passages: Sequence[tuple[int, int, str]]) -> list[Window]:
        """All windows at once (tests, small inputs); ``ask_iter`` builds them per batch."""
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
        start, end = self.session.run(
            list(REQUIRED_OUTPUTS), {k: v for k, v in feeds.items() if k in self.input_names}
        )
        return np.asarray(start, np.float32), np.asarray(end, np.float32)
