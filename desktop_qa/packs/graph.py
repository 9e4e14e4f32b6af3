"""Graph surgery on a downloaded ONNX export: check its inputs, rename its outputs.

A hub export names its outputs its own way (``start_scores``, ``logits_start``
...); a pack's graph must say ``start_logits`` and ``end_logits`` and take the
BERT inputs. Known aliases are renamed in place; anything else is refused,
since feeding a graph by guessed names would silently give wrong answers.
"""

from __future__ import annotations

from pathlib import Path

from desktop_qa.core.errors import UserError

_QUANTIZED_OPS = frozenset(
    {
        "MatMulInteger",
        "DynamicQuantizeLinear",
        "DynamicQuantizeMatMul",
        "QLinearMatMul",
        "QuantizeLinear",
        "DequantizeLinear",
        "MatMulNBits",
        "QAttention",
        "QGemm",
    }
)

_OUTPUT_ALIASES = {
    "start_logits": (
        "start_logits",
        "start_scores",
        "start",
        "output_start_logits",
        "logits_start",
    ),
    "end_logits": ("end_logits", "end_scores", "end", "output_end_logits", "logits_end"),
}


def _canonical_output(name: str) -> str | None:
    low = name.lower().split(":")[0]
    for canonical, aliases in _OUTPUT_ALIASES.items():
        if low in aliases:
            return canonical
    return None


def fix_graph_io(onnx_path: Path) -> dict[str, str]:
    """Check the graph's IO names against the pack contract; rename known output aliases.

    Returns the renames made. Inputs must be the BERT trio (``token_type_ids``
    optional); anything else is refused, because feeding a graph by guessed
    names would silently give wrong answers.
    """
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in initializers]
    outputs = [o.name for o in graph.output]
    where = f"the repo's ONNX graph ({onnx_path.name})"
    unknown = [n for n in inputs if n not in ("input_ids", "attention_mask", "token_type_ids")]
    if unknown or "input_ids" not in inputs or "attention_mask" not in inputs:
        raise UserError(
            f"{where} has inputs {inputs}; a pack needs input_ids, attention_mask "
            "(and optionally token_type_ids)"
        )
    if sorted(outputs) == ["end_logits", "start_logits"]:
        return {}
    renames = {}
    for name in outputs:
        canonical = _canonical_output(name)
        if canonical:
            renames[name] = canonical
    if sorted(renames.values()) != ["end_logits", "start_logits"] or len(outputs) != 2:
        raise UserError(
            f"{where} has outputs {outputs}; a pack needs start_logits and end_logits "
            "(export the checkpoint with 'desktop-qa model build' instead)"
        )
    renames = {old: new for old, new in renames.items() if old != new}
    taken = {n for node in graph.node for n in node.output} | initializers | set(inputs)
    clash = [new for new in renames.values() if new in taken and new not in renames]
    if clash:
        raise UserError(f"{where} already uses the names {clash} for other values")
    for node in graph.node:
        node.output[:] = [renames.get(n, n) for n in node.output]
        node.input[:] = [renames.get(n, n) for n in node.input]
    for out in graph.output:
        out.name = renames.get(out.name, out.name)
    onnx.save(model, str(onnx_path))
    return renames


def is_quantized(onnx_path: Path) -> bool:
    """Whether the graph already holds quantized ops (then we do not quantize again)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    return any(node.op_type in _QUANTIZED_OPS for node in model.graph.node)
