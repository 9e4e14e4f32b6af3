"""Finding one's way in a document: its outline (table of contents) and printed page labels.

Both are read once, at extraction, from PyMuPDF (``Document.get_toc()``,
``Page.get_label()``), and stored with the document's content (cache and
library), so a cached document has them without reopening the file. Qt-free:
the app's outline panel and page box are thin views over ``Document.outline``,
``section_at`` and ``Document.page_label``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutlineEntry:
    """One entry of a table of contents.

    ``level`` is 1 for top-level entries (PyMuPDF's numbering); ``page`` the
    0-based page it leads to, or None when the entry leads nowhere in this
    document (an external link, a broken destination).
    """

    level: int
    title: str
    page: int | None

    def to_json(self) -> dict[str, Any]:
        """``page`` 1-based in JSON, as ``ask --json`` counts pages."""
        return {
            "level": self.level,
            "title": self.title,
            "page": None if self.page is None else self.page + 1,
        }


def read_outline(mdoc: Any) -> list[OutlineEntry]:
    """The outline of an open PyMuPDF document (PDF, EPUB, XPS...); [] when it has none.

    A damaged outline is no reason to refuse the document: it reads as none.
    """
    try:
        toc = mdoc.get_toc(simple=True)
        pages = mdoc.page_count
    except Exception:
        return []
    out: list[OutlineEntry] = []
    for item in toc:
        try:
            level, title, page = int(item[0]), str(item[1]), int(item[2])
        except (TypeError, ValueError, IndexError):
            continue
        title = " ".join(title.replace("\x00", "").split())
        out.append(OutlineEntry(max(level, 1), title, page - 1 if 1 <= page <= pages else None))
    return out


def has_page_labels(mdoc: Any) -> bool:
    """Whether the document defines page labels (a PDF's /PageLabels)."""
    try:
        return bool(mdoc.is_pdf and mdoc.get_page_labels())
    except Exception:
        return False


def page_label(page: Any) -> str:
    """A page's printed label ("xiv", "A-3"); "" when it has none or it cannot be read."""
    try:
        return " ".join(str(page.get_label() or "").split())
    except Exception:
        return ""


def section_at(outline: Sequence[OutlineEntry], page: int) -> int | None:
    """Index in ``outline`` of the section ``page`` (0-based) lies in, or None.

    The section is the last entry, in outline order, leading to this page or
    an earlier one: on a page where several entries start, the deepest last
    one. Entries that lead nowhere are passed over. Outlines are in page
    order in nearly every document; one that is not is still answered by
    outline order (the entry a reader would have passed last).
    """
    best: int | None = None
    pages = [e.page for e in outline]
    if all(p is not None for p in pages) and pages == sorted(pages):  # type: ignore[type-var]
        i = bisect.bisect_right(pages, page)  # type: ignore[arg-type]
        return i - 1 if i > 0 else None
    for i, entry in enumerate(outline):
        if entry.page is not None and entry.page <= page:
            best = i
    return best
