"""Export path: random and checkpoint packs through the real ONNX export and int8 quantization.

Mechanics only (the weights are random): graph signature, manifest, the
agreement report, and that the app's loader and reader accept the result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="export tests need torch (the export extra)")
transformers = pytest.importorskip(
    "transformers", reason="export tests need transformers (the export extra)"
)
onnx = pytest.importorskip("onnx", reason="export tests need onnx (the export extra)")

from desktop_qa.core.errors import UserError  # noqa: E402
from desktop_qa.core.reading.pack import REQUIRED_INPUTS, REQUIRED_OUTPUTS, load_pack  # noqa: E402
from desktop_qa.packs import export, quantize  # noqa: E402
from desktop_qa.packs.vocab import base_vocab  # noqa: E402


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("packs") / "tiny"
    return export.build_random_pack("tiny", out, seed=0, keep_fp32=True)


def test_tiny_pack_signature_and_manifest(tiny_pack: Path) -> None:
    model = onnx.load(str(tiny_pack / "model.onnx"))
    inputs = {i.name: i for i in model.graph.input}
    assert sorted(inputs) == sorted(REQUIRED_INPUTS)
    assert [o.name for o in model.graph.output] == list(REQUIRED_OUTPUTS)
    for value in inputs.values():
        tensor = value.type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in tensor.shape.dim] == ["batch", "sequence"]
    assert not any(p.suffix == ".data" for p in tiny_pack.iterdir()), "external data written"
    assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeLinear") for n in model.graph.node)

    pack = load_pack(tiny_pack)
    assert pack.trained is False
    assert "UNTRAINED" in pack.describe()
    assert pack.quantization == "int8-dynamic"
    assert pack.architecture == "mobilebert"
    assert (pack.max_seq_length, pack.doc_stride, pack.max_answer_length) == (384, 128, 30)
    assert "seed 0" in pack.source and "tiny" in pack.source
    assert pack.license == "AGPL-3.0-or-later (generated)"
    assert not list(tiny_pack.parent.glob(".tiny-*")), "temporary build folder left behind"


def test_agreement_measures_drift(tiny_pack: Path) -> None:
    """A graph agrees with itself exactly; int8 drifts a little and mostly agrees."""
    fp32, int8, tok = (tiny_pack / n for n in ("model.fp32.onnx", "model.onnx", "tokenizer.json"))
    same = quantize.agreement(fp32, fp32, tok, samples=10, max_seq_length=128)
    assert same == {
        "max_logit_diff": 0.0,
        "mean_logit_diff": 0.0,
        "best_span_agreement": 1.0,
        "samples": 10,
    }
    report = quantize.agreement(fp32, int8, tok, samples=10, max_seq_length=128)
    assert 0.0 < report["mean_logit_diff"] <= report["max_logit_diff"] < 1.0
    assert report["best_span_agreement"] >= 0.5


def test_checkpoint_with_vocab_txt_only(tmp_path: Path) -> None:
    torch.manual_seed(1)
    config = transformers.MobileBertConfig(**export.RANDOM_CONFIGS["tiny"])
    model = transformers.MobileBertForQuestionAnswering(config)
    ckpt = tmp_path / "tiny-squad2"
    model.save_pretrained(ckpt)
    (ckpt / "vocab.txt").write_text("\n".join(base_vocab()) + "\n", encoding="utf-8")
    (ckpt / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    (ckpt / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\n", encoding="utf-8")
    assert not (ckpt / "tokenizer.json").exists()

    pack_dir, report = export.build_pack_from_checkpoint(ckpt, tmp_path / "pack", samples=8)
    pack = load_pack(pack_dir)
    assert pack.trained is True
    assert pack.quantization == "int8-dynamic"
    assert pack.license == "apache-2.0"
    assert pack.source == str(ckpt.resolve())
    assert pack.extra["agreement"] == report
    assert report["samples"] == 8
    assert not (pack_dir / "model.fp32.onnx").exists()

    from tokenizers import Tokenizer

    enc = Tokenizer.from_file(str(pack.tokenizer_path)).encode("When?", "The Lease")
    assert enc.tokens[0] == "[CLS]" and "lease" in enc.tokens


def test_missing_checkpoint_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        export.build_pack_from_checkpoint(tmp_path / "nowhere", tmp_path / "pack")


def test_non_qa_checkpoint_is_a_user_error(tmp_path: Path) -> None:
    config = transformers.MobileBertConfig(**export.RANDOM_CONFIGS["tiny"])
    ckpt = tmp_path / "base"
    transformers.MobileBertModel(config).save_pretrained(ckpt)
    with pytest.raises(UserError, match="question-answering"):
        export.build_pack_from_checkpoint(ckpt, tmp_path / "pack")
    assert not (tmp_path / "pack").exists()


def test_tiny_pack_answers_through_the_app(tiny_pack: Path) -> None:
    """The app's answer is the best span of the exported graph's own logits."""
    import numpy as np

    from desktop_qa.core import Document, Reader
    from desktop_qa.core.reading import spans
    from desktop_qa.core.reading.loop import snap_to_words
    from tests.asking import ask_text

    text = (
        "The lease term begins on the first of March. The tenant shall pay the rent "
        "to the landlord on the first Monday of each month."
    )
    question = "When does the lease begin?"
    reader = Reader(load_pack(tiny_pack))
    result = ask_text(Document.from_text(text), question, reader, top_k=3)
    assert result.trained is False and result.model_name == reader.pack.name
    (window,) = reader.windows(question, [(0, 0, text)])
    start, end = (logits[0] for logits in reader.run([window]))
    s, e, score = spans.top_spans(start, end, window.context_mask, 30, k=20)[0]
    a, b = snap_to_words(text, int(window.offsets[s, 0]), int(window.offsets[e, 1]))
    guess = result.best_guess
    assert guess is not None and (guess.start, guess.end, guess.text) == (a, b, text[a:b])
    assert np.isclose(guess.score, score)
    null = spans.null_score(start, end)
    assert result.null_score == null
    assert result.no_answer == (score - null <= reader.pack.null_threshold)


def test_bottleneck_no_norms_fold_exactly(tmp_path: Path) -> None:
    model = export.random_model("tiny", seed=1)
    gen = torch.Generator().manual_seed(1)
    norms = [m for m in model.modules() if type(m).__name__ == "NoNorm"]
    with torch.no_grad():  # trained-looking NoNorms: untrained ones are x * 1 + 0
        for norm in norms:
            norm.weight.copy_(torch.rand(norm.weight.shape, generator=gen) * 2 + 0.1)
            norm.bias.copy_(torch.randn(norm.bias.shape, generator=gen))
    before = [n.weight.clone() for n in norms]
    path = export.export_onnx(model, tmp_path / "m.onnx", atol=1e-4)  # verified against model
    assert all(torch.equal(n.weight, b) for n, b in zip(norms, before, strict=True))
    muls = [n for n in onnx.load(str(path)).graph.node if n.op_type == "Mul"]
    layers = model.config.num_hidden_layers
    folded = sum(1 for m in model.modules() if type(m).__name__ == "BottleneckLayer")
    assert folded == 2 * layers
    assert len([n for n in muls if "LayerNorm" in n.name]) == len(norms) - folded
