"""Paragraph-aware passages that keep their character offsets in the document text.

Passages are the unit the reader windows over and the keyword index ranks, so
an answer found in a passage maps straight back to the document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class Passage:
    index: int
    start: int
    end: int

    def text(self, doc_text: str) -> str:
        return doc_text[self.start : self.end]


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph, whitespace around it excluded."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _PARAGRAPH.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    out = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a paragraph longer than max_chars at sentence ends, else at spaces."""
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = -1
        for match in _SENTENCE_END.finditer(text, start + max_chars // 2, limit):
            cut = match.end()
        if cut < 0:
            space = text.rfind(" ", start + max_chars // 2, limit)
            cut = space + 1 if space > 0 else limit
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
    if end > start:
        pieces.append((start, end))
    return pieces


def _cut_out(
    text: str, spans: list[tuple[int, int]], exclude: Sequence[Sequence[int]]
) -> tuple[list[tuple[int, int]], set[int]]:
    """Paragraph spans with the excluded ranges cut out (each piece trimmed), and the
    indices of pieces that follow an excluded range (a passage never reaches across one)."""
    cuts = sorted((int(a), int(b)) for a, b in exclude if b > a)
    out: list[tuple[int, int]] = []
    after: set[int] = set()
    k = 0
    pending = False
    for start, end in spans:
        while k < len(cuts) and cuts[k][1] <= start:
            k, pending = k + 1, True
        pos = start
        j = k
        while j < len(cuts) and cuts[j][0] < end:
            a, b = cuts[j]
            if a > pos:
                out.extend(_trimmed(text, pos, a, pending, after, len(out)))
                pending = False
            pos, pending = max(pos, b), True
            j += 1
        if pos < end:
            piece = _trimmed(text, pos, end, pending, after, len(out))
            out.extend(piece)
            pending = pending and not piece
        k = j
    return out, after


def _trimmed(
    text: str, start: int, end: int, pending: bool, after: set[int], index: int
) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start:
        return []
    if pending:
        after.add(index)
    return [(start, end)]


def make_passages(
    text: str, max_chars: int = 1200, *, exclude: Sequence[Sequence[int]] = ()
) -> list[Passage]:
    """Greedily pack whole paragraphs into passages of at most ``max_chars``.

    Short paragraphs (headings, list items) share a passage with their
    neighbours, so a heading stays with the text it introduces; a paragraph
    longer than ``max_chars`` is cut at sentence boundaries. ``exclude``:
    character ranges ``[start, end)`` no passage may hold (running heads and
    footers, ``Document.furniture``); a passage ends before one.
    """
    spans: list[tuple[int, int]] = []
    after: set[int] = set()
    paragraphs = paragraph_spans(text)
    if len(exclude):
        paragraphs, after_paragraph = _cut_out(text, paragraphs, exclude)
    else:
        after_paragraph = set()
    for i, (start, end) in enumerate(paragraphs):
        if i in after_paragraph:
            after.add(len(spans))
        spans.extend(_split_long(text, start, end, max_chars))
    passages: list[Passage] = []
    cur_start: int | None = None
    cur_end = 0
    for i, (start, end) in enumerate(spans):
        if cur_start is not None and end - cur_start <= max_chars and i not in after:
            cur_end = end
            continue
        if cur_start is not None:
            passages.append(Passage(len(passages), cur_start, cur_end))
        cur_start, cur_end = start, end
    if cur_start is not None:
        passages.append(Passage(len(passages), cur_start, cur_end))
    return passages
