"""Sentences of a page as a person reads them: where one starts and ends, what it says.

Boundaries come from ``sentencex`` (Wikimedia, MIT), which knows abbreviations
("Disney, Inc.", "U.S.", "e.g.", "Dr.", "No. 5"), so a sentence is not cut at
them; a short line without closing punctuation (a heading, a table row) ends
where it ends, and a run-on "sentence" (a list, a table) is cut around the
question's words.

Extraction joins a hyphenated word and a paragraph within a page, but a page
ends where it ends: the book's "busi-" is followed by the next page's running
head ("“PROPERTY” 145", kept in the text as furniture) and then "ness on
distributing ...". Without the edges here an answer starts inside a word ("ness
on distributing") or stops mid-sentence at the foot of a page ("... Lady and the
Tramp"). A span is widened over such a break (whitespace and furniture only, the
page changing), its text is what a reader reads ("business", no running head),
and its boxes lie on both pages, the furniture's left out. Reader spans
(``results.make_answer``, through ``as_read``) and keyword sentences
(``read_sentences``) alike come here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import sentencex

from desktop_qa.core.documents.document import Box, Document
from desktop_qa.core.documents.furniture import excluded_chars
from desktop_qa.core.search import keywords

_WORD = re.compile(r"\w+", re.UNICODE)
# A line this short without closing punctuation ends a sentence where it ends (a heading,
# a list item, a table row): prose wraps at longer lines.
HEADING_LINE = 50
_CLOSED = tuple(".,;:!?-–—(\"“‘'")
MAX_SENTENCE = 400  # characters of a run-on "sentence" kept around the question's words


# -- sentence boundaries ----------------------------------------------------------------------
def split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences of ``text[start:end]`` as (start, end) offsets, whitespace trimmed."""
    out: list[tuple[int, int]] = []
    pos = start
    for segment in sentencex.segment("en", text[start:end]):
        piece = segment.strip()
        if not piece:
            continue
        at = text.find(piece, pos, end)
        if at < 0:  # the segmenter changed the text: keep what is left as one piece
            at, piece = pos, text[pos:end].strip()
            if not piece:
                break
            at = text.find(piece, pos, end)
        out.extend(_lines(text, at, at + len(piece)))
        pos = at + len(piece)
    return out


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a sentence after short lines that close nothing (headings, rows, list items)."""
    out = []
    a = line_start = start
    while True:
        nl = text.find("\n", line_start, end)
        if nl < 0:
            break
        line = text[line_start:nl].rstrip()
        if line and len(line) < HEADING_LINE and not line.endswith(_CLOSED):
            if line_start + len(line) > a:
                out.append((a, line_start + len(line)))
            a = nl + 1
            while a < end and text[a].isspace():
                a += 1
        line_start = nl + 1
    if a < end:
        out.append((a, end))
    return out


# -- run-on sentences -----------------------------------------------------------------------
def cut_runon(text: str, a: int, b: int, stems: frozenset[str] | set[str]) -> tuple[int, int]:
    """A run-on "sentence" (a table, a list) cut to the MAX_SENTENCE characters around the
    question's words (whole words); a sentence no longer than that, as it is."""
    if b - a <= MAX_SENTENCE:
        return a, b
    end = b
    a = _densest(text, a, b, stems)
    b = min(b, a + MAX_SENTENCE)
    space = text.rfind(" ", a, b)
    b = space if space > a and b < end else b
    return a, b


def _densest(text: str, start: int, end: int, stems: frozenset[str] | set[str]) -> int:
    """Where a MAX_SENTENCE-character cut of ``text[start:end]`` holds most question words."""
    hits = [
        (m.start(), keywords.stem(m.group().lower()))
        for m in _WORD.finditer(text, start, end)
        if keywords.stem(m.group().lower()) in stems
    ]
    best, best_count = start, 0
    for i, (pos, _) in enumerate(hits):
        left = max(start, pos - MAX_SENTENCE // 4)
        count = len({stem for p, stem in hits[i:] if p < left + MAX_SENTENCE})
        if count > best_count:
            best, best_count = left, count
    if best > start:  # start on a word
        space = text.find(" ", best, end)
        best = space + 1 if 0 <= space < end else best
    return best


# -- edges across a page break ------------------------------------------------------------
# Text that closes a sentence: after it a page break is a real break.
_CLOSING = tuple(".!?:;…\"”’')]")
_BREAK = re.compile(r"\s*\n\s*")
# How far across a page break a sentence is followed.
FOLLOW = 2000


def _skip_gap(doc: Document, pos: int, step: int) -> int:
    """From ``pos``, past whitespace and furniture in direction ``step`` (+1/-1): the index
    of the next character that is neither, or -1 / len(text) at the ends."""
    text, furniture = doc.text, doc.furniture
    i = pos
    while 0 <= i < len(text):
        if text[i].isspace():
            i += step
            continue
        k = int(np.searchsorted(furniture[:, 1], i, side="right")) if len(furniture) else 0
        if k < len(furniture) and furniture[k, 0] <= i:
            i = int(furniture[k, 1]) if step > 0 else int(furniture[k, 0]) - 1
            continue
        return i
    return i


def _page(doc: Document, i: int) -> int:
    return int(doc.char_page[i]) if 0 <= i < len(doc.char_page) else -1


def _across(doc: Document, left: int, right: int) -> bool:
    """Whether characters ``left`` and ``right`` (gap between them) lie on different pages."""
    if doc.kind == "text" or not len(doc.char_page):
        return False
    return _page(doc, left) != _page(doc, right) and _page(doc, left) >= 0 <= _page(doc, right)


def _hyphen_break(doc: Document, last: int, nxt: int) -> bool:
    """A word hyphenated over a page break: "busi-" | page | "ness"."""
    text = doc.text
    return (
        last > 0
        and text[last] in "-‐‑"
        and text[last - 1].isalpha()
        and text[nxt].islower()
        and _across(doc, last, nxt)
    )


def next_after(doc: Document, end: int, *, same_page: bool = False) -> int | None:
    """The first character after ``end`` past a page break (whitespace, furniture), or None
    when the text goes on on the same page (or ends). ``same_page``: past a paragraph
    break on the same page too."""
    if doc.kind == "text" or end <= 0 or end >= len(doc.text):
        return None
    nxt = _skip_gap(doc, end, 1)
    if nxt >= len(doc.text):
        return None
    if _across(doc, end - 1, nxt) or (same_page and "\n" in doc.text[end:nxt]):
        return nxt
    return None


def before(doc: Document, start: int, *, same_page: bool = False) -> int | None:
    """The last character before ``start`` across a page break, or None (see next_after)."""
    if doc.kind == "text" or start <= 0 or start > len(doc.text):
        return None
    last = _skip_gap(doc, start - 1, -1)
    if last < 0:
        return None
    if _across(doc, last, start) or (same_page and "\n" in doc.text[last:start]):
        return last
    return None


def whole_words(doc: Document, start: int, end: int) -> tuple[int, int]:
    """Widen a span so it neither starts nor ends inside a word hyphenated over a page."""
    text = doc.text
    if doc.kind == "text" or not (_line_end(text, end + 1) or _line_start(text, start)):
        return start, end  # within a line: extraction joined its words already
    e = end + 1 if end < len(text) and text[end] in "-‐‑" else end
    nxt = next_after(doc, e) if e > 0 else None
    if nxt is not None and _hyphen_break(doc, e - 1, nxt):  # "busi-" | page | "ness"
        end = nxt
        while end < len(text) and text[end].isalnum():
            end += 1
    last = before(doc, start) if start < len(text) and text[start].isalpha() else None
    if last is not None and _hyphen_break(doc, last, start):
        start = last
        while start > 0 and text[start - 1].isalnum():
            start -= 1
    return start, end


def whole_sentence(doc: Document, start: int, end: int) -> tuple[int, int]:
    """Widen a sentence that a page break (or a block break within a page) cut: on to the
    end of the sentence it goes on with, back to the start of the one it continues.

    A sentence goes on past a break when it closes nothing (no full stop, ...) and what
    follows starts in lower case, or, over a page break, with a word, a number or a
    bracket after a sentence longer than a heading ("... protect John" | page |
    "Grisham's right ..."). Then whole words.
    """
    text = doc.text
    if doc.kind == "text" or not (_line_end(text, end) or _line_start(text, start)):
        return start, end  # within a line of a paragraph: no break to cross
    nxt = next_after(doc, end, same_page=True)
    if nxt is not None and _goes_on(doc, start, end, nxt):
        pieces = split(text, nxt, _paragraph_end(text, nxt))
        if pieces:
            end = pieces[0][1]
    last = before(doc, start, same_page=True)
    if last is not None:
        begin = _paragraph_start(text, last)
        pieces = split(text, begin, last + 1)
        if pieces and _goes_on(doc, pieces[-1][0], last + 1, start):
            start = pieces[-1][0]
    return whole_words(doc, start, end)


def _line_end(text: str, end: int) -> bool:
    """Whether only spaces stand between ``end`` and a line break (or the text's end)."""
    while end < len(text) and text[end] == " ":
        end += 1
    return end >= len(text) or text[end] == "\n"


def _line_start(text: str, start: int) -> bool:
    """Whether only spaces stand between a line break (or the text's start) and ``start``."""
    start -= 1
    while start >= 0 and text[start] == " ":
        start -= 1
    return start < 0 or text[start] == "\n"


def _goes_on(doc: Document, start: int, end: int, nxt: int) -> bool:
    """Whether the sentence ``text[start:end]`` goes on at ``nxt`` after a break."""
    text = doc.text
    if _hyphen_break(doc, end - 1, nxt):
        return True
    if text[end - 1] in _CLOSING:
        return False
    if text[nxt].islower():
        return True
    return (
        _across(doc, end - 1, nxt)
        and end - start >= HEADING_LINE
        and (text[nxt].isalnum() or text[nxt] in '(“‘"–—')
    )


def _paragraph_end(text: str, pos: int) -> int:
    blank = text.find("\n\n", pos, pos + FOLLOW)
    return blank if blank >= 0 else min(len(text), pos + FOLLOW)


def _paragraph_start(text: str, pos: int) -> int:
    blank = text.rfind("\n\n", max(0, pos - FOLLOW), pos)
    return blank + 2 if blank >= 0 else max(0, pos - FOLLOW)


def _parts(doc: Document, start: int, end: int) -> tuple[list[tuple[int, int]], bool]:
    """The span's pieces outside furniture, each trimmed of whitespace, and whether any
    furniture lay in it."""
    parts, pos = [], start
    furniture = excluded_chars(doc.furniture, start, end)
    for a, b in [*furniture, (end, end)]:
        s, e = pos, a
        while s < e and doc.text[s].isspace():
            s += 1
        while e > s and doc.text[e - 1].isspace():
            e -= 1
        if e > s:
            parts.append((s, e))
        pos = b
    return parts, bool(furniture)


def answer_text(doc: Document, start: int, end: int) -> str:
    """What a person reads of ``text[start:end]``: running heads and footers left out, a
    word hyphenated over a page joined ("busi-" + "ness" is "business") and a paragraph
    break inside (a sentence that went on past one) read as a space."""
    text = doc.text
    if doc.kind == "text":
        return text[start:end]
    crosses = _crosses(doc, start, end)
    parts, furnished = _parts(doc, start, end)
    if not (furnished or crosses or "\n" in text[start:end]):
        return text[start:end]
    out = ""
    prev_end = -1
    for a, b in parts:
        if out:
            if _hyphen_break(doc, prev_end - 1, a):
                out = out[:-1]
            else:
                out += " "
        out += _BREAK.sub(" ", text[a:b])  # a block break within a page
        prev_end = b
    return out


def _crosses(doc: Document, start: int, end: int) -> bool:
    pages = doc.char_page[start:end]
    pages = pages[pages >= 0]
    return bool(len(pages)) and int(pages.min()) != int(pages.max())


def boxes(doc: Document, start: int, end: int) -> list[Box]:
    """The span's highlight rectangles, on every page it lies on, furniture left out."""
    if doc.kind == "text":
        return []
    out: list[Box] = []
    for a, b in _parts(doc, start, end)[0]:
        out.extend(doc.boxes_for(a, b))
    return out


# -- a span as it is read ----------------------------------------------------------------
@dataclass(frozen=True)
class PageSpan:
    """A span as a person reads it on the page: widened to whole words over a page break,
    its text without the furniture between, its highlight boxes on every page it lies on."""

    start: int
    end: int
    text: str
    boxes: tuple[Box, ...]


def as_read(doc: Document, start: int, end: int) -> PageSpan:
    """``doc.text[start:end]`` as it is shown and highlighted (a reader's answer span)."""
    start, end = whole_words(doc, start, end)
    return PageSpan(start, end, answer_text(doc, start, end), tuple(boxes(doc, start, end)))


def read_sentences(
    doc: Document, start: int, end: int, stems: frozenset[str] | set[str]
) -> list[tuple[int, int, str]]:
    """The sentences of ``doc.text[start:end]`` as shown: (start, end, text a person reads).

    Each is widened over a page break it crosses (``whole_sentence``); a run-on one is
    cut around the question's ``stems`` before and again after, so a list widened over
    a page break is cited where the question's words are, not the filler before them.
    """
    text = doc.text
    out = []
    for a, b in split(text, start, end):
        a, b = whole_sentence(doc, *cut_runon(text, a, b, stems))
        a, b = cut_runon(text, a, b, stems)
        out.append((a, b, answer_text(doc, a, b)))
    return out


# -- the sentence a question points to ---------------------------------------------------
def best_sentence(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """The sentence of ``text[start:end]`` that best answers the question's words.

    The reader's first window is centred on it, so the user's eye lands on the
    match. Sentences (abbreviation-aware, ``sentences.split``) score by the
    question's words they hold, how close together those stand and the kind
    of answer asked for; the earliest wins ties; a run-on one is cut around
    the question's words.
    """
    pieces = split(text, start, end)
    if not pieces:
        return start, end
    words = keywords.unweighted(question)
    values = [keywords.sentence_value(words, text[a:b]) for a, b in pieces]
    a, b = pieces[values.index(max(values))]  # the earliest of the best
    return cut_runon(text, a, b, words.stems)
