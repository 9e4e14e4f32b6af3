"""Engine facade: pre-ranked reading, exhaustive mode, keyword answers, the ask CLI flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core import Reader, engine, load_pack, paths
from desktop_qa.core.index import TOP_PASSAGES
from tests.factset import generate


@pytest.fixture(scope="module")
def long_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 generated pages; the only "alpha ... bravo" span sits in one fact paragraph."""
    fd = generate(pages=40, facts=30)
    paragraphs = list(fd.paragraphs)
    paragraphs[123] += " The launch code of the Zephyr rocket is alpha seven bravo."
    path = tmp_path_factory.mktemp("docs") / "long.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


def run_all(doc, question, reader, **kwargs):
    steps = list(engine.answer_iter(doc, question, reader, **kwargs))
    return steps, steps[-1].result


def test_prerank_reads_few_windows_and_finds_the_answer(long_text: Path, oracle_pack: Path):
    doc = engine.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    question = "What is the launch code of the Zephyr rocket?"
    steps, ranked = run_all(doc, question, reader)
    assert steps[0].result is not None  # the first batch already gives answers
    assert ranked.answers[0].text == "alpha seven bravo"
    assert ranked.whole_document is False and ranked.mode == "reader"
    assert ranked.to_json()["whole_document"] is False
    read: list[int] = []
    real_run = reader.run

    def recording_run(batch):
        read.extend(w.passage for w in batch)
        return real_run(batch)

    reader.run = recording_run  # type: ignore[method-assign]
    steps, _ = run_all(doc, question, reader)
    ranked_read = list(dict.fromkeys(read))
    read.clear()
    steps_all, full = run_all(doc, question, reader, exhaustive=True)
    assert full.answers[0].text == "alpha seven bravo" and full.whole_document is True
    assert steps[-1].total < steps_all[-1].total / 10
    # Exhaustive mode reads the pre-ranked passages first, then the rest once each.
    assert list(dict.fromkeys(read))[: len(ranked_read)] == ranked_read
    assert len(set(read)) == len(engine.document_index(doc).passages)
    assert steps_all[0].result is not None


def test_no_keyword_match_reads_the_whole_document(long_text: Path, oracle_pack: Path):
    """No passage shares a word with the question: "no answer" is only said after reading all."""
    doc = engine.open_document(long_text)
    steps, result = run_all(doc, "Xylophone quokka?", Reader(load_pack(oracle_pack)))
    assert result.answers[0].text == "alpha seven bravo" and result.whole_document is True
    assert steps[-1].total == steps[-1].done > TOP_PASSAGES


def test_ranked_passages_without_answer_escalate_to_the_whole_document(
    long_text: Path, oracle_pack: Path, tmp_path: Path
):
    doc = engine.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    # Words of other facts rank other passages first; the answer is elsewhere.
    _, ranked = run_all(doc, "What is the launch code of the Zephyr rocket?", reader)
    steps, result = run_all(doc, "warehouse lease delivery invoice?", reader)
    assert result.whole_document is True and result.answers[0].text == "alpha seven bravo"
    # The ranked pass's own final "no answer" is never passed on as if it were final.
    assert not [
        s
        for s in steps
        if s.result is not None
        and s.result.no_answer
        and not s.result.whole_document
        and s.done == s.total
    ]
    # A document without the answer: no_answer, after reading every window.
    plain = tmp_path / "plain.txt"
    plain.write_text(long_text.read_text("utf-8").replace("alpha seven bravo", "x"), "utf-8")
    doc2 = engine.open_document(plain)
    steps2, none = run_all(doc2, "What is the launch code of the Zephyr rocket?", reader)
    assert none.no_answer and none.whole_document is True
    assert (
        steps2[-1].done
        == steps2[-1].total
        == len(
            reader.windows(
                "What is the launch code of the Zephyr rocket?",
                [
                    (p.index, p.start, doc2.text[p.start : p.end])
                    for p in engine.document_index(doc2).passages
                ],
            )
        )
    )


def test_short_document_is_read_whole(tmp_path: Path, oracle_pack: Path):
    path = tmp_path / "short.txt"
    path.write_text("Nothing matches here. The code is alpha one bravo.", encoding="utf-8")
    doc = engine.open_document(path)
    _, result = run_all(doc, "Xylophone?", Reader(load_pack(oracle_pack)))
    assert result.answers[0].text == "alpha one bravo" and result.whole_document is True


def test_keyword_mode_without_reader(long_text: Path):
    doc = engine.open_document(long_text)
    fd = generate(pages=40, facts=30)
    fact = fd.facts[5]
    (step,) = engine.answer_iter(doc, fact.question, None, top_k=TOP_PASSAGES)
    result = step.result
    assert result.mode == "keyword" and result.to_json()["mode"] == "keyword"
    assert any(a.text == fact.sentence for a in result.answers)
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    best = result.answers[0]
    assert doc.text[best.start : best.end] == best.text
    assert best.context[best.context_start : best.context_end] == best.text


def test_keyword_mode_on_pdf_has_pages_and_boxes(handbook_pdf: Path):
    doc = engine.open_document(handbook_pdf)
    (step,) = engine.answer_iter(doc, "What is the launch code?", None)
    best = step.result.answers[0]
    assert best.page is not None and best.boxes
    assert all(box.page == best.page - 1 for box in best.boxes[:1])


@pytest.mark.parametrize("question", ['"', "NEAR(", "*", "AND OR NOT", "a\x00b", "ü" * 300])
def test_keyword_mode_never_crashes(long_text: Path, question: str):
    doc = engine.open_document(long_text)
    (step,) = engine.answer_iter(doc, question, None)
    assert step.result.mode == "keyword"


def test_cli_without_pack_answers_by_keyword(long_text, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: tmp_path / "no-bundled")
    code = main(["ask", str(long_text), "What is the launch code of the Zephyr rocket?", "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err.startswith("warning: no model pack installed") and err.count("\n") == 1
    result = json.loads(out)
    assert result["mode"] == "keyword"
    assert "alpha seven bravo" in result["answers"][0]["text"]


def test_cli_missing_explicit_pack_is_an_error(long_text, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: tmp_path / "no-bundled")
    assert main(["ask", str(long_text), "What?", "--model", str(tmp_path / "nope")]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("error: model pack") and err.count("\n") == 1


def test_cli_exhaustive_flag(long_text: Path, oracle_pack: Path, capsys):
    question = "What is the launch code of the Zephyr rocket?"
    assert main(["ask", str(long_text), question, "--model", str(oracle_pack), "--json"]) == 0
    ranked = json.loads(capsys.readouterr()[0])
    argv = ["ask", str(long_text), question, "--model", str(oracle_pack), "--json"]
    assert main([*argv, "--exhaustive"]) == 0
    full = json.loads(capsys.readouterr()[0])
    assert ranked["whole_document"] is False and full["whole_document"] is True
    assert ranked["answers"][0]["text"] == full["answers"][0]["text"] == "alpha seven bravo"
