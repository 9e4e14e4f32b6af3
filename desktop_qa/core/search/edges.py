"""Answer edges across a page break: whole words, whole sentences, the text a person reads.

Extraction joins a hyphenated word and a paragraph within a page, but a page
ends where it ends: the book's "busi-" is followed by the next page's running
head ("“PROPERTY” 145", kept in the text as furniture) and then "ness on
distributing ...". Without this an answer starts inside a word ("ness on
distributing") or stops mid-sentence at the foot of a page ("... Lady and the
Tramp"). Here a span is widened over such a break (whitespace and furniture
only, the page changing), its text is what a reader reads ("business", no
running head), and its boxes lie on both pages, the furniture's left out.
Reader spans (``results.make_answer``) and keyword sentences alike come here.
"""

from __future__ import annotations

import re

import numpy as np

from desktop_qa.core.documents.document import Box, Document
from desktop_qa.core.documents.furniture import excluded_chars
from desktop_qa.core.search import sentences

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
        pieces = sentences.split(text, nxt, _paragraph_end(text, nxt))
        if pieces:
            end = pieces[0][1]
    last = before(doc, start, same_page=True)
    if last is not None:
        begin = _paragraph_start(text, last)
        pieces = sentences.split(text, begin, last + 1)
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
        and end - start >= sentences.HEADING_LINE
        and (text[nxt].isalnum() or text[nxt] in '(“‘"–—')
    )


def _paragraph_end(text: str, pos: int) -> int:
    blank = text.find("\n\n", pos, pos + FOLLOW)
    return blank if blank >= 0 else min(len(text), pos + FOLLOW)


def _paragraph_start(text: str, pos: int) -> int:
    blank = text.rfind("\n\n", max(0, pos - FOLLOW), pos)
    return blank + 2 if blank >= 0 else max(0, pos - FOLLOW)


def _parts(doc: Document, start: int, end: int) -> list[tuple[int, int]]:
    """The span's pieces outside furniture, each trimmed of whitespace."""
    parts, pos = [], start
    for a, b in [*excluded_chars(doc.furniture, start, end), (end, end)]:
        s, e = pos, a
        while s < e and doc.text[s].isspace():
            s += 1
        while e > s and doc.text[e - 1].isspace():
            e -= 1
        if e > s:
            parts.append((s, e))
        pos = b
    return parts


def answer_text(doc: Document, start: int, end: int) -> str:
    """What a person reads of ``text[start:end]``: running heads and footers left out, a
    word hyphenated over a page joined ("busi-" + "ness" is "business") and a paragraph
    break inside (a sentence that went on past one) read as a space."""
    text = doc.text
    if doc.kind == "text" or (
        not len(excluded_chars(doc.furniture, start, end))
        and not _crosses(doc, start, end)
        and "\n" not in text[start:end]
    ):
        return text[start:end]
    out = ""
    prev_end = -1
    for a, b in _parts(doc, start, end):
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
    for a, b in _parts(doc, start, end):
        out.extend(doc.boxes_for(a, b))
    return out
