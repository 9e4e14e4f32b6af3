"""Reader speed: PyTorch fp32 eager vs ONNX Runtime fp32 vs ONNX Runtime int8, one JSON line.

All three run the same randomly initialised full-size MobileBERT (weights do
not change the speed), built once through the real export and quantization
path into benchmarks/out/ and reused on later runs. Latency is per window
(batch time / batch size), the median of several runs after warm-up.

    python benchmarks/reader.py [--quick] [--threads N] [--variants]

Needs the export extra (torch, transformers); see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_qa.core.reading.pack import load_pack  # noqa: E402
from desktop_qa.packs import export, quantize  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
SEQS = (128, 256, 384)
BATCHES = (1, 4, 8)


def physical_cores() -> int:
    """Physical cores: one compute thread per core is the fastest setting for GEMM-bound models."""
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:
        return os.cpu_count() or 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def get_pack(config: str, seed: int) -> Path:
    """The cached random pack with model.onnx (int8) and model.fp32.onnx; built if absent."""
    path = OUT / f"random-{config}-seed{seed}"
    try:
        pack = load_pack(path)
        if (path / "model.fp32.onnx").is_file() and pack.quantization == "int8-dynamic":
            return path
    except Exception:  # any problem with the cache means rebuild
        pass
    started = time.perf_counter()
    export.build_random_pack(config, path, seed=seed, keep_fp32=True)
    print(f"built {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def window_inputs(batch: int, seq: int, vocab_size: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seq * 100 + batch)
    ids = rng.integers(5, vocab_size, (batch, seq), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 2, 3
    types = np.zeros((batch, seq), dtype=np.int64)
    types[:, 24:] = 1
    return {
        "input_ids": ids,
        "attention_mask": np.ones((batch, seq), dtype=np.int64),
        "token_type_ids": types,
    }


CLOCK: Callable[[], float] = time.perf_counter


def median_ms(fn: Callable[[], Any], warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        started = CLOCK()
        fn()
        times.append(CLOCK() - started)
    return statistics.median(times) * 1000.0


def ort_session(path: Path, threads: int, level: str = "ORT_ENABLE_ALL") -> Any:
    from desktop_qa.core.system.runtime import import_onnxruntime, new_session, session_options

    ort = import_onnxruntime()
    return new_session(path, session_options(threads, getattr(ort.GraphOptimizationLevel, level)))


def ort_runner(sess: Any, feeds: dict[str, np.ndarray]) -> Callable[[], Any]:
    declared = {i.name for i in sess.get_inputs()}
    feeds = {k: v for k, v in feeds.items() if k in declared}
    return lambda: sess.run(["start_logits", "end_logits"], feeds)


def torch_runner(model: Any, feeds: dict[str, np.ndarray]) -> Callable[[], Any]:
    import torch

    tensors = {k: torch.from_numpy(v) for k, v in feeds.items()}

    def run() -> Any:
        with torch.inference_mode():
            return model(**tensors)

    return run


def measure_grid(
    runners: dict[str, Callable[[dict[str, np.ndarray]], Callable[[], Any]]],
    vocab_size: int,
    warmup: int,
    repeats: int,
) -> dict[str, dict[str, float]]:
    """{backend: {"s384_b1": ms per window, ...}}."""
    out: dict[str, dict[str, float]] = {name: {} for name in runners}
    for seq in SEQS:
        for batch in BATCHES:
            feeds = window_inputs(batch, seq, vocab_size)
            for name, make in runners.items():
                ms = median_ms(make(feeds), warmup, repeats) / batch
                out[name][f"s{seq}_b{batch}"] = round(ms, 2)
                print(f"{name:10s} seq {seq} batch {batch}: {ms:8.1f} ms/window", file=sys.stderr)
    return out


def quant_variants(pack: Path, threads: int, vocab_size: int, warmup: int, repeats: int) -> dict:
    """Other quantize_dynamic choices, measured at 384 tokens, batch 1, with their agreement."""
    variants = {
        "matmul_per_tensor": {"op_types": ("MatMul",), "per_channel": False},
        "matmul_per_channel": {"op_types": ("MatMul",), "per_channel": True},
        "matmul_reduce_range": {"op_types": ("MatMul",), "reduce_range": True},
        "all_ops": {"op_types": None},
        "matmul_gather": {"op_types": ("MatMul", "Gather")},
    }
    feeds = window_inputs(1, 384, vocab_size)
    results = {}
    for name, options in variants.items():
        path = OUT / "variants" / f"{pack.name}-{name}.onnx"
        if not path.is_file():
            quantize.quantize_int8(pack / "model.fp32.onnx", path, **options)
        ms = median_ms(ort_runner(ort_session(path, threads), feeds), warmup, repeats)
        agree = quantize.agreement(pack / "model.fp32.onnx", path, pack / "tokenizer.json")
        results[name] = {
            "s384_b1_ms": round(ms, 2),
            "size_mb": round(path.stat().st_size / 1e6, 1),
            **{k: round(v, 5) if isinstance(v, float) else v for k, v in agree.items()},
        }
        print(f"variant {name}: {results[name]}", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 3x faster)")
    parser.add_argument("--threads", type=int, default=physical_cores(), help="compute threads")
    parser.add_argument("--config", default="mobilebert", choices=sorted(export.RANDOM_CONFIGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", action="store_true", help="also time other quantize options")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: time the calling thread's CPU time (only with --threads 1), which other "
        "processes on a busy machine do not inflate",
    )
    args = parser.parse_args(argv)
    if args.clock == "cpu":
        if args.threads != 1:
            parser.error("--clock cpu needs --threads 1 (the work must run on the calling thread)")
        global CLOCK
        CLOCK = time.thread_time
    warmup, repeats = (1, 3) if args.quick else (2, 10)

    from desktop_qa.core.system.runtime import import_onnxruntime

    ort = import_onnxruntime()
    import torch

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    pack_dir = get_pack(args.config, args.seed)
    pack = load_pack(pack_dir)
    model = export.random_model(args.config, args.seed)  # same seed -> same weights as the pack
    vocab_size = model.config.vocab_size

    fp32 = ort_session(pack_dir / "model.fp32.onnx", args.threads)
    int8 = ort_session(pack.onnx_path, args.threads)
    check = window_inputs(2, 64, vocab_size)
    with torch.inference_mode():
        ref = torch_runner(model, check)().start_logits.numpy()
    same_weights = float(np.abs(ref - ort_runner(fp32, check)()[0]).max())
    if same_weights > 1e-3:
        raise SystemExit(f"cached fp32 graph does not match the seeded model ({same_weights})")

    grid = measure_grid(
        {
            "torch_fp32": lambda f: torch_runner(model, f),
            "ort_fp32": lambda f: ort_runner(fp32, f),
            "ort_int8": lambda f: ort_runner(int8, f),
        },
        vocab_size,
        warmup,
        repeats,
    )
    ratios = {
        f"{name}_speedup_vs_torch": {k: round(grid["torch_fp32"][k] / v, 2) for k, v in ms.items()}
        for name, ms in grid.items()
        if name != "torch_fp32"
    }
    ratios["int8_speedup_vs_ort_fp32"] = {
        k: round(grid["ort_fp32"][k] / v, 2) for k, v in grid["ort_int8"].items()
    }

    levels = {}
    for level in ("ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED", "ORT_ENABLE_ALL"):
        sess = ort_session(pack.onnx_path, args.threads, level)
        levels[level] = {
            f"s384_b{b}": round(
                median_ms(ort_runner(sess, window_inputs(b, 384, vocab_size)), warmup, repeats) / b,
                2,
            )
            for b in (1, 8)
        }

    result: dict[str, Any] = {
        "benchmark": "reader",
        "model": f"random {args.config} (seed {args.seed}), untrained",
        "unit": "ms per window (median)",
        "threads": args.threads,
        "clock": args.clock,
        "quick": args.quick,
        "repeats": repeats,
        "cpu": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        # Other processes on the machine skew every figure: keep the load beside them.
        "loadavg_1m_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)],
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "latency_ms": grid,
        **ratios,
        "int8_graph_optimization_ms": levels,
        "size_mb": {
            "fp32_onnx": round((pack_dir / "model.fp32.onnx").stat().st_size / 1e6, 1),
            "int8_onnx": round(pack.onnx_path.stat().st_size / 1e6, 1),
        },
        "torch_vs_ort_fp32_max_diff": same_weights,
    }
    if args.variants:
        result["quantize_variants"] = quant_variants(
            pack_dir, args.threads, vocab_size, warmup, repeats
        )
    s384 = "s384_b1"
    result["target_met"] = {
        "int8_4x_vs_torch_384": ratios["ort_int8_speedup_vs_torch"][s384] >= 4.0,
        "int8_1.5x_vs_ort_fp32_384": ratios["int8_speedup_vs_ort_fp32"][s384] >= 1.5,
    }
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
