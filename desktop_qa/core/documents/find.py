"""Find words: every occurrence of exact words in a document, with page, boxes and context.

What a viewer's user tries first (Ctrl+F in SumatraPDF, Okular), apart from
asking a question: no model, no index, instant on a 352-page book. The
search runs over ``Document.text`` (ligatures and compatibility characters
already folded by extraction, NFKC), case-folded once per document and kept
(``folded``), so "FIRST", "first" and the glyph "ﬁrst" all match. Words of
the query match across any run of spaces and line or paragraph breaks, and
offsets map back to boxes through the document's per-character arrays, as
answers do. Running heads are found too (the viewer shows them).

Qt-free: the app's find bar keeps the ``Hit`` list, counts "N of M", steps
with F3/Shift+F3 (``step``) and highlights ``Hit.boxes`` of the page shown
(``hits_on_page``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_qa.core.documents.document import Box, Document
from desktop_qa.core.documents.furniture import make_context
from desktop_qa.core.errors import Cancelled, UserError

MAX_HITS = 100_000  # a bound, not a page of results: "the" in a long book is ~10k
MAX_WORDS_CHARS = 1000
CONTEXT_CHARS = 60


@dataclass(frozen=True)
class Hit:
    """One occurrence: ``start``/``end`` are offsets in ``Document.text``.

    ``page`` is 0-based (None in a text file), ``page_label`` the printed label
    where the document has labels. ``boxes`` (highlight rectangles in PDF
    points, one per line the match covers) and ``context`` (a one-line snippet
    with the match at ``context[context_start:context_end]``) are made when
    first asked for: "the" has 9,000 hits in a book, a find bar draws a page's.
    """

    start: int
    end: int
    page: int | None
    page_label: str | None
    document: Document = field(compare=False, repr=False)

    @functools.cached_property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(self.document.boxes_for(self.start, self.end))

    @functools.cached_property
    def _context(self) -> tuple[str, int, int]:
        return make_context(self.document.text, self.start, self.end, width=CONTEXT_CHARS)

    @property
    def context(self) -> str:
        return self._context[0]

    @property
    def context_start(self) -> int:
        return self._context[1]

    @property
    def context_end(self) -> int:
        return self._context[2]

    def to_json(self) -> dict[str, Any]:
        """As ``find --json`` prints it: ``page`` 1-based, as ``ask --json`` counts pages."""
        return {
            "page": None if self.page is None else self.page + 1,
            "page_label": self.page_label,
            "start": self.start,
            "end": self.end,
            "boxes": [[round(v, 2) for v in b.rect] for b in self.boxes],
            "context": self.context,
        }


CHUNK = 1 << 20  # characters per step: each C call (fold, search) holds the GIL ~1-5 ms
# Markers of the whole-word text (noncharacters: never in a document, see ``_Marked``).
_START, _END, _OTHER = "\ufdd0", "\ufdd1", "\ufdd2"  # a word starts / ends / neither
_MARKERS = frozenset(_START + _END + _OTHER)
_NONE = 0xFFFFFFFF
_INDEX = np.int32  # offsets kept per character (a text under 2 G characters: half of int64)
_SPACE_TABLE = np.zeros(0x3001, dtype=bool)  # str.isspace, which is re's \s (all < U+3001)
_SPACE_TABLE[[c for c in range(0x3001) if chr(c).isspace()]] = True


def _check(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled


def _codes(text: str) -> np.ndarray:
    """Code points of ``text`` (lone surrogates of undecodable file names included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _text(codes: np.ndarray) -> str:
    data = np.ascontiguousarray(codes, dtype=np.uint32).tobytes()
    return data.decode("utf-32-le", "surrogatepass")


def _is_space(codes: np.ndarray) -> np.ndarray:
    return _SPACE_TABLE[np.minimum(codes, 0x3000)] & (codes <= 0x3000)


@functools.cache
def _bmp_word_table() -> np.ndarray:
    """re's ``\\w`` (``str.isalnum()`` or ``_``) for the Basic Multilingual Plane (30 ms once)."""
    table = np.fromiter((chr(c).isalnum() for c in range(0x10000)), dtype=bool, count=0x10000)
    table[ord("_")] = True
    return table


def _is_word(codes: np.ndarray) -> np.ndarray:
    out = _bmp_word_table()[np.minimum(codes, 0xFFFF)]
    astral = codes > 0xFFFF
    if astral.any():
        found = np.unique(codes[astral])
        words = found[[chr(int(c)).isalnum() for c in found]]
        out = out & ~astral
        out[astral] = np.isin(codes[astral], words)
    return out


class _Folded:
    """A document's text case-folded, each run of whitespace one space, and the maps back.

    Built a megabyte at a time (``cancel`` is asked between steps, and no step
    holds the GIL long enough to stall the window), then kept with the document.
    ``text`` holds the words in the order of the document's text; query words
    joined by one space are then found with ``str.find`` (two-way: linear in
    the text whatever the query), never with a regular expression, whose
    backtracking made 499 words over 16 MB take 86 s.
    """

    def __init__(self, text: str, cancel: Callable[[], bool] | None = None) -> None:
        self.length = len(text)
        parts: list[str] = []
        lengths: list[np.ndarray] | None = None  # characters each text character folds to
        dropped: list[np.ndarray] = []  # folded positions of whitespace after whitespace
        offset = 0  # folded characters before this chunk
        after_space = False
        for begin in range(0, len(text), CHUNK):
            _check(cancel)
            chunk = text[begin : begin + CHUNK]
            folded = chunk.casefold()
            if len(folded) != len(chunk):  # "ß" -> "ss", "İ" -> "i̇": offsets shift, map them
                pieces = [c.casefold() for c in chunk]
                if lengths is None:
                    lengths = [np.ones(begin, dtype=np.int64)] if begin else []
                lengths.append(np.fromiter(map(len, pieces), np.int64, len(pieces)))
                folded = "".join(pieces)
            elif lengths is not None:
                lengths.append(np.ones(len(chunk), dtype=np.int64))
            codes = _codes(folded)
            space = _is_space(codes)
            before = np.empty_like(space)
            before[:1] = after_space
            before[1:] = space[:-1]
            drop = space & before
            if len(space):
                after_space = bool(space[-1])
            keep = ~drop
            kept = codes[keep].copy()
            kept[space[keep]] = 32
            kept[(kept >= 0xFDD0) & (kept <= 0xFDD2)] = 0xFFFD  # the whole-word markers
            parts.append(_text(kept))
            found = np.flatnonzero(drop)
            if len(found):
                dropped.append(found + offset)
            offset += len(codes)
        self.chunks = parts  # never joined: no one step copies the whole text
        drops = np.concatenate(dropped) if dropped else np.zeros(0, dtype=np.int64)
        # A spaced position j came from folded position j + (drops before it): drops[i] - i
        # is where the i-th dropped character would have stood in the spaced text.
        self._shift = (drops - np.arange(len(drops), dtype=np.int64)).astype(_INDEX)
        self.origin: np.ndarray | None = None
        if lengths is not None:
            per_char = np.concatenate(lengths)
            self.origin = np.repeat(np.arange(len(text), dtype=_INDEX), per_char)
        self._marked: _Marked | None = None

    def to_text(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The text spans spaced spans ``[a, b)`` came from (arrays: one step for every hit)."""
        first = a + np.searchsorted(self._shift, a, side="right")
        last = (b - 1) + np.searchsorted(self._shift, b - 1, side="right")
        if self.origin is not None:
            first, last = self.origin[first], self.origin[last]
        return first, last + 1

    def marked(self, cancel: Callable[[], bool] | None = None) -> _Marked:
        """The whole-word form of ``text`` (made at the first whole-word search, then kept)."""
        if self._marked is None:
            self._marked = _Marked(self.chunks, cancel)
        return self._marked


def _marker_codes(word: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The marker before each character: a word starts, ends, neither (or none inside one)."""
    return np.where(
        word & ~before,
        ord(_START),
        np.where(before & ~word, ord(_END), np.where(word, _NONE, ord(_OTHER))),
    ).astype(np.uint32)


class _Marked:
    """``text`` with a marker before each character where a word starts, ends, or neither
    side is a word character, and one at the end: "a (b)" reads ⓢa⒠ ⓞ(ⓢb⒠)ⓞ.

    A whole-word match of words (no word character just before or after, re's
    ``(?<!\\w)``/``(?!\\w)``) is then exactly an occurrence of the words marked the
    same way, starting as after a non-word character and ending as before one:
    a plain ``str.find``, linear, where the lookarounds cost a regular expression
    a comparison of the whole query at each word.
    """

    def __init__(self, spaced: list[str], cancel: Callable[[], bool] | None) -> None:
        self.chunks: list[str] = []
        self.markers: list[int] = []  # markers in each chunk (offsets map back by counting)
        previous = False
        for piece in spaced:
            _check(cancel)
            if not piece:  # a chunk of whitespace only, after whitespace
                self.chunks.append("")
                self.markers.append(0)
                continue
            codes = _codes(piece)
            word = _is_word(codes)
            before = np.empty_like(word)
            before[:1] = previous
            before[1:] = word[:-1]
            previous = bool(word[-1])
            both = np.empty(2 * len(codes), dtype=np.uint32)
            both[0::2] = _marker_codes(word, before)
            both[1::2] = codes
            both = both[both != _NONE]
            self.markers.append(int(np.count_nonzero((both >= 0xFDD0) & (both <= 0xFDD2))))
            self.chunks.append(_text(both))
        self.chunks.append(_END if previous else _OTHER)
        self.markers.append(1)

    def to_spaced(self, offsets: list[int]) -> list[int]:
        """Spaced-text offsets of the characters at marked ``offsets`` (ascending): the
        markers before each are counted once, chunk by chunk (linear, no per-character map)."""
        out: list[int] = []
        chunk = base = before = counted = inside = 0  # markers before the chunk, in it so far
        for k in offsets:
            while k >= base + len(self.chunks[chunk]):
                base += len(self.chunks[chunk])
                before += self.markers[chunk]
                chunk, counted, inside = chunk + 1, 0, 0
            text, local = self.chunks[chunk], k - base
            piece = text[counted:local]
            inside += piece.count(_START) + piece.count(_END) + piece.count(_OTHER)
            counted = local
            out.append(k - before - inside)
        return out

    @staticmethod
    def needle(words: str) -> str:
        """The words as the marked text holds them where they stand as whole words."""
        codes = _codes(words)
        word = _is_word(codes)
        before = np.empty_like(word)
        before[:1] = False
        before[1:] = word[:-1]
        both = np.empty(2 * len(codes), dtype=np.uint32)
        both[0::2] = _marker_codes(word, before)
        both[1::2] = codes
        return _text(both[both != _NONE]) + (_END if word[-1] else _OTHER)


def folded(document: Document, cancel: Callable[[], bool] | None = None) -> _Folded:
    """The document's folded, spaced text, made once and kept with the document."""
    index = document.__dict__.get("_find_index")
    if index is None or index.length != len(document.text):
        index = _Folded(document.text, cancel)
        document.__dict__["_find_index"] = index
    return index


def fold_words(words: str) -> list[str]:
    """The query as it is matched: compatibility characters folded, case folded, split."""
    return unicodedata.normalize("NFKC", words).casefold().split()


def pattern(words: str, *, whole_words: bool = False) -> re.Pattern[str]:
    """The regular expression ``find`` matches: literal, any whitespace between words.

    What a match is (``find`` itself searches without it); UserError when there
    is nothing to find (empty, only spaces, too long).
    """
    parts = _checked_words(words)
    body = r"\s+".join(re.escape(p) for p in parts)
    if whole_words:
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body)


def _checked_words(words: str) -> list[str]:
    parts = fold_words(words)
    if not parts:
        raise UserError("give the words to find")
    if len(words) > MAX_WORDS_CHARS:
        raise UserError(f"the words to find are over {MAX_WORDS_CHARS} characters; shorten them")
    return parts


def _occurrences(
    chunks: list[str], needle: str, limit: int, step_back: int, cancel: Callable[[], bool] | None
) -> list[int]:
    """Offsets of ``needle`` in the text ``chunks`` make, left to right, not overlapping (as
    ``re.finditer``): one ``str.find`` per chunk and match (two-way: linear whatever the
    needle), a match starting in one chunk may end in the next. The next search starts
    ``step_back`` characters before a match's end."""
    found: list[int] = []
    m = len(needle)
    base = pos = 0  # the chunk's offset; where the next search may start
    for k, chunk in enumerate(chunks):
        _check(cancel)
        tail, need, j = [], m - 1, k + 1  # what a match starting in this chunk can reach
        while need > 0 and j < len(chunks):
            tail.append(chunks[j][:need])
            need, j = need - len(tail[-1]), j + 1
        window = chunk + "".join(tail) if tail else chunk
        local = max(pos - base, 0)
        while local < len(chunk) and len(found) < limit:
            i = window.find(needle, local, len(chunk) + m - 1)
            if i < 0:
                break
            found.append(base + i)
            local = i + m - step_back
        pos = base + local
        base += len(chunk)
        if len(found) >= limit:
            break
    return found


def find(
    document: Document,
    words: str,
    *,
    whole_words: bool = False,
    limit: int = MAX_HITS,
    cancel: Callable[[], bool] | None = None,
) -> list[Hit]:
    """Every occurrence of ``words`` in ``document``, in text (reading) order.

    Case- and ligature-insensitive; words match across any whitespace;
    ``whole_words`` matches only where a word starts and ends ("cat" not in
    "locate"). Time linear in the text whatever the query. UserError for an
    empty query; Cancelled as soon as ``cancel()`` says so. At most ``limit`` hits.
    """
    parts = _checked_words(words)
    index = folded(document, cancel)
    needle = " ".join(parts)
    if _MARKERS.intersection(needle):  # noncharacters: the text holds none (made U+FFFD)
        return []
    if whole_words:
        marked = index.marked(cancel)
        at = _occurrences(marked.chunks, _Marked.needle(needle), limit, 1, cancel)
        a = np.array(marked.to_spaced([k + 1 for k in at]), dtype=np.int64)
    else:
        a = np.array(_occurrences(index.chunks, needle, limit, 0, cancel), dtype=np.int64)
    starts, ends = index.to_text(a, a + len(needle))
    pages: list[int | None]
    if document.kind == "text" or not len(document.char_page):
        pages = [None] * len(starts)
    else:  # a match starts on a word (never a separator): its first character's page
        pages = document.char_page[starts].tolist()
    labels = document.page_labels
    return [
        Hit(a, b, page, (labels[page] or None) if labels and page is not None else None, document)
        for a, b, page in zip(starts.tolist(), ends.tolist(), pages, strict=True)
    ]


def hits_on_page(hits: Sequence[Hit], page: int) -> list[int]:
    """Indices of the hits on a 0-based page (to highlight every one of them there)."""
    return [i for i, h in enumerate(hits) if h.page == page]


def step(hits: Sequence[Hit], current: int | None, forward: bool = True) -> int | None:
    """The hit F3 (``forward``) or Shift+F3 goes to from ``current``, wrapping around.

    ``current`` None (nothing picked yet) goes to the first (or the last) hit;
    None when there are no hits.
    """
    if not hits:
        return None
    if current is None:
        return 0 if forward else len(hits) - 1
    return (current + (1 if forward else -1)) % len(hits)


def first_from_page(hits: Sequence[Hit], page: int) -> int | None:
    """The first hit on or after a 0-based page (where find starts from the page shown),
    wrapping to the first hit; None when there are none."""
    for i, h in enumerate(hits):
        if h.page is not None and h.page >= page:
            return i
    return 0 if hits else None
