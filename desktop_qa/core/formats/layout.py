"""Lay converted HTML out on pages with MuPDF (``pymupdf.Story``) and record where things went.

A converted document is a list of ``Section``\\ s (a slide, a sheet, a
document body, an e-mail part), each laid out on pages of its own size and
starting on a new page. ``Story`` ignores ``page-break-*`` CSS (measured: a
forced break makes ``place`` report more content for ever), so sections are
what starts pages. Elements carrying an ``id`` (spreadsheet cells) report
their rectangles while they are placed: that is the citation map
(``citations.CitationMap``) which turns an answer's boxes into "row 7, cell B7".

MuPDF never fetches anything here: converters emit only text, tables and
lists (no images, stylesheets, fonts or links), and Story gets no archive.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from desktop_qa.core.errors import UserError
from desktop_qa.core.formats.citations import CitationMap, PageInfo

LETTER = (612.0, 792.0)
LANDSCAPE = (792.0, 612.0)
MARGIN = 42.0
# A document laid out past this many pages is refused (a 2,000-page Word file is rare;
# layout time grows with it, about 10 ms a page).
MAX_PAGES = 5000
# Markup handed to MuPDF's layout in one document; its memory grows about 25 bytes a byte.
MAX_HTML_CHARS = 24 * 1024 * 1024

CSS = """
body { font-family: sans-serif; font-size: 11pt; line-height: 1.3; }
h1 { font-size: 17pt; margin: 6pt 0 4pt 0; }
h2 { font-size: 15pt; margin: 6pt 0 4pt 0; }
h3 { font-size: 13pt; margin: 5pt 0 3pt 0; }
h4, h5, h6 { font-size: 11pt; margin: 4pt 0 2pt 0; }
p { margin: 0 0 5pt 0; }
table { border-collapse: collapse; margin: 4pt 0 6pt 0; }
td, th { border: 0.5pt solid #999999; padding: 1pt 3pt; vertical-align: top; }
th { background-color: #eeeeee; font-weight: bold; }
th.rowno, th.colno { color: #666666; font-weight: normal; }
.meta { color: #444444; font-size: 9.5pt; }
.notes { color: #333333; font-size: 10pt; }
blockquote { margin-left: 12pt; color: #333333; }
pre { font-family: monospace; font-size: 9.5pt; }
"""
SHEET_CSS = "body { font-size: 9pt; } td, th { padding: 0.5pt 2pt; }"


@dataclass
class Section:
    """One run of pages: ``html`` (a safe body fragment) on pages of ``size`` points.

    ``label`` names every page of it ("slide 3"; ``{page}`` is replaced by the
    page number inside the section, "page {page}"); ``sheet`` is set for a
    spreadsheet, whose cells carry ids ``cells`` maps to (row, cell reference).
    ``suffix`` ends every label (" of attachment a.docx of e-mail ...").
    """

    html: str
    label: str
    size: tuple[float, float] = LETTER
    css: str = ""
    sheet: str | None = None
    cells: dict[str, tuple[int, str]] = field(default_factory=dict)
    suffix: str = ""


def render(sections: list[Section], what: str) -> tuple[bytes, CitationMap]:
    """Lay every section out into one in-memory PDF; return its bytes and its citation map."""
    import pymupdf

    if sum(len(s.html) for s in sections) > MAX_HTML_CHARS:
        raise UserError(
            f"{what} converts to more than {MAX_HTML_CHARS // (1024 * 1024)} MB of text and "
            "markup, over the limit for laying it out; split it into smaller documents"
        )
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    out = io.BytesIO()
    writer = pymupdf.DocumentWriter(out)
    pages: list[PageInfo] = []
    try:
        for section in sections:
            _place(pymupdf, writer, section, pages, what)
    finally:
        if not pages:  # a writer with no page cannot close cleanly
            writer.begin_page(pymupdf.Rect(0, 0, *LETTER))
            writer.end_page()
        writer.close()
    return out.getvalue(), CitationMap(pages)


def _place(pymupdf, writer, section: Section, pages: list[PageInfo], what: str) -> None:  # noqa: ANN001
    """Pages for one section until its story is placed; a story that stops moving is cut."""
    html = f"<html><body>{section.html}</body></html>"
    story = pymupdf.Story(html=html, user_css=CSS + section.css)
    mediabox = pymupdf.Rect(0, 0, *section.size)
    where = mediabox + (MARGIN, MARGIN, -MARGIN, -MARGIN)
    number = 0
    stalled = 0
    more = 1
    while more:
        if len(pages) >= MAX_PAGES:
            raise UserError(
                f"{what} lays out to more than {MAX_PAGES:,} pages, the limit; "
                "split it into smaller documents"
            )
        device = writer.begin_page(mediabox)
        more, filled = story.place(where)
        number += 1
        info = PageInfo(
            label=section.label.replace("{page}", str(number)) + section.suffix,
            sheet=section.sheet,
            suffix=section.suffix,
        )
        if section.cells:
            story.element_positions(_recorder(info, section.cells))
        story.draw(device)
        writer.end_page()
        pages.append(info)
        # Content MuPDF cannot fit (an unbreakable element taller than a page) is
        # reported as "more" for ever; two empty pages in a row end the section.
        stalled = stalled + 1 if pymupdf.Rect(filled).is_empty else 0
        if stalled >= 2:
            break


def _recorder(info: PageInfo, cells: dict[str, tuple[int, str]]):  # noqa: ANN202
    def record(position) -> None:  # noqa: ANN001
        cell = cells.get(position.id or "")
        if cell is not None and position.open_close & 1:
            x0, y0, x1, y1 = position.rect
            info.cells.append((float(x0), float(y0), float(x1), float(y1), cell[0], cell[1]))

    return record
