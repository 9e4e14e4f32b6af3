"""The "read the whole document" estimate counts the tokens the rest really has."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from desktop_qa.core import engine
from desktop_qa.core.pack import load_pack
from desktop_qa.core.query import Query
from desktop_qa.core.reader import Reader
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
    opened = engine.open_document(path)
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
    opened = engine.open_document(path)
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
