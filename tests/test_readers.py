"""Readers beyond BERT: a RoBERTa-family pack (byte-level BPE, no type ids) answers.

The packs are random-initialised through the real export path (``model build
--random-init tiny-roberta``, ``packs.export``), with a byte-level BPE trained
on the fly; the download path is run against a local stand-in for the hub with
a RoBERTa checkpoint that ships ``vocab.json`` + ``merges.txt``, as
deepset/tinyroberta-squad2 does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desktop_qa import cli
from desktop_qa.core import Reader, load_pack
from desktop_qa.packs import download
from tests.asking import ask_text

pytest.importorskip("torch")
pytest.importorskip("transformers")

CONTEXT = (
    "The museum opened in 1921. Its first director was Maria Lopez, who ran it for "
    "thirty years before retiring to Lisbon."
)
QUESTION = "Who was the first director of the museum?"


@pytest.fixture(scope="module")
def roberta_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model build --random-init tiny-roberta``: the CLI's real export and int8 path."""
    out = tmp_path_factory.mktemp("packs") / "tiny-roberta"
    assert cli.main(["model", "build", "--random-init", "tiny-roberta", str(out), "--json"]) == 0
    return out


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_roberta_pack_is_byte_level_bpe_without_type_ids(roberta_pack: Path) -> None:
    """The premise: its pair encodings give every token type 0, as RoBERTa's do."""
    pack = load_pack(roberta_pack)
    assert pack.architecture == "roberta" and not pack.trained
    reader = Reader(pack)
    enc = reader.tokenizer.encode(QUESTION, CONTEXT)
    assert set(enc.type_ids) == {0}
    assert enc.tokens[0] == "<s>" and "Ġdirector" in enc.tokens  # byte-level BPE
    assert "token_type_ids" not in reader.input_names
    assert 0.0 <= pack.extra["agreement"]["best_span_agreement"] <= 1.0


@pytest.mark.parametrize("kind", ["roberta", "bert"])
def test_context_mask_is_the_passage_whatever_the_tokenizer(
    kind: str, roberta_pack: Path, oracle_pack: Path
) -> None:
    """Exactly the passage's tokens are context: no question token, no special token."""
    reader = Reader(load_pack(roberta_pack if kind == "roberta" else oracle_pack))
    passage = "Its first director was Maria Lopez."
    offset = 1000
    (window,) = reader.windows("Who ran it?", [(0, offset, passage)])
    alone = reader.tokenizer.encode(passage, add_special_tokens=False).ids
    assert window.ids[window.context_mask].tolist() == alone
    first, last = np.flatnonzero(window.context_mask)[[0, -1]]
    assert last - first + 1 == len(alone)  # one run, nothing of the question inside
    assert window.offsets[first, 0] == offset
    assert window.offsets[last, 1] == offset + len(passage)


def test_a_roberta_pack_answers_from_the_passage(roberta_pack: Path) -> None:
    reader = Reader(load_pack(roberta_pack))
    result = ask_text(CONTEXT, QUESTION, reader, threshold=-1e9, top_k=3)
    assert not result.no_answer and result.answers
    for answer in result.answers:
        assert answer.text and answer.text in CONTEXT
        assert CONTEXT[answer.start : answer.end] == answer.text


def test_ask_with_a_roberta_pack_end_to_end(
    roberta_pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "museum.txt"
    doc.write_text(CONTEXT + "\n", encoding="utf-8")
    argv = ["ask", str(doc), QUESTION, "--model", str(roberta_pack), "--json"]
    code, out, err = _run([*argv, "--threshold", "-1e9"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["model"]["trained"] is False
    assert result["answers"] and result["answers"][0]["text"] in CONTEXT
    assert result["answers"][0]["start"] >= 0


def test_download_accepts_a_roberta_checkpoint_with_vocab_json_and_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deepset/tinyroberta-squad2's layout: weights, config, vocab.json + merges.txt.

    The download's built-in check asks a question: a reader that finds the context
    by type ids refused this pack as "returns no answer span".
    """
    from desktop_qa.packs.download import download_pack
    from desktop_qa.packs.export import random_model
    from desktop_qa.packs.vocab import train_byte_level_bpe
    from tests.test_model_commands import FolderHub

    monkeypatch.setattr(
        "desktop_qa.core.system.paths.bundled_models_dir", lambda: tmp_path / "none"
    )
    hub = FolderHub(tmp_path / "hub")
    repo = hub.root / "deepset" / "tinyroberta-squad2"
    random_model("tiny-roberta", 0).save_pretrained(repo)
    tok = tmp_path / "tokenizer.json"
    train_byte_level_bpe([CONTEXT, QUESTION] * 3, tok, 1000, min_frequency=1)
    model = json.loads(tok.read_text(encoding="utf-8"))["model"]
    (repo / "vocab.json").write_text(json.dumps(model["vocab"]), encoding="utf-8")
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    (repo / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
    (repo / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n", encoding="utf-8")

    pack = download_pack("deepset/tinyroberta-squad2", hub=hub)
    assert "vocab.json" in hub.fetched and "merges.txt" in hub.fetched
    assert pack.architecture == "roberta" and pack.license == "cc-by-4.0"
    assert pack.extra["validation"]["best_guess"]
    assert pack.extra["validation"]["best_guess"] in download.VALIDATION_CONTEXT


def test_model_download_list_names_the_recommended_packs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(["model", "download", "--list"], capsys)
    assert code == 0 and not err
    for repo in (
        "csarron/mobilebert-uncased-squad-v2",
        "deepset/minilm-uncased-squad2",
        "deepset/tinyroberta-squad2",
    ):
        assert repo in out
    assert "(default)" in out.splitlines()[1]  # MobileBERT, listed first
    code, out, _ = _run(["model", "download", "--list", "--json"], capsys)
    rows = json.loads(out)["recommended"]
    assert [r["repo_id"] for r in rows][0] == download.DEFAULT_REPO
    for row in rows:
        assert row["license"] and row["squad2_f1"] > 70 and row["size_mb"] > 0
        assert row["answer_s_on_book"] > 0 and row["architecture"]
    code, _, err = _run(["model", "download", "some/repo", "--list"], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_random_roberta_build_refuses_a_wordpiece_vocab_or_a_bad_tokenizer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One error line each, before any export, and nothing left behind."""
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nword\n", encoding="utf-8")
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json", encoding="utf-8")
    big = tmp_path / "big.json"
    from desktop_qa.packs.vocab import base_vocab, pad_vocab, write_tokenizer

    write_tokenizer(pad_vocab(base_vocab(), 1500), big)  # 1,500 entries for a 1,000 config
    cases = [
        (["--vocab", str(vocab)], "tokenizes with byte-level BPE, not a WordPiece vocab.txt"),
        (["--tokenizer", str(bad)], "cannot read tokenizer"),
        (["--vocab", str(vocab), "--tokenizer", str(big)], "not both"),
        (["--tokenizer", str(big)], "has 1,500 entries but this model config has 1,000"),
    ]
    for extra, words in cases:
        out = tmp_path / "out"
        code, _, err = _run(
            ["model", "build", "--random-init", "tiny-roberta", *extra, str(out)], capsys
        )
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
        assert words in lines[0], lines[0]
        assert not out.exists()
