"""Bounded reading, resuming, thresholds and keyword answers on a small document (fast).

36 passages, one window each, so every rule of ``engine.answer`` (first window
alone, the 12 best first, ``depth``, resuming without reading a window twice,
the no-answer decision) is checked in well under a second; these are also the
tests ``mutmut`` runs (docs/testing.md).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from desktop_qa.core import Cancelled, Query, Reader, UserError, load_pack
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.errors import PasswordRequired
from desktop_qa.core.reading import engine
from desktop_qa.core.reading.query import EMPTY_QUESTION, MAX_QUESTION_CHARS, MAX_TOP_K
from desktop_qa.core.reading.results import no_answer_text
from desktop_qa.core.search.index import TOP_PASSAGES
from desktop_qa.core.storage import cache, opening
from desktop_qa.core.system.files import sha256_file
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


ANSWER_AT = 5  # before the passages that match ELSEWHERE, so reading order shows


def _paragraph(i: int) -> str:
    """Over 600 characters (one passage) of single-token words (one window)."""
    words = " ".join(FILLER[(i + j) % len(FILLER)] for j in range(90))
    if i >= PASSAGES - MATCHING:
        head = f"Rocket launch code review {i}. The warehouse lease needs delivery invoice {i}. "
    elif i == ANSWER_AT:
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
    with opening.open_document(small_doc) as doc:
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
    assert (result.question, result.document) == (QUESTION, opened.name)
    # A test pack: never passed off as trained.
    assert (result.model_name, result.trained) == ("oracle-test", False)
    assert 0 < result.seconds < 60
    assert (
        result.best_guess == result.answers[0]
        and result.summary == f"{len(result.answers)} answers"
    )
    assert 0.5 < result.answers[0].probability <= 1.0
    # The rest of the document, at this reading's pace per passage.
    left = (PASSAGES - TOP_PASSAGES) * result.seconds / TOP_PASSAGES
    assert engine.whole_read_seconds(result) == pytest.approx(left)
    assert engine.whole_read_seconds(replace(result, seconds=0.0)) is None  # no pace to go by


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
    assert steps[-1].done == steps[-1].total == len(second)
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
    path.write_text("\n\n".join(_paragraph(i) for i in range(TOP_PASSAGES)), encoding="utf-8")
    with opening.open_document(path) as short:
        steps, result = run_all(short, Query("Xylophone?"), reader)  # shares no word
    assert result.answers[0].text == ANSWER and result.whole_document
    assert result.read.passages == result.read.windows == TOP_PASSAGES
    assert steps[-1].total == TOP_PASSAGES
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
    assert result.read.passages == min(engine.KEYWORD_PASSAGES, PASSAGES)
    assert result.read.windows == 0
    assert result.read.total_passages == PASSAGES and result.whole_document
    assert result.threshold == 0.0 and 0 < result.seconds < 60
    assert result.to_json()["model"] == {"name": "keyword index", "trained": False}
    assert result.to_json()["read"]["documents"] == 1
    probs = [a.probability for a in result.answers]
    # Issue 18: a keyword probability is the share of the question's words the passage holds,
    # independent of how many answers are listed.
    assert all(0.0 < p <= 1.0 for p in probs) and probs[0] == 1.0
    nothing = engine.final(engine.answer(opened, Query("Xylophone quokka?"), None))
    assert nothing.no_answer and nothing.answers == () and nothing.best_span_score is None


def test_a_document_indexed_in_memory_answers_as_when_opened(opened, reader):
    """``from_document`` (evaluation paragraphs, pasted text): the same passages, name and
    answer as the document opened from its file."""
    again = engine.OpenedDocument.from_document(opened.doc)
    assert again.index.passages == opened.index.passages and again.name == opened.name
    assert again.total_passages == PASSAGES and again.unanswerable is None
    query = Query(QUESTION, top_k=2)
    _, first = run_all(opened, query, reader)
    _, second = run_all(again, query, reader)
    assert [a.text for a in second.answers] == [a.text for a in first.answers]
    assert second.answers[0].text == ANSWER


def test_passages_of_many_windows_read_each_window_once(tmp_path: Path, oracle_pack: Path):
    """64-token windows: a passage is many windows; the window around the best sentence of
    each is read first, then those that sentence ran into and the deeper passages' best
    windows; reading on to the whole document reads each window exactly once."""
    path = tmp_path / "windows.txt"
    path.write_text(
        "\n\n".join(_paragraph(i) for i in [ANSWER_AT, *range(PASSAGES - 13, PASSAGES)]),
        encoding="utf-8",
    )
    reader = Reader(load_pack(oracle_pack), batch_size=4)
    seen: list[tuple[int, int]] = []
    real = reader.run

    def run(batch):  # type: ignore[no-untyped-def]
        seen.extend((w.passage, int(w.offsets[w.context_mask][0, 0])) for w in batch)
        return real(batch)

    reader.run = run  # type: ignore[method-assign]
    with opening.open_document(path) as doc:
        steps, bounded = run_all(doc, Query(ELSEWHERE), reader)
        assert bounded.no_answer and not bounded.whole_document
        first = list(seen)
        # One window of each of the 12 best passages first, then their other windows.
        assert len({p for p, _ in first[:TOP_PASSAGES]}) == TOP_PASSAGES
        # A bounded no-answer reads short windows (the best sentence's), not every window.
        assert bounded.read.passages == 13 and bounded.read.windows == len(first) < 13 * 3
        phase_two = [s for s in steps if s.done != 0][TOP_PASSAGES // 4 + 1 :]
        # Counted in passages (each may have several windows), out of those it covers:
        # the count ends at its total, never reaches it early ("8544 of 8544" from the start).
        covered = len({p for p, _ in first[TOP_PASSAGES:]})
        assert phase_two and phase_two[-1].total == covered
        assert phase_two[-1].done == covered and phase_two[0].done < covered
        # "Reading passage N of M" counts on through the deeper passages, never back.
        assert [s.done for s in phase_two] == sorted(s.done for s in phase_two)
        seen.clear()
        steps, whole = run_all(doc, Query(ELSEWHERE).deeper(), reader, resume=bounded)
        second = list(seen)
        assert whole.answers[0].text == ANSWER and whole.whole_document
        assert not set(first) & set(second) and len(set(second)) == len(second)
        # The whole read counts the passages not yet read in full, and ends at its total.
        assert steps[-1].done == steps[-1].total == len({p for p, _ in second})
        seen.clear()
        _, scratch = run_all(doc, Query(ELSEWHERE, exhaustive=True), reader)
        assert sorted(seen) == sorted(first + second) and len(set(seen)) == len(seen)
        assert scratch.read.windows == whole.read.windows == len(seen)


def test_reading_stops_when_cancelled(opened, reader):
    with pytest.raises(Cancelled):
        engine.final(engine.answer(opened, Query(QUESTION), reader, cancel=lambda: True))
    assert reader.batches == []  # type: ignore[attr-defined]


def test_second_open_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "doc.txt"
    path.write_text("\n\n".join(_paragraph(i) for i in range(PASSAGES)), encoding="utf-8")
    calls: list[tuple[int, int]] = []
    with opening.open_document(path, progress=lambda i, n: calls.append((i, n))) as doc:
        text, digest = doc.doc.text, doc.doc.content_hash
        assert doc.name == str(path) and doc.total_passages == PASSAGES
    assert digest == sha256_file(path) and cache.entry_path(digest).is_file()

    def no_reading(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the document was read again")

    monkeypatch.setattr(opening, "load_document", no_reading)
    calls.clear()
    with opening.open_document(path, progress=lambda i, n: calls.append((i, n))) as doc:
        assert doc.doc.text == text and doc.total_passages == PASSAGES
        assert doc.search(QUESTION, 1)[0].passage.index == ANSWER_AT
    assert calls == [(1, 1)]  # a text file: one step, done
    with pytest.raises(Cancelled):
        opening.open_document(path, cancel=lambda: True)
    # Other OCR settings, or other bytes, are read again.
    with pytest.raises(AssertionError, match="read again"):
        opening.open_document(path, ocr=OcrOptions(mode="never"))
    path.write_text("Changed. The code is alpha one bravo.", encoding="utf-8")
    with pytest.raises(AssertionError, match="read again"):
        opening.open_document(path)


def test_protected_text_is_cached_only_when_allowed(tmp_path: Path):
    path = tmp_path / "secret.pdf"
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "The code is alpha one bravo.")
    pdf.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="owner")
    pdf.close()
    digest = sha256_file(path)
    with opening.open_document(path, password="pw") as doc:
        assert "alpha one bravo" in doc.doc.text
    assert not cache.entry_path(digest).exists()
    with opening.open_document(path, password="pw", cache_protected=True):
        pass
    assert cache.entry_path(digest).is_file()
    with pytest.raises(PasswordRequired):
        opening.open_document(path)  # cached, and still needs its password
    with opening.open_document(path, password="pw"):  # no longer allowed: the entry goes
        pass
    assert not cache.entry_path(digest).exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"question": None}, EMPTY_QUESTION),
        ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, "the question is 2001 characters long"),
        ({"question": "ok", "top_k": MAX_TOP_K + 1}, "the number of answers must be between 1"),
        (
            {"question": "ok", "top_k": "3"},
            "the number of answers must be a whole number (got '3')",
        ),
        ({"question": "ok", "top_k": True}, "the number of answers must be a whole number"),
        ({"question": "ok", "depth": True}, "the reading depth must be a whole number"),
        ({"question": "ok", "depth": "2"}, "the reading depth must be a whole number"),
        ({"question": "ok", "threshold": "high"}, "the no-answer threshold must be a number"),
        (
            {"question": "caf\udce9?"},
            "the question is not valid UTF-8 text; type it again or check your terminal's encoding",
        ),
    ],
)
def test_query_refuses_what_it_cannot_read(kwargs, message):  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as caught:
        Query(**kwargs)
    assert caught.value.message.startswith(message)


def test_query_accepts_its_bounds():
    """The limits a user is told are the limits: each bound itself is accepted."""
    assert Query("x" * MAX_QUESTION_CHARS).question == "x" * MAX_QUESTION_CHARS
    assert Query("ok", top_k=1).top_k == 1 and Query("ok", top_k=MAX_TOP_K).top_k == MAX_TOP_K
    assert Query("ok", depth=1).depth == 1
    assert Query("ok", exhaustive=1).exhaustive is True  # type: ignore[arg-type]


def test_passages_read_only_in_short_windows_are_not_read_in_full(tmp_path: Path, pack_384):
    """A bounded read of every passage's short window (192 tokens of passages of about 260)
    leaves the scope not read in full: the whole read is still to do, estimated as such,
    and resuming it reads each passage's full window, where the answer is."""
    short = "city data name june july".split()

    def paragraph(i: int) -> str:
        words = " ".join(short[(i + j) % len(short)] for j in range(200))
        tail = f" The launch code of the Zephyr rocket is {ANSWER}." if i == 3 else ""
        return f"The warehouse lease needs delivery invoice {i}. {words}.{tail}"

    count = TOP_PASSAGES + 6
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(paragraph(i) for i in range(count)), encoding="utf-8")
    reader = Reader(load_pack(pack_384), batch_size=4)
    seen: list[tuple[int, int]] = []
    real = reader.run

    def run(batch):  # type: ignore[no-untyped-def]
        seen.extend((w.passage, len(w.ids)) for w in batch)
        return real(batch)

    reader.run = run  # type: ignore[method-assign]
    with opening.open_document(path) as doc:
        assert doc.total_passages == count
        steps, bounded = run_all(doc, Query(ELSEWHERE, depth=count), reader)
        # Every passage read, each in one short window that does not reach the answer.
        assert bounded.read.passages == bounded.read.windows == count == len(seen)
        assert {n for _, n in seen} == {192}
        assert bounded.no_answer and not bounded.whole_document
        assert bounded.state is not None and len(bounded.state.read) == count
        # Phase one the 12 best passages, phase two the other six: each step says its total.
        assert [(s.done, s.total) for s in steps] == [
            (1, 12),
            (5, 12),
            (9, 12),
            (12, 12),
            (4, 6),
            (6, 6),
        ]
        estimate = engine.whole_read_seconds(bounded)
        assert estimate is not None and estimate > 0  # every passage is left to read in full
        seen.clear()
        steps, whole = run_all(doc, Query(ELSEWHERE).deeper(), reader, resume=bounded)
        assert len(seen) == count and all(n > 192 for _, n in seen)
        assert whole.whole_document and whole.answers[0].text == ANSWER
        assert steps[-1].done == steps[-1].total == count
        assert whole.read.windows == 2 * count and engine.whole_read_seconds(whole) is None
