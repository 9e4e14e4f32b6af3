"""Bounded reading, resuming, thresholds and keyword answers on a small document (fast).

36 passages, one window each, so every rule of ``engine.answer`` (first window
alone, the 12 best first, ``depth``, resuming without reading a window twice,
the no-answer decision) is checked in well under a second; these are also the
tests ``mutmut`` runs (docs/testing.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_qa.core import Query, Reader, engine, load_pack
from desktop_qa.core.index import TOP_PASSAGES
from desktop_qa.core.results import no_answer_text
from desktop_qa.packs.oracle import build_oracle_pack

QUESTION = "What is the launch code of the Zephyr rocket?"
ELSEWHERE = "warehouse lease delivery invoice?"  # 20 passages share its words, not the answer's
PASSAGES = 36
MATCHING = 20
ANSWER = "alpha seven bravo"


FILLER = (
    "city river mountain capital table figure data system value number name monday tuesday "
    "wednesday thursday friday saturday sunday january february march april june july august"
).split()


def _paragraph(i: int) -> str:
    """Over 600 characters (one passage) of single-token words (one window)."""
    words = " ".join(FILLER[(i + j) % len(FILLER)] for j in range(90))
    if i < MATCHING:
        head = f"Rocket launch code review {i}. The warehouse lease needs delivery invoice {i}. "
    elif i == 30:
        head = f"The launch code of the Zephyr rocket is {ANSWER}. "
    else:
        head = f"Section {i} covers other matters. "
    return head + words + "."


@pytest.fixture(scope="module")
def small_doc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "small.txt"
    path.write_text("\n\n".join(_paragraph(i) for i in range(PASSAGES)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def opened(small_doc: Path):  # type: ignore[no-untyped-def]
    with engine.open_document(small_doc) as doc:
        assert doc.total_passages == PASSAGES
        yield doc


@pytest.fixture(scope="module")
def pack_384(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The oracle pack with 384-token windows: one window a passage here."""
    return build_oracle_pack(
        tmp_path_factory.mktemp("packs") / "oracle-384",
        max_seq_length=384,
        doc_stride=128,
        max_query_length=64,
    )


@pytest.fixture
def reader(pack_384: Path) -> Reader:
    """The oracle ("alpha" starts, "bravo" ends: span 20, null 10), recording each batch."""
    reader = Reader(load_pack(pack_384), batch_size=4)
    reader.batches = []  # type: ignore[attr-defined]
    real = reader.run

    def run(batch):  # type: ignore[no-untyped-def]
        reader.batches.append([(w.passage, int(w.offsets[w.context_mask][0, 0])) for w in batch])  # type: ignore[attr-defined]
        return real(batch)

    reader.run = run  # type: ignore[method-assign]
    return reader


def windows_read(reader: Reader) -> list[tuple[int, int]]:
    return [w for batch in reader.batches for w in batch]  # type: ignore[attr-defined]


def run_all(scope, query: Query, reader, **kwargs):  # type: ignore[no-untyped-def]
    """(yielded snapshots, returned result) of one question."""
    steps = []
    gen = engine.answer(scope, query, reader, **kwargs)
    while True:
        try:
            steps.append(next(gen))
        except StopIteration as stop:
            return steps, stop.value


def test_first_window_alone_then_batches_and_stop_at_the_best_passages(opened, reader):
    steps, result = run_all(opened, Query(QUESTION), reader)
    assert [len(b) for b in reader.batches] == [1, 4, 4, 3]
    assert [s.done for s in steps] == [1, 5, 9, 12]
    first = steps[0].result
    assert first is not None and first.answers[0].text == ANSWER  # the best passage, read first
    assert result.answers[0].text == ANSWER and not result.no_answer
    assert result.read.passages == result.read.windows == TOP_PASSAGES
    assert result.read.total_passages == PASSAGES and not result.whole_document
    assert result.null_score == 10.0 and result.best_span_score == 20.0
    assert (
        result.best_guess == result.answers[0]
        and result.summary == f"{len(result.answers)} answers"
    )
    assert 0.5 < result.answers[0].probability <= 1.0
    assert engine.whole_read_seconds(result) > 0


def test_no_answer_in_the_ranking_reads_to_depth_then_resumes_to_the_whole(opened, reader):
    steps, bounded = run_all(opened, Query(ELSEWHERE), reader)
    assert bounded.no_answer and bounded.answers == () and not bounded.whole_document
    assert bounded.read.passages == bounded.read.windows == MATCHING
    # Phase two: the ranked passages after the 12 best, each counted once.
    assert steps[-1].done == steps[-1].total == MATCHING - TOP_PASSAGES
    assert bounded.summary == (
        f"No answer in the {MATCHING} passages that best match your question (of {PASSAGES})."
    )
    assert bounded.to_json()["message"] == bounded.summary
    first = windows_read(reader)
    assert len(set(first)) == MATCHING
    reader.batches.clear()  # type: ignore[attr-defined]
    _, shallow = run_all(opened, Query(ELSEWHERE, depth=TOP_PASSAGES + 3), reader)
    assert shallow.read.passages == TOP_PASSAGES + 3 and shallow.no_answer
    reader.batches.clear()  # type: ignore[attr-defined]
    steps, whole = run_all(opened, Query(ELSEWHERE).deeper(), reader, resume=bounded)
    assert whole.whole_document and whole.answers[0].text == ANSWER
    second = windows_read(reader)
    assert len(second) == PASSAGES - MATCHING and not set(first) & set(second)
    assert steps[-1].done == len(second)
    assert whole.read.passages == whole.read.windows == PASSAGES
    assert engine.whole_read_seconds(whole) is None
    # The whole document from scratch: every window once, best-matching ones first.
    reader.batches.clear()  # type: ignore[attr-defined]
    _, scratch = run_all(opened, Query(ELSEWHERE, exhaustive=True), reader)
    every = windows_read(reader)
    assert len(every) == len(set(every)) == PASSAGES == scratch.read.windows
    assert set(every[:MATCHING]) == set(first) and scratch.whole_document


def test_a_yielded_result_keeps_its_state_and_resumes_from_it(opened, reader):
    steps, bounded = run_all(opened, Query(ELSEWHERE), reader)
    snapshots = [s.result for s in steps if s.result is not None]
    early = snapshots[0]
    assert early.read.windows == early.state.windows == 1 < bounded.read.windows
    assert len(early.state.read) == early.read.passages == 1
    reader.batches.clear()  # type: ignore[attr-defined]
    _, whole = run_all(opened, Query(ELSEWHERE, exhaustive=True), reader, resume=early)
    assert len(windows_read(reader)) == PASSAGES - 1 and whole.whole_document
    assert early.state.windows == early.read.windows == 1  # resuming copies, never changes it
    assert bounded.state.windows == bounded.read.windows == MATCHING


def test_a_result_of_another_question_is_not_resumed(opened, reader):
    _, other = run_all(opened, Query(ELSEWHERE), reader)
    reader.batches.clear()  # type: ignore[attr-defined]
    _, result = run_all(opened, Query(QUESTION), reader, resume=other)
    assert result.read.windows == len(windows_read(reader)) == TOP_PASSAGES


def test_no_shared_word_reads_nothing_and_says_so(opened, reader):
    _, result = run_all(opened, Query("Xylophone quokka?"), reader)
    assert result.no_answer and result.read.passages == result.read.windows == 0
    assert reader.batches == [] and result.null_score is None and result.best_guess is None
    assert result.summary == no_answer_text(result.read)
    assert result.summary.startswith("No passage shares a word with your question (of 36)")
    _, whole = run_all(opened, Query("Xylophone quokka?").deeper(), reader, resume=result)
    assert whole.answers[0].text == ANSWER and whole.whole_document
    assert whole.summary == f"{len(whole.answers)} answers"


def test_threshold_decides_no_answer_at_the_margin(opened, reader):
    """``--threshold``: answer only when span score minus null score is above it."""
    at = engine.final(engine.answer(opened, Query(QUESTION, threshold=10.0), reader))
    assert at.no_answer and at.answers == () and at.threshold == 10.0
    assert at.best_guess is not None and at.best_guess.text == ANSWER  # still shown greyed
    below = engine.final(engine.answer(opened, Query(QUESTION, threshold=9.5), reader))
    assert not below.no_answer and below.answers[0].text == ANSWER
    default = engine.final(engine.answer(opened, Query(QUESTION), reader))
    assert default.threshold == 0.0  # the pack's


def test_probabilities_are_softmax_over_every_candidate_and_the_null(opened, reader):
    result = engine.final(engine.answer(opened, Query(QUESTION, top_k=3), reader))
    assert len(result.answers) == 3
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True) and scores[0] == 20.0
    probs = [a.probability for a in result.answers]
    assert all(0 < p < 1 for p in probs) and sum(probs) < 1.0
    # Softmax: probability ratios are exp(score differences).
    assert np.isclose(probs[0] / probs[1], np.exp(scores[0] - scores[1]))


def test_short_scope_is_read_whole_at_once(tmp_path: Path, reader):
    path = tmp_path / "short.txt"
    path.write_text("\n\n".join(_paragraph(i) for i in range(25, 31)), encoding="utf-8")
    with engine.open_document(path) as short:
        steps, result = run_all(short, Query("Xylophone?"), reader)
    assert result.answers[0].text == ANSWER and result.whole_document
    assert result.read.passages == result.read.windows == 6
    assert steps[-1].total == 6
    assert result.summary == f"{len(result.answers)} answers"


def test_keyword_answers_without_a_pack(opened):
    result = engine.final(engine.answer(opened, Query(QUESTION, top_k=4), None))
    assert result.mode == "keyword" and result.model_name == engine.KEYWORD_MODEL_NAME
    assert not result.trained and not result.no_answer and result.null_score is None
    assert len(result.answers) == 4 and result.candidates == result.answers
    best = result.answers[0]
    assert best.text == f"The launch code of the Zephyr rocket is {ANSWER}."
    assert result.best_span_score == best.score > result.answers[1].score > 0
    assert result.question == QUESTION and result.document == opened.name
    assert result.read.passages == 4 and result.read.windows == 0
    assert result.read.total_passages == PASSAGES and result.whole_document
    assert result.threshold == 0.0 and result.seconds >= 0
    probs = [a.probability for a in result.answers]
    assert np.isclose(sum(probs), 1.0)
    nothing = engine.final(engine.answer(opened, Query("Xylophone quokka?"), None))
    assert nothing.no_answer and nothing.answers == () and nothing.best_span_score is None
