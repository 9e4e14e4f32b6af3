"""A torch ``*ForQuestionAnswering`` model as one ONNX file that ONNX Runtime agrees with.

With ``packs.export`` (the packs built from it), the only modules of the app
that use torch and transformers (``packs.download`` only asks whether they are
installed), and only inside functions, through ``require_torch``: the app and
the download path run without them, the error a user sees when they are
missing names the extra to install, and the installers leave both modules out
(``desktop_qa.packs.export*``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from desktop_qa.core.errors import UserError

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ("start_logits", "end_logits")
DEFAULT_OPSET = 17
INSTALL_HINT = 'install the export extra: pip install -e ".[export]"'


def require_torch() -> tuple[Any, Any]:
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
    torch, _ = require_torch()
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
    from desktop_qa.core.system.runtime import new_session

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
