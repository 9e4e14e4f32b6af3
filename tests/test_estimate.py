"""The "read the whole document" estimate counts the windows the rest really has."""

from __future__ import annotations

from pathlib import Path

from desktop_qa.core import engine
from desktop_qa.core.pack import load_pack
from desktop_qa.core.query import Query
from desktop_qa.core.reader import Reader
from tests.factset import generate


def test_the_estimate_counts_several_windows_a_passage(tmp_path: Path, oracle_pack: Path):
    """Passages here are many windows each (the oracle pack reads 64 tokens at a time), and a
    quick answer read only the best window of each top passage: the estimate's windows left
    still come within 2x of the windows the whole read reads (counting a window a passage,
    it was 2.8x short on *Free Culture*)."""
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
        predicted = seconds * bounded.read.windows / bounded.seconds  # the windows counted on
        rest = engine.answer(opened, Query(question).deeper(), reader, resume=bounded)
        whole = engine.final(rest)
        actual = whole.read.windows - bounded.read.windows
        assert opened.total_passages * 2 < whole.read.windows  # several windows a passage
        assert 0.5 <= predicted / actual <= 2.0, (question, predicted, actual)
        # Down to a number of passages (the library's deeper read): fewer windows.
        deeper = engine.whole_read_seconds(bounded, passages=bounded.read.passages * 2)
        assert deeper is not None and deeper < seconds
