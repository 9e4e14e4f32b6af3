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

from desktop_qa.core.documents.formats.citations import CitationMap, PageInfo
from desktop_qa.core.errors import UserError, mb

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
th.rowno, th.colno { color: #666666; font-weight: normal; text-align: left; }
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
    spreadsheet, laid out as one table whose first row is ``columns`` (the
    column letters) and whose first column is the row numbers: where those
    land on the page says which row and cell a word is in.
    ``suffix`` ends every label (" of attachment a.docx of e-mail ...").
    """

    html: str
    label: str
    size: tuple[float, float] = LETTER
    css: str = ""
    sheet: str | None = None
    columns: list[str] = field(default_factory=list)
    suffix: str = ""


def render(sections: list[Section], what: str) -> tuple[bytes, CitationMap]:
    """Lay every section out into one in-memory PDF; return its bytes and its citation map."""
    import pymupdf

    if sum(len(s.html) for s in sections) > MAX_HTML_CHARS:
        raise UserError(
            f"{what} converts to more than {mb(MAX_HTML_CHARS)} of text and "
            "markup, over the limit for laying it out; split it into smaller documents"
        )
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    out = io.BytesIO()
    writer = pymupdf.DocumentWriter(out)
    pages: list[PageInfo] = []
    owners: list[Section] = []
    try:
        for section in sections:
            _place(pymupdf, writer, section, pages, what)
            owners.extend([section] * (len(pages) - len(owners)))
    finally:
        if not pages:  # a writer with no page cannot close cleanly
            writer.begin_page(pymupdf.Rect(0, 0, *LETTER))
            writer.end_page()
        writer.close()
    pdf = out.getvalue()
    if any(s.sheet is not None for s in sections):
        _grid(pymupdf, pdf, pages, owners)
    return pdf, CitationMap(pages)


def _grid(pymupdf, pdf: bytes, pages: list[PageInfo], owners: list[Section]) -> None:  # noqa: ANN001
    """Row bands and column edges of every spreadsheet page, from the words laid out.

    A story's element-position callback would give each cell's rectangle, but
    it costs a Python call per element per page (measured: 10,000 cells took
    2.6 s instead of 0.9 s). The header row of column letters is found on a
    table's first page; MuPDF sizes a table's columns once, so its edges hold
    on every later page of the table. Row numbers are the words left of column A.
    """
    with pymupdf.open("pdf", pdf) as mdoc:
        columns: list[tuple[float, str]] = []
        for number, (info, section) in enumerate(zip(pages, owners, strict=True)):
            if section.sheet is None:
                continue
            words = mdoc[number].get_text("words")
            if number == 0 or owners[number - 1] is not section:
                columns = _header(words, section.columns)
            info.columns = columns
            if not columns:
                continue
            left = columns[0][0]
            info.rows = [(float(w[1]), int(w[4])) for w in words if w[2] <= left and w[4].isdigit()]


def _header(words: list, letters: list[str]) -> list[tuple[float, str]]:
    """The column letters' left edges: the first line of words that is exactly ``letters``."""
    lines: dict[tuple[int, int], list] = {}
    for w in words:
        lines.setdefault((w[5], w[6]), []).append(w)
    wanted = list(letters)
    for line in lines.values():
        if [w[4] for w in line] == wanted:
            return [(float(w[0]) - 3.0, w[4]) for w in line]
    # Wide sheets wrap nothing: a header cut into several lines is joined in reading order.
    flat = [w for w in words if w[4] in set(letters)]
    for i in range(len(flat) - len(wanted) + 1):
        if [w[4] for w in flat[i : i + len(wanted)]] == wanted:
            return [(float(w[0]) - 3.0, w[4]) for w in flat[i : i + len(wanted)]]
    return []


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
        story.draw(device)
        writer.end_page()
        pages.append(info)
        # Content MuPDF cannot fit (an unbreakable element taller than a page) is
        # reported as "more" for ever; two empty pages in a row end the section.
        stalled = stalled + 1 if pymupdf.Rect(filled).is_empty else 0
        if stalled >= 2:
            break
