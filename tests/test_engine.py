"""The one door: bounded reading, resuming to the whole document, keyword answers, the CLI flags."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from desktop_qa import cli
from desktop_qa.cli import main
from desktop_qa.core import Query, Reader, UserError, load_pack
from desktop_qa.core.reading import engine
from desktop_qa.core.reading import loop as qa
from desktop_qa.core.reading.query import DEFAULT_DEPTH
from desktop_qa.core.search.index import TOP_PASSAGES
from desktop_qa.core.storage import opening
from desktop_qa.core.system import paths
from tests.factset import generate

QUESTION = "What is the launch code of the Zephyr rocket?"


@pytest.fixture(scope="module")
def long_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 generated pages; the only "alpha ... bravo" span sits in one fact paragraph."""
    fd = generate(pages=40, facts=30)
    paragraphs = list(fd.paragraphs)
    paragraphs[123] += " The launch code of the Zephyr rocket is alpha seven bravo."
    path = tmp_path_factory.mktemp("docs") / "long.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


class Recorder:
    """Wraps a Reader's ``run`` to record which windows were read (passage, first and last
    offset: a short window around a sentence and a full window are different windows)."""

    def __init__(self, reader: Reader) -> None:
        self.windows: list[tuple[int, int, int]] = []
        real = reader.run

        def run(batch):  # type: ignore[no-untyped-def]
            self.windows.extend(
                (
                    w.passage,
                    int(w.offsets[w.context_mask][0, 0]),
                    int(w.offsets[w.context_mask][-1, 1]),
                )
                for w in batch
            )
            return real(batch)

        reader.run = run  # type: ignore[method-assign]


def run_all(scope, query: Query, reader, **kwargs):  # type: ignore[no-untyped-def]
    """(yielded snapshots, returned result) of one question."""
    steps = []
    gen = engine.answer(scope, query, reader, **kwargs)
    while True:
        try:
            steps.append(next(gen))
        except StopIteration as stop:
            return steps, stop.value


def test_bounded_read_answers_from_few_windows(long_text: Path, oracle_pack: Path):
    opened = opening.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    record = Recorder(reader)
    steps, ranked = run_all(opened, Query(QUESTION), reader)
    # The first snapshot, with answers, comes after one window (the best-matching one).
    assert steps[0].result is not None and steps[0].done == 1
    assert ranked.answers[0].text == "alpha seven bravo"
    assert ranked.mode == "reader" and not ranked.whole_document
    read = ranked.to_json()["read"]
    assert read["passages"] <= TOP_PASSAGES and read["windows"] == len(record.windows)
    assert read["total_passages"] == opened.total_passages > 10 * TOP_PASSAGES
    assert read["whole_document"] is False and ranked.to_json()["whole_document"] is False
    ranked_read = list(record.windows)
    record.windows.clear()
    steps_all, full = run_all(opened, Query(QUESTION, exhaustive=True), reader)
    assert full.answers[0].text == "alpha seven bravo" and full.whole_document
    assert len(ranked_read) < len(record.windows) / 10
    # Exhaustive reads the best-matching windows first, then every other one exactly once.
    assert record.windows[: len(ranked_read)] == ranked_read
    assert len(set(record.windows)) == len(record.windows)
    assert full.read.passages == full.read.total_passages == opened.total_passages
    # Many passages share a word with this one: the first step reads one window of
    # each of the 12 best, finds the answer, and stops there.
    record.windows.clear()
    wide = "What is the launch code of the Zephyr rocket in the warehouse report?"
    assert len(opened.search(wide, 100)) > 48
    _, stopped = run_all(opened, Query(wide), reader)
    assert stopped.answers[0].text == "alpha seven bravo"
    assert stopped.read.passages == stopped.read.windows == TOP_PASSAGES == len(record.windows)


def test_no_shared_word_is_a_bounded_no_answer(long_text: Path, oracle_pack: Path):
    """No passage shares a word with the question: nothing is read, and it says so."""
    opened = opening.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    record = Recorder(reader)
    steps, result = run_all(opened, Query("Xylophone quokka?"), reader)
    assert result.no_answer and not result.whole_document and record.windows == []
    assert result.read.passages == 0
    assert result.summary.startswith("No passage shares a word with your question")
    # Read the whole document on request: the answer is there.
    _, whole = run_all(opened, Query("Xylophone quokka?").deeper(), reader, resume=result)
    assert whole.answers[0].text == "alpha seven bravo" and whole.whole_document


def test_no_answer_in_the_ranking_stops_at_depth_and_resumes(long_text: Path, oracle_pack: Path):
    opened = opening.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    record = Recorder(reader)
    # Words of other facts rank other passages first; the answer is elsewhere.
    question = "warehouse lease delivery invoice?"
    matching = len(opened.search(question, 10_000))
    steps, bounded = run_all(opened, Query(question), reader)
    assert bounded.no_answer and not bounded.whole_document
    assert bounded.read.passages == min(DEFAULT_DEPTH, matching) < opened.total_passages
    assert bounded.summary == (
        f"No answer in the {bounded.read.passages} passages that best match your question "
        f"(of {opened.total_passages})."
    )
    assert bounded.to_json()["message"] == bounded.summary
    first = set(record.windows)
    assert len(first) == bounded.read.windows
    assert engine.whole_read_seconds(bounded) > 0
    # --depth bounds the reading.
    _, shallow = run_all(opened, Query(question, depth=TOP_PASSAGES + 3), reader)
    assert shallow.read.passages == TOP_PASSAGES + 3
    # "Read the whole document" goes on from the bounded result and reads no window twice.
    record.windows.clear()
    _, whole = run_all(opened, Query(question).deeper(), reader, resume=bounded)
    assert whole.whole_document and whole.answers[0].text == "alpha seven bravo"
    second = list(record.windows)
    assert not first & set(second) and len(set(second)) == len(second)
    record.windows.clear()
    _, scratch = run_all(opened, Query(question, exhaustive=True), reader)
    assert len(first) + len(second) == len(record.windows) == scratch.read.windows
    assert whole.read.windows == scratch.read.windows
    assert engine.whole_read_seconds(whole) is None


def test_a_yielded_result_never_changes_while_the_reading_goes_on(
    long_text: Path, oracle_pack: Path
):
    """Each result holds the reading state of its own moment: reading on leaves it as yielded,
    and resuming it goes on from there (not from wherever the reading got to later)."""
    opened = opening.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    question = "warehouse lease delivery invoice?"  # no answer where it ranks: reads deeper
    steps, bounded = run_all(opened, Query(question), reader)
    snapshots = [s.result for s in steps if s.result is not None]
    assert len(snapshots) >= 2 and snapshots[0].read.windows == 1 < bounded.read.windows
    for snapshot in [*snapshots, bounded]:
        assert snapshot.state.windows == snapshot.read.windows
        assert len(snapshot.state.read) == snapshot.read.passages
    first = snapshots[0]
    record = Recorder(reader)
    _, whole = run_all(opened, Query(question).deeper(), reader, resume=first)
    assert whole.whole_document and whole.answers[0].text == "alpha seven bravo"
    assert len(record.windows) == whole.read.windows - 1  # all but the one window first read
    assert first.state.windows == first.read.windows == 1  # resuming leaves it as it was
    assert bounded.state.windows == bounded.read.windows


def test_resume_ignores_a_result_of_another_question(long_text: Path, oracle_pack: Path):
    opened = opening.open_document(long_text)
    reader = Reader(load_pack(oracle_pack))
    _, other = run_all(opened, Query("warehouse lease delivery invoice?"), reader)
    _, result = run_all(opened, Query(QUESTION), reader, resume=other)
    assert result.read.passages <= TOP_PASSAGES  # a fresh reading, not the other's state


def test_short_document_is_read_whole(tmp_path: Path, oracle_pack: Path):
    path = tmp_path / "short.txt"
    path.write_text("Nothing matches here. The code is alpha one bravo.", encoding="utf-8")
    opened = opening.open_document(path)
    _, result = run_all(opened, Query("Xylophone?"), Reader(load_pack(oracle_pack)))
    assert result.answers[0].text == "alpha one bravo" and result.whole_document


def test_long_passage_is_read_first_where_the_question_words_are(tmp_path: Path):
    """A passage longer than a window: its best-matching window first, the rest only if needed."""
    from desktop_qa.packs.oracle import build_oracle_pack

    pack = build_oracle_pack(
        tmp_path / "oracle-384", max_seq_length=384, doc_stride=128, max_query_length=64
    )
    filler = " ".join(f"word{i}" for i in range(150))
    paragraphs = [f"The rocket {i} waits, then {filler} and a launch." for i in range(30)]
    paragraphs[7] = f"{filler} The launch code of the Zephyr rocket is alpha seven bravo."
    path = tmp_path / "long-passages.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    opened = opening.open_document(path)
    reader = Reader(load_pack(pack))
    record = Recorder(reader)
    _, result = run_all(opened, Query(QUESTION), reader)
    assert result.answers[0].text == "alpha seven bravo"
    # One window per ranked passage, although each is several windows long.
    passages = [p for p, _, _ in record.windows]
    assert len(passages) == len(set(passages)) == result.read.passages == TOP_PASSAGES
    ranked = opened.search(QUESTION, TOP_PASSAGES)
    windows = reader.windows(
        QUESTION, [(0, 0, opened.doc.text[r.passage.start : r.passage.end]) for r in ranked]
    )
    assert len(windows) >= 2 * TOP_PASSAGES


def test_keyword_mode_without_reader(long_text: Path):
    opened = opening.open_document(long_text)
    fact = generate(pages=40, facts=30).facts[5]
    result = engine.final(engine.answer(opened, Query(fact.question, top_k=TOP_PASSAGES), None))
    assert result.mode == "keyword" and result.to_json()["mode"] == "keyword"
    assert any(a.text == fact.sentence for a in result.answers)
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    best = result.answers[0]
    assert opened.doc.text[best.start : best.end] == best.text
    assert best.context[best.context_start : best.context_end] == best.text


def test_keyword_mode_on_pdf_has_pages_and_boxes(handbook_pdf: Path):
    opened = opening.open_document(handbook_pdf)
    result = engine.final(engine.answer(opened, Query("What is the launch code?"), None))
    best = result.answers[0]
    assert best.page == 41 and best.boxes
    assert all(box.page == best.page - 1 for box in best.boxes[:1])


@pytest.mark.parametrize("question", ['"x"', "NEAR(", "x*", "AND OR NOT", "a\x00b", "ü" * 300])
def test_keyword_mode_never_crashes(long_text: Path, question: str):
    """Question text is never FTS5 syntax."""
    opened = opening.open_document(long_text)
    result = engine.final(engine.answer(opened, Query(question), None))
    assert result.mode == "keyword"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"question": "   \n\t "}, "the question is empty"),
        ({"question": "?!"}, "the question is empty"),
        ({"question": "ok", "top_k": 0}, "--top-k must be between 1"),
        ({"question": "ok", "threshold": math.nan}, "--threshold must be a finite"),
        ({"question": "ok", "threshold": math.inf}, "--threshold must be a finite"),
        ({"question": "ok", "depth": 0}, "--depth must be"),
        ({"question": "caf\udce9?"}, "not valid UTF-8"),
    ],
)
def test_query_is_validated_once_at_the_door(kwargs, message):
    with pytest.raises(UserError) as caught:
        Query(**kwargs)
    assert message in cli.user_message(caught.value)  # the CLI's line, as it always was
    assert "--" not in caught.value.message  # the core quotes no flag


def test_query_normalises_the_question():
    query = Query("  When\tdoes the\x1b[2J lease\n end? ", threshold="1.5")  # type: ignore[arg-type]
    assert query.question == "When does the[2J lease end?" and query.threshold == 1.5


def test_collector_memory_is_bounded_and_probabilities_stay_right(monkeypatch):
    """Spans beyond the cap are folded into one log-sum-exp term: same probabilities."""
    rng = np.random.default_rng(0)
    windows = []
    for i in range(60):
        n = 40
        ids = np.arange(n)
        mask = np.ones(n, bool)
        mask[0] = False
        offsets = np.stack([ids * 10 + i * 1000, ids * 10 + i * 1000 + 5], axis=1)
        window = qa.Window(i, ids, np.ones(n, np.int64), mask, offsets)
        windows.append((window, rng.normal(size=n), rng.normal(size=n)))
    text = "abcde     " * 7_000  # a 5-letter word every 10 characters, one per token

    def collect(cap: int) -> qa._Collector:
        monkeypatch.setattr(qa, "SPAN_CAP", cap)
        collector = qa._Collector()
        for window, s, e in windows:
            collector.add(0, text, window, s, e, max_len=5)
        return collector

    full, small = collect(10**9), collect(50)
    assert len(full.spans) == 60 * qa.SPANS_PER_WINDOW
    assert len(small.spans) <= 2 * 50
    top = np.array([s for _, s in full.best(5)])
    assert [k for k, _ in small.best(5)] == [k for k, _ in full.best(5)]
    expected = qa.spans.softmax_of(top, full.population())
    got = qa.spans.softmax_of(top, small.population())
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_cli_without_pack_answers_by_keyword(long_text, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: tmp_path / "no-bundled")
    code = main(["ask", str(long_text), QUESTION, "--json"])
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


def test_cli_read_object_exhaustive_and_depth(long_text: Path, oracle_pack: Path, capsys):
    argv = ["ask", str(long_text), QUESTION, "--model", str(oracle_pack), "--json"]
    assert main(argv) == 0
    ranked = json.loads(capsys.readouterr()[0])
    assert main([*argv, "--exhaustive"]) == 0
    full = json.loads(capsys.readouterr()[0])
    assert ranked["whole_document"] is False and full["whole_document"] is True
    assert ranked["answers"][0]["text"] == full["answers"][0]["text"] == "alpha seven bravo"
    assert set(ranked["read"]) == {
        "passages",
        "windows",
        "total_passages",
        "whole_document",
        "documents",
    }
    assert ranked["read"]["windows"] < full["read"]["windows"]
    assert full["read"]["passages"] == full["read"]["total_passages"]
    none = ["ask", str(long_text), "warehouse lease delivery invoice?", "--model"]
    assert main([*none, str(oracle_pack), "--depth", "20"]) == 0
    out = capsys.readouterr()[0]
    assert "No answer in the 20 passages that best match your question (of " in out


def test_first_answer_comes_after_one_window_then_batches(long_text: Path, oracle_pack: Path):
    """The reading's very first window is read alone (first answer fast), then full batches."""
    opened = opening.open_document(long_text)
    reader = Reader(load_pack(oracle_pack), batch_size=4)
    batches: list[int] = []
    real = reader.run

    def run(batch):  # type: ignore[no-untyped-def]
        batches.append(len(batch))
        return real(batch)

    reader.run = run  # type: ignore[method-assign]
    # Many passages share its words: the first step reads one window of each of the 12 best.
    wide = "What is the launch code of the Zephyr rocket in the warehouse report?"
    steps, result = run_all(opened, Query(wide), reader)
    assert result.answers[0].text == "alpha seven bravo"
    assert result.read.windows == TOP_PASSAGES
    assert batches == [1, 4, 4, 3]
    assert [s.done for s in steps] == [1, 5, 9, 12]
    assert steps[0].result is not None  # answers so far, after the first window


def test_the_core_says_what_is_wrong_and_each_front_end_what_to_do():
    """One error, three wordings: the core's (no flag, no menu), the CLI's, the app's."""
    from desktop_qa.core.documents.ocr.pages import OcrOptions
    from desktop_qa.core.reading.query import MAX_TOP_K
    from desktop_qa.gui.messages import user_message as app_message

    with pytest.raises(UserError) as caught:
        Query("ok", top_k=0)
    top_k = caught.value
    assert top_k.message == f"the number of answers must be between 1 and {MAX_TOP_K} (got 0)"
    assert cli.user_message(top_k) == f"--top-k must be between 1 and {MAX_TOP_K} (got 0)"
    assert (
        app_message(top_k)
        == "Answers to list (Tools ▸ Settings) must be between 1 and 1000 (got 0)"
    )
    with pytest.raises(UserError) as caught:
        OcrOptions(mode="sometimes")
    mode = caught.value
    assert mode.message == "the OCR mode must be one of auto, never, always (got 'sometimes')"
    assert cli.user_message(mode) == "--ocr must be one of auto, never, always (got 'sometimes')"
    assert app_message(mode).startswith("OCR (Tools ▸ Settings ▸ OCR) must be one of")
