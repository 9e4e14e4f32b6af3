"""The "read the whole document" estimate counts the tokens the rest really has."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from desktop_qa.core.reading import engine
from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.reader import Reader
from desktop_qa.core.storage import opening
from tests.factset import generate


def test_the_estimate_counts_several_windows_a_passage(tmp_path: Path, oracle_pack: Path):
    """Passages here are many windows each (the oracle pack reads 64 tokens at a time), and a
    quick answer read only a short window of each top passage: the model tokens the estimate
    counts on come within 2x of those the whole read feeds (counting a window a passage,
    it was 2.8x short on *Free Culture*; counting 384-token windows, 3x short here)."""
    paragraphs = list(generate(pages=40, facts=30).paragraphs)
    paragraphs[123] += " The launch code of the Zephyr rocket is alpha seven bravo."
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    opened = opening.open_document(path)
    reader = Reader(load_pack(oracle_pack))
    for question in ("What is the launch code of the Zephyr rocket?", "warehouse lease invoice?"):
        bounded = engine.final(engine.answer(opened, Query(question), reader))
        assert not bounded.whole_document
        seconds = engine.whole_read_seconds(bounded)
        assert seconds is not None
        # The model tokens counted on, at the pace the estimate assumes (seconds per token).
        assert bounded.state is not None and bounded.state.tokens > 0
        predicted = seconds * bounded.state.tokens / bounded.seconds
        rest = engine.answer(opened, Query(question).deeper(), reader, resume=bounded)
        whole = engine.final(rest)
        assert whole.state is not None
        actual = whole.state.tokens - bounded.state.tokens
        assert opened.total_passages * 2 < whole.read.windows  # several windows a passage
        assert 0.5 <= predicted / actual <= 2.0, (question, predicted, actual)
        # Down to a number of passages (the library's deeper read): fewer windows.
        deeper = engine.whole_read_seconds(bounded, passages=bounded.read.passages * 2)
        assert deeper is not None and deeper < seconds


def test_the_library_read_more_estimate_counts_short_windows_down_the_ranking(
    tmp_path: Path, oracle_pack: Path
):
    """The library's "Read more" reads the same short window of each passage four times
    deeper down the ranking: the estimate counts one such window for each passage not seen
    yet (in full windows of 64 tokens it counted several a passage, over 2x the time)."""
    paragraphs = list(generate(pages=40, facts=30).paragraphs)
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    opened = opening.open_document(path)
    reader = Reader(load_pack(oracle_pack))
    query = Query("warehouse lease invoice?", depth=24)
    bounded = engine.final(engine.answer(opened, query, reader))
    assert bounded.no_answer and not bounded.whole_document
    deeper = replace(query, depth=query.depth * 4)
    seconds = engine.whole_read_seconds(bounded, passages=deeper.depth)
    assert seconds is not None
    predicted = seconds * bounded.read.windows / bounded.seconds  # windows, at that pace
    more = engine.final(engine.answer(opened, deeper, reader, resume=bounded))
    actual = more.read.windows - bounded.read.windows
    assert more.read.passages > bounded.read.passages and actual > 0
    assert 0.5 <= predicted / actual <= 2.0, (predicted, actual)


def test_the_estimate_is_the_pace_times_the_passages_left(tmp_path: Path, oracle_pack: Path):
    """Twice the time so far, twice the estimate; half the passages left, half of it; nothing
    left (or nothing to measure by), no estimate; without a reading's figures, the passages
    left at the seconds each read passage took."""
    from dataclasses import replace

    paragraphs = list(generate(pages=10, facts=8).paragraphs)
    path = tmp_path / "short.txt"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    opened = opening.open_document(path)
    reader = Reader(load_pack(oracle_pack))
    bounded = engine.final(engine.answer(opened, Query("warehouse lease invoice?"), reader))
    assert bounded.state is not None and not bounded.whole_document
    total = bounded.read.total_passages
    full = (1 << engine.FOCUS_BASE) - 1
    done = sum(1 for mask in bounded.state.read.values() if mask & full)
    assert 0 < done < total - 4
    seconds = engine.whole_read_seconds(bounded)
    assert seconds is not None and seconds > 0
    twice = engine.whole_read_seconds(replace(bounded, seconds=2 * bounded.seconds))
    assert twice == pytest.approx(2 * seconds)
    # Down the ranking (the library's read-more): the same short windows, at the pace a
    # passage seen took, for each passage not seen yet, never past the scope's end.
    seen = len(bounded.state.read)
    assert seen < total - 4
    one = engine.whole_read_seconds(bounded, passages=seen + 1)
    assert one == pytest.approx(bounded.seconds / seen)
    assert engine.whole_read_seconds(bounded, passages=seen + 4) == pytest.approx(4 * one)
    rest = engine.whole_read_seconds(bounded, passages=10 * total)
    assert rest == pytest.approx((total - seen) * one)
    assert engine.whole_read_seconds(bounded, passages=seen) is None
    assert engine.whole_read_seconds(replace(bounded, seconds=0.0)) is None
    assert engine.whole_read_seconds(replace(bounded, mode="keyword")) is None
    for read in (
        replace(bounded.read, whole_document=True),
        replace(bounded.read, windows=0),
        replace(bounded.read, passages=0),
    ):
        assert engine.whole_read_seconds(replace(bounded, read=read)) is None
    bare = replace(bounded, state=None)
    left = total - bounded.read.passages
    assert engine.whole_read_seconds(bare) == pytest.approx(
        left * bounded.seconds / bounded.read.passages
    )
    # More text a passage, more to read: the estimate grows with it.
    longer = replace(bounded.state, passage_chars=3 * bounded.state.passage_chars)
    assert engine.whole_read_seconds(replace(bounded, state=longer)) > 2 * seconds
