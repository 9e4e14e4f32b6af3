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
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_qa.core.documents.document import Box, Document
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.results import make_context

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


class _Folded:
    """A document's text case-folded, with the map from folded offsets back to the text."""

    def __init__(self, text: str) -> None:
        folded = text.casefold()
        self.origin: np.ndarray | None = None
        if len(folded) != len(text):  # "ß" -> "ss", "İ" -> "i̇": offsets shift, map them
            parts = [c.casefold() for c in text]
            lengths = np.fromiter((len(p) for p in parts), np.int64, len(parts))
            self.origin = np.repeat(np.arange(len(text), dtype=np.int64), lengths)
            folded = "".join(parts)
        self.text = folded
        self.length = len(text)

    def to_text(self, a: int, b: int) -> tuple[int, int]:
        """The text span a folded span ``[a, b)`` came from."""
        if self.origin is None:
            return a, b
        return int(self.origin[a]), int(self.origin[b - 1]) + 1


def folded(document: Document) -> _Folded:
    """The document's case-folded text, made once and kept with the document."""
    index = document.__dict__.get("_find_index")
    if index is None or index.length != len(document.text):
        index = document.__dict__["_find_index"] = _Folded(document.text)
    return index


def fold_words(words: str) -> list[str]:
    """The query as it is matched: compatibility characters folded, case folded, split."""
    return unicodedata.normalize("NFKC", words).casefold().split()


def pattern(words: str, *, whole_words: bool = False) -> re.Pattern[str]:
    """The regular expression for ``words``: literal, any whitespace between words.

    UserError when there is nothing to find (empty, only spaces, too long).
    """
    parts = fold_words(words)
    if not parts:
        raise UserError("give the words to find")
    if len(words) > MAX_WORDS_CHARS:
        raise UserError(f"the words to find are over {MAX_WORDS_CHARS} characters; shorten them")
    body = r"\s+".join(re.escape(p) for p in parts)
    if whole_words:
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body)


def find(
    document: Document,
    words: str,
    *,
    whole_words: bool = False,
    limit: int = MAX_HITS,
) -> list[Hit]:
    """Every occurrence of ``words`` in ``document``, in text (reading) order.

    Case- and ligature-insensitive; ``whole_words`` matches only where a word
    starts and ends ("cat" not in "locate"). UserError for an empty query.
    At most ``limit`` hits.
    """
    regex = pattern(words, whole_words=whole_words)
    index = folded(document)
    spans = [index.to_text(*m.span()) for m in itertools.islice(regex.finditer(index.text), limit)]
    pages: list[int | None]
    if document.kind == "text" or not len(document.char_page):
        pages = [None] * len(spans)
    else:  # a match starts on a word (never a separator): its first character's page
        starts = np.fromiter((a for a, _ in spans), np.int64, len(spans))
        pages = document.char_page[starts].tolist()
    labels = document.page_labels
    return [
        Hit(a, b, page, (labels[page] or None) if labels and page is not None else None, document)
        for (a, b), page in zip(spans, pages, strict=True)
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
