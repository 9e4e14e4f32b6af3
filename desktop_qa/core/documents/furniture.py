"""Page furniture: running heads, page numbers and footers, found by their repetition.

A book's "284 FREE CULTURE <http://free-culture.org/get-it>" sits at the same
edge of page after page. Read into passages it costs keyword matches, splits
sentences that run across a page ("...culture.org/get-it> launched a war")
and turns up in answers and contexts. It stays in the document's text (the
viewer shows it, find finds it, highlights keep their boxes); ``running_lines``
returns its character ranges, which passages and contexts leave out
(``Document.furniture``).

The rule, by measurement (docs/performance.md "Running heads"): a line in the
outer ``BAND`` of its page's height, among the ``EDGE_LINES`` outermost lines
at that edge, whose text, with numbers folded ("284" and "xvi" read "#"),
recurs at the same place (within ``SAME_PLACE`` points of height) of at
least ``MIN_PAGES`` pages. PyMuPDF's layout
analyser (``pymupdf.layout``, page-header/page-footer classes) was measured
on the same book and is far too slow for extraction (1.5 s a page after a 3 s
import) and misses most "N FREE CULTURE" lines.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

BAND = 0.12  # top and bottom share of the page height where furniture sits
EDGE_LINES = 3  # outermost lines looked at, at each edge of a page
MIN_PAGES = 3  # pages a line must recur on (same edge, numbers folded)
MAX_CHARS = 120  # a running head is one short line
SAME_PLACE = 4.0  # points: lines this close in height are at the same place on their pages
_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"^[ivxlcdm]+$")


def line_key(line: str) -> str:
    """A line as it recurs from page to page: case folded, page numbers (digits, and a roman
    numeral at either end) read ``#``, spaces collapsed."""
    words = _DIGITS.sub("#", line.casefold()).split()
    if words and _ROMAN.match(words[0]):
        words[0] = "#"
    if len(words) > 1 and _ROMAN.match(words[-1]):
        words[-1] = "#"
    return " ".join(words)


def running_lines(
    text: str,
    char_box: np.ndarray,
    boxes: np.ndarray,
    box_page: np.ndarray,
    box_line: np.ndarray,
    page_sizes: list[tuple[float, float]],
) -> np.ndarray:
    """Character ranges ``[[start, end), ...]`` (int32, sorted) of the text's furniture lines.

    Takes the per-character arrays extraction makes (``core.documents.pdf``); a text file
    (no boxes) has none.
    """
    empty = np.zeros((0, 2), np.int32)
    positions = np.flatnonzero(char_box >= 0)
    if not len(positions) or len(page_sizes) < MIN_PAGES:
        return empty
    char_line = box_line[char_box[positions]]
    lines, first = np.unique(char_line, return_index=True)
    last = len(char_line) - 1 - np.unique(char_line[::-1], return_index=True)[1]
    starts, ends = positions[first], positions[last] + 1
    # Every line's page and vertical extent, from its boxes.
    n = int(box_line.max()) + 1
    top = np.full(n, np.inf)
    bottom = np.full(n, -np.inf)
    np.minimum.at(top, box_line, boxes[:, 1].astype(np.float64))
    np.maximum.at(bottom, box_line, boxes[:, 3].astype(np.float64))
    line_page = np.zeros(n, np.int64)
    line_page[box_line] = box_page
    heights = np.array([h for _, h in page_sizes] or [0.0], np.float64)
    by_page: dict[int, list[int]] = defaultdict(list)
    for i, line in enumerate(lines.tolist()):
        by_page[int(line_page[line])].append(i)
    # (edge, key, height bucket) -> pages it is on, and the lines that carry it.
    seen: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    carriers: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for page, members in by_page.items():
        height = float(heights[page]) if page < len(heights) else 0.0
        if height <= 0:
            continue
        members.sort(key=lambda i: top[lines[i]])
        for edge, outer in (("top", members[:EDGE_LINES]), ("bottom", members[-EDGE_LINES:])):
            for i in outer:
                if edge == "top":
                    inside = bottom[lines[i]] <= BAND * height
                else:
                    inside = top[lines[i]] >= (1 - BAND) * height
                if not inside or ends[i] - starts[i] > MAX_CHARS:
                    continue
                key = line_key(text[starts[i] : ends[i]])
                if key:
                    where = (edge, key, round(float(top[lines[i]]) / SAME_PLACE))
                    seen[where].add(page)
                    carriers[where].append(i)
    picked: set[int] = set()
    for (edge, key, place), members in carriers.items():
        # A running head keeps its place on the page; a chapter's own heading with the
        # same words ("Classes" under the running "Classes") sits lower, and stays.
        pages = set().union(*(seen.get((edge, key, place + d), set()) for d in (-1, 0, 1)))
        if len(pages) >= MIN_PAGES:
            picked.update(members)
    picked = sorted(picked)
    if not picked:
        return empty
    out = np.stack([starts[picked], ends[picked]], axis=1).astype(np.int32)
    return out[np.argsort(out[:, 0], kind="stable")]


def marked_lines(
    char_box: np.ndarray,
    boxes: np.ndarray,
    box_page: np.ndarray,
    box_line: np.ndarray,
    rects: dict[int, list[tuple[float, float, float, float]]],
) -> np.ndarray:
    """Character ranges of the lines laid out inside ``rects`` (per page): furniture the
    source marks itself (a Word file's headers and footers, ``formats.layout``)."""
    empty = np.zeros((0, 2), np.int32)
    positions = np.flatnonzero(char_box >= 0)
    if not len(positions) or not any(rects.values()):
        return empty
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    inside = np.zeros(len(boxes), bool)
    for page, page_rects in rects.items():
        on_page = box_page == page
        for x0, y0, x1, y1 in page_rects:
            inside |= on_page & (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
    char_line = box_line[char_box[positions]]
    flagged = inside[char_box[positions]]
    out = []
    for line in np.unique(char_line[flagged]).tolist():
        where = positions[char_line == line]
        out.append((int(where[0]), int(where[-1]) + 1))
    return np.asarray(sorted(out), np.int32).reshape(-1, 2)


def excluded_chars(ranges: np.ndarray, start: int, end: int) -> list[tuple[int, int]]:
    """The furniture ranges that overlap ``[start, end)``, clipped to it, in order."""
    if not len(ranges) or end <= start:
        return []
    lo = int(np.searchsorted(ranges[:, 1], start, side="right"))
    hi = int(np.searchsorted(ranges[:, 0], end, side="left"))
    return [(max(int(a), start), min(int(b), end)) for a, b in ranges[lo:hi].tolist()]


def without(text: str, start: int, end: int, ranges: np.ndarray) -> str:
    """``text[start:end]`` with the furniture in it left out (a space where it was)."""
    parts, pos = [], start
    for a, b in excluded_chars(ranges, start, end):
        parts.append(text[pos:a])
        pos = b
    parts.append(text[pos:end])
    return " ".join(parts) if len(parts) > 1 else parts[0]


# A context shows this many characters either side of an answer (cut at word boundaries).
CONTEXT_CHARS = 90
_NONE = np.zeros((0, 2), np.int32)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def make_context(
    text: str,
    start: int,
    end: int,
    width: int = CONTEXT_CHARS,
    furniture: np.ndarray | None = None,
    shown: str | None = None,
) -> tuple[str, int, int]:
    """Snippet around text[start:end], cut at word boundaries; returns (snippet, a, b).

    Here, beside ``without``, because every snippet of a document (an answer's
    context, a find hit's) leaves its page furniture out: with ``furniture``
    (``Document.furniture``) the running heads and footers around the span are
    left out, so a context never reads "... 284 FREE CULTURE <http://...>
    launched a war". ``shown``: the answer's text as it is shown
    (``sentences.answer_text``), else ``text[start:end]``.
    """
    left = max(0, start - width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    right = min(len(text), end + width)
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space >= 0 else right
    skip = furniture if furniture is not None else _NONE
    before = _collapse(without(text, left, start, skip))
    answer = _collapse(text[start:end] if shown is None else shown)
    after = _collapse(without(text, end, right, skip))
    prefix = (
        ("… " if left > 0 else "") + before + (" " if before and text[start - 1].isspace() else "")
    )
    suffix = (" " if after and end < len(text) and text[end].isspace() else "") + after
    suffix += " …" if right < len(text) else ""
    return prefix + answer + suffix, len(prefix), len(prefix) + len(answer)
