"""The source's own characters for the words MuPDF laid out: Arabic, Hebrew, Indic scripts.

MuPDF shapes complex scripts when it lays a converted document out (Arabic
letters take their joining forms, Devanagari reorders vowel signs and forms
conjuncts), and reading those glyphs back gives other characters: "على" came
back as "عǁى" (a glyph with no Unicode mapping), "दुनिया" as three broken
pieces. The words and their boxes are right; their text is not. So the text
of every converted document is known twice: the words MuPDF placed (boxes, in
reading order) and the source's words (the converted HTML, in the same order).
``words`` walks both in step and, where they differ in a stretch of complex
script, gives the placed boxes the source's words (several boxes of one
broken word merge into one). Pages in Latin, Greek, Cyrillic or CJK scripts
come back exactly and are not touched: a document without complex script
costs nothing here.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from collections.abc import Sequence

# Scripts MuPDF shapes (joining, reordering, conjuncts): Hebrew, Arabic, Syriac, Thaana,
# NKo, Samaritan, Mandaic, the Indic scripts, Sinhala, Thai, Lao, Tibetan, Myanmar,
# Khmer, Mongolian; Arabic presentation forms. Also what MuPDF draws from fallback fonts
# and reads back as other letters: private-use symbols, mathematical alphanumerics
# (a Word equation's "𝑃" came back as "ᵅ").
COMPLEX = re.compile(
    "[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u18af"
    "\ua8e0-\ua8ff\ue000-\uf8ff\ufb1d-\ufdff\ufe70-\ufeff\U0001d400-\U0001d7ff]"
)
_BLOCK = re.compile(
    r"<(?:/?(?:p|h[1-6]|li|ul|ol|table|thead|tbody|tr|td|th|div|blockquote|pre|dl|dt|dd|"
    r"caption|section|article|header|footer|figure|figcaption|address)\b[^>]*|br\s*/?|hr\s*/?)>",
    re.I,
)
_TAG = re.compile(r"<[^>]*>")
WINDOW = 400  # words looked ahead for the next place where both sides agree again

Word = tuple  # PyMuPDF "words" tuple: x0, y0, x1, y1, text, block, line, word (, page)


def tokens(markup: str) -> list[str]:
    """The words of converted markup as laid out: blocks apart, inline elements joined."""
    text = _TAG.sub("", _BLOCK.sub(" ", markup))
    return _html.unescape(text).split()


def has_complex(text: str) -> bool:
    return COMPLEX.search(text) is not None


def _fold(word: str) -> str:
    return word if word.isascii() else unicodedata.normalize("NFKC", word)


def align(placed: Sequence[Word], source: Sequence[str]) -> list[Word]:
    """``placed`` with the text of ``source`` where a complex-script stretch differs.

    Both sides are walked in step; at a difference, the nearest place where two
    words in a row agree again (within ``WINDOW``) closes the stretch. A
    stretch whose source side holds complex script is given the source's words
    (``_distribute``); any other stretch (bullets and list numbers MuPDF
    draws, which the markup lacks) keeps MuPDF's words.
    """
    folded = [_fold(w[4]) for w in placed]
    src = [_fold(s) for s in source]
    out: list[Word] = []
    i = j = 0
    while i < len(placed):
        if j < len(src) and folded[i] == src[j]:
            out.append(placed[i])
            i += 1
            j += 1
            continue
        di, dj = _resync(folded, src, i, j)
        stretch = list(placed[i : i + di])
        words = list(source[j : j + dj])
        if words and stretch and has_complex(" ".join(words)):
            out.extend(_distribute(stretch, words))
        else:
            out.extend(stretch)
        i += di
        j += dj
    return out


# The nearest agreements first, in the order the full search prefers them (fewest words in
# all, then fewest placed words): the same answer, found without building the window.
_NEAR = [(di, total - di) for total in range(1, 7) for di in range(total + 1)]


def _resync(a: list[str], b: list[str], i: int, j: int) -> tuple[int, int]:
    """(words of a, words of b) up to the next two-word agreement; the rest when none."""
    for di, dj in _NEAR:  # most stretches are a word or two: look there first
        if (
            i + di + 1 < len(a)
            and j + dj + 1 < len(b)
            and a[i + di] == b[j + dj]
            and a[i + di + 1] == b[j + dj + 1]
        ):
            return di, dj
    ahead: dict[tuple[str, str], int] = {}
    for dj in range(min(WINDOW, len(b) - j - 1)):
        ahead.setdefault((b[j + dj], b[j + dj + 1]), dj)
    best: tuple[int, int] | None = None
    for di in range(min(WINDOW, len(a) - i - 1)):
        dj = ahead.get((a[i + di], a[i + di + 1]))
        if dj is not None and (best is None or di + dj < sum(best)):
            best = (di, dj)
        if best is not None and di > sum(best):
            break
    if best is not None and best != (0, 0):
        return best
    if best == (0, 0):  # the pair agrees but not this word alone: cannot happen; step on
        return 1, 1
    # No agreement in sight: a last stretch (or one longer than the window). The source
    # words that go with the placed ones are those whose characters add up alike.
    rest_a = a[i : i + WINDOW]
    chars = sum(len(w) for w in rest_a)
    total = 0
    dj = 0
    while j + dj < len(b) and total < chars and dj < 4 * WINDOW:
        total += len(b[j + dj])
        dj += 1
    if i + len(rest_a) >= len(a):  # the end of the page run: the rest of the source is its own
        dj = max(dj, 0)
    return len(rest_a), dj


def _distribute(stretch: list[Word], words: list[str]) -> list[Word]:
    """Boxes of ``stretch`` carrying ``words``: one to one, or by share of characters.

    Each source word goes to the box that covers most of its share of the
    stretch's characters; boxes of one line given the same word merge into one
    box; a box given no word is dropped (its glyphs belong to a neighbour's word).
    """
    if len(stretch) == len(words):
        return [(*w[:4], text, *w[5:]) for w, text in zip(stretch, words, strict=True)]
    lengths = [max(len(_fold(w[4])), 1) for w in stretch]
    total_a = float(sum(lengths))
    total_b = float(sum(max(len(w), 1) for w in words))
    bounds = []
    pos = 0.0
    for n in lengths:
        bounds.append((pos / total_a, (pos + n) / total_a))
        pos += n
    owner: dict[int, list[str]] = {}
    pos = 0.0
    for word in words:
        lo, hi = pos / total_b, (pos + max(len(word), 1)) / total_b
        pos += max(len(word), 1)
        overlaps = [max(0.0, min(hi, b) - max(lo, a)) for a, b in bounds]
        owner.setdefault(max(range(len(stretch)), key=overlaps.__getitem__), []).append(word)
    out: list[Word] = []
    current: list | None = None
    current_text: str | None = None
    for k, w in enumerate(stretch):
        text = " ".join(owner[k]) if k in owner else None
        same_line = current is not None and (current[5:7], current[8:]) == (w[5:7], w[8:])
        if text is None and same_line:
            current[0], current[1] = min(current[0], w[0]), min(current[1], w[1])
            current[2], current[3] = max(current[2], w[2]), max(current[3], w[3])
            continue
        if current is not None:
            out.append((*current[:4], current_text, *current[5:]))
        current, current_text = list(w), text
    if current is not None:
        out.append((*current[:4], current_text, *current[5:]))
    return [w for w in out if w[4]]


def page_words(pdf: bytes, markup: Sequence[str], drawn) -> dict[int, list[Word]] | None:  # noqa: ANN001
    """Every page's words with the source's text (None: no complex script, MuPDF's are right).

    ``markup``: the sections' markup in layout order; ``drawn``: per page, the
    (rectangle, markup) of what was drawn apart from the flow (headers, footers,
    an e-mail's header block), each read against its own markup.
    """
    if not any(has_complex(m) for m in markup) and not any(
        has_complex(m) for page in drawn for _, m in page
    ):
        return None
    import pymupdf

    body: list[Word] = []
    apart: dict[tuple[int, int], list[Word]] = {}
    with pymupdf.open("pdf", pdf) as doc:
        for number, page in enumerate(doc):
            rects = [r for r, _ in drawn[number]] if number < len(drawn) else []
            for w in page.get_text("words"):
                if not w[4].strip():
                    continue
                x, y = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
                inside = [k for k, r in enumerate(rects) if r[0] <= x <= r[2] and r[1] <= y <= r[3]]
                if inside:
                    apart.setdefault((number, inside[0]), []).append((*w, number))
                else:
                    body.append((*w, number))
    out: dict[int, list[Word]] = {n: [] for n in range(len(drawn))}
    for w in align(body, tokens(" ".join(markup))):
        out.setdefault(w[8], []).append(w[:8])
    for (number, k), words in sorted(apart.items()):
        out.setdefault(number, []).extend(w[:8] for w in align(words, tokens(drawn[number][k][1])))
    return out
