"""``find`` bounded (issue 30.3): the same matches as the regular expression it replaced,
in time linear in the text whatever the query, cancellable, and the window never waits."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
import time

import numpy as np
import pytest

from desktop_qa.core.documents import find as find_module
from desktop_qa.core.documents.document import Document
from desktop_qa.core.documents.find import find, fold_words, pattern
from desktop_qa.core.errors import Cancelled

# Characters that make finding hard: case folding that changes length (ß, İ), astral and
# Unicode whitespace, word and non-word characters side by side.
ALPHABET = ["a", "b", " ", "  ", "\n", "ß", "İ", "_", "(", ")", "é", "\u00a0", "ab", "Ab",
            " \t ", "1", "\U0001d400", "x", "ﬁ", "-"]  # fmt: skip


def by_regex(text: str, words: str, whole_words: bool) -> list[tuple[int, int]]:
    """What ``find`` matched before (``pattern`` over the case-folded text)."""
    parts = [c.casefold() for c in text]
    origin = np.repeat(np.arange(len(text)), [len(p) for p in parts])
    rx = pattern(words, whole_words=whole_words)
    return [(int(origin[a]), int(origin[b - 1]) + 1) for a, b in
            (m.span() for m in rx.finditer("".join(parts)))]  # fmt: skip


@pytest.mark.parametrize("chunk", [8, find_module.CHUNK])
def test_the_matches_are_the_regular_expressions(chunk: int, monkeypatch: pytest.MonkeyPatch):
    """Random texts and queries; in steps of 8 characters too (matches across steps)."""
    monkeypatch.setattr(find_module, "CHUNK", chunk)
    rng = random.Random(30)
    compared = 0
    for _ in range(1000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
        words = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8)))
        if not fold_words(words):
            continue
        doc = Document.from_text(text)
        for whole in (False, True):
            got = [(h.start, h.end) for h in find(doc, words, whole_words=whole)]
            assert got == by_regex(doc.text, words, whole), (text, words, whole)
            compared += bool(got)
    assert compared > 100  # many cases with matches, not only empty ones


def test_matches_across_the_steps_of_a_long_text(monkeypatch: pytest.MonkeyPatch):
    """A match across two steps (a megabyte each; 64 characters here) is found once."""
    monkeypatch.setattr(find_module, "CHUNK", 64)
    rng = random.Random(3)
    words = ["quokka", "Island", "ß", "the", "(x)"]
    text = "".join(rng.choice(words) + rng.choice([" ", "\n\n", "  "]) for _ in range(2000))
    doc = Document.from_text(text)
    for query in ("quokka island", "island ß the", "(x) quokka", "ss the"):
        for whole in (False, True):
            got = [(h.start, h.end) for h in find(doc, query, whole_words=whole)]
            assert got == by_regex(doc.text, query, whole)
            assert got or query == "ss the"


@pytest.mark.parametrize("whole_words", [False, True])
def test_a_long_query_over_repeated_words_is_linear(whole_words: bool):
    """499 words, the text the same word again and again: the regular expression compared
    the whole query at every word (400 KB: about 10 s, 16 MB: 86 s); now one pass.
    (The speed itself is measured by benchmarks/find.py; this bound is 20x the time.)"""
    doc = Document.from_text("a " * 200_000)
    words = " ".join(["a"] * 498 + ["b"])
    started = time.perf_counter()
    assert find(doc, words, whole_words=whole_words) == []
    assert time.perf_counter() - started < 2.0


def test_cancel_stops_at_the_next_step(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(find_module, "CHUNK", 1000)
    doc = Document.from_text("lorem ipsum dolor " * 10_000)
    asked = 0

    def cancel() -> bool:
        nonlocal asked
        asked += 1
        return asked > 3

    with pytest.raises(Cancelled):
        find(doc, "dolor sit", cancel=cancel)
    assert asked == 4
    assert "_find_index" not in doc.__dict__  # nothing half-made is kept
    assert len(find(doc, "dolor lorem")) == 9_999


def test_the_find_bar_never_holds_the_window(qtbot, make_window, tmp_path):
    """The UI thread keeps running (a timer every 10 ms) while the bar searches a long
    text: the regular expression held the GIL for the whole search (14 s for 4 MB)."""
    from PySide6.QtCore import QTimer

    path = tmp_path / "long.txt"
    path.write_text("a " * 400_000, encoding="utf-8")
    window = make_window()
    with qtbot.waitSignal(window.session.documentLoaded, timeout=30000):
        window.session.open_document(str(path))
    bar = window.findbar
    bar.open_bar()
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    bar.field.setText(" ".join(["a"] * 498 + ["b"]))
    started = time.perf_counter()
    bar.step()
    qtbot.waitUntil(lambda: bar.count_text() == "No match", timeout=60000)
    ticks.append(time.perf_counter())
    timer.stop()
    gaps = np.diff([started, *ticks])
    assert gaps.max() < 1.0, f"the window waited {gaps.max():.1f} s"


def test_a_new_search_cancels_the_one_under_way(qtbot, make_window, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("quokka " * 60_000, encoding="utf-8")
    window = make_window()
    with qtbot.waitSignal(window.session.documentLoaded, timeout=30000):
        window.session.open_document(str(path))
    bar = window.findbar
    bar.open_bar()
    bar.search("quokka quokka")
    first = bar._job
    assert first is not None
    bar.search("quokka")
    assert first.is_cancelled()  # ``find`` sees it at its next megabyte
    assert first is not bar._job
    assert bar.wait(30000)
    qtbot.waitUntil(lambda: bar.count_text().endswith(" of 60000"), timeout=30000)
    assert bar._job is None  # the newer search reported; the cancelled one is forgotten
