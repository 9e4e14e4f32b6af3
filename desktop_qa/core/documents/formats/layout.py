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

import html as _html
import io
import re
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
# A section whose story stalls on a table row taller than a page is laid out again with
# this (tables as plain blocks, in reading order), up to this many times per document.
FLAT_TABLES_CSS = "table, thead, tbody, tfoot, tr, td, th, caption { display: block; }"
MAX_RELAYOUTS = 3
SHEET_CSS = "body { font-size: 9pt; } td, th { padding: 0.5pt 4pt; }"
SHEET_FONT = 9.0
# A sheet's page grows as wide as its columns need, up to 100 inches (7,200 pt); a wider
# sheet is cut into bands of columns. Its height stays landscape Letter's: the viewer draws
# whole pages, and a page 100 inches wide and as tall would be a 1.3-gigapixel image at the
# viewer's top zoom. A cell's text wraps past CELL_WIDTH points (a long note), never inside
# a word.
MAX_PAGE_SIDE = 7_200.0
CELL_WIDTH = 240.0
MAX_WORD_WIDTH = 6000.0  # a longer unbroken word (a data blob) overflows its cell
# A row cannot break across pages (MuPDF cuts what does not fit): a long text's column is
# widened until the text takes at most this many lines, which fit a landscape page.
MAX_CELL_LINES = 36
_CELL_PADDING = 10.0  # padding and borders of a cell, points (wide enough that MuPDF
# never reads two cells' words as one: measured, "あ" and "b" 4 pt apart came out "あb")
_LAYOUT_SLACK = 1.08  # MuPDF's table layout takes a little more than the columns' widths
_FONT_SLACK = 1.15  # and its sans-serif a little more than Helvetica's metrics


def text_width(text: str, fontsize: float = SHEET_FONT) -> float:
    """Points ``text`` takes in the sheet font: Helvetica's widths, one em for a character it
    lacks (CJK and other scripts the layout draws from its fallback fonts)."""
    import pymupdf

    latin = "".join(ch for ch in text if ord(ch) < 0x100)
    others = len(text) - len(latin)
    return pymupdf.get_text_length(latin, fontname="helv", fontsize=fontsize) + others * fontsize


def cell_width(text: str) -> float:
    """The width a sheet column needs for ``text``: all of it up to ``CELL_WIDTH`` (longer
    text wraps at its spaces, in at most ``MAX_CELL_LINES`` lines), never less than its
    longest word (up to ``MAX_WORD_WIDTH``)."""
    words = text.split() or [""]
    longest = min(max(text_width(w) for w in words), MAX_WORD_WIDTH)
    natural = text_width(text)
    tall = min(natural / MAX_CELL_LINES, MAX_WORD_WIDTH)  # Excel's 32,767 characters: ~4,000 pt
    return max(min(natural, CELL_WIDTH), longest, tall, 4.0) * _FONT_SLACK + 1.0


def column_bands(widths: list[float], last_row: str) -> list[tuple[list[int], tuple[float, float]]]:
    """The sheet's columns in bands that each fit one page, with each band's page size.

    ``widths``: each column's ``cell_width`` (its widest cell), in order;
    ``last_row``: the last row number (the width of the row-number column). The
    widths are set on the table: MuPDF's automatic table layout squeezes short
    columns to give room to long ones (measured: a CJK cell then broke mid-word
    and a short word ran into the next cell). A band's page is landscape Letter
    when that is enough, else as wide as its columns need, up to
    ``MAX_PAGE_SIDE``; a sheet wider than that is cut into bands of whole
    columns (as a printed sheet is), each repeating the row numbers.
    """
    gutter = cell_width(last_row) + _CELL_PADDING

    def page(total: float) -> float:
        return total * _LAYOUT_SLACK + 2 * MARGIN

    bands: list[tuple[list[int], tuple[float, float]]] = []
    current: list[int] = []
    total = gutter
    for index, width in enumerate(widths):
        if current and page(total + width + _CELL_PADDING) > MAX_PAGE_SIDE:
            bands.append((current, (max(LANDSCAPE[0], round(page(total), 1)), LANDSCAPE[1])))
            current, total = [], gutter
        current.append(index)
        total += width + _CELL_PADDING
    bands.append((current, (max(LANDSCAPE[0], round(page(total), 1)), LANDSCAPE[1])))
    return bands


# A document's table too wide for its page (Word, HTML) gets landscape pages and a smaller
# font (down to MIN_FONT) until its columns' longest words fit; wider still, the page grows.
WIDE_COLUMNS = 9  # more cells than this in a row: too wide for a portrait page whatever
BODY_FONT, WIDE_FONT, MIN_FONT = 11.0, 8.0, 5.0
MAX_WIDTH = 2000.0  # points: the widest page a document's table gets
WIDE_CSS = "table {{ font-size: {font:.1f}pt; }} td, th {{ padding: 0.5pt 1.5pt; }}"


def word_width(word: str) -> float:
    """A word's width at a 1-point font (Helvetica's, with a margin for the layout's font)."""
    import pymupdf

    return pymupdf.get_text_length(word, fontname="helv", fontsize=1) * 1.15


def fit_columns(widths: list[float], page: tuple[float, float]) -> tuple[float, float] | None:
    """(font size, page width) for a table whose columns' longest words are ``widths`` (at 1
    pt); None when it fits ``page`` at the body's font.

    MuPDF never breaks a word, and a table wider than its page is cut at the
    page's edge: a value lost. More than ``WIDE_COLUMNS`` cells in a row, or
    longest words that do not fit, get a landscape page, a font down to
    ``MIN_FONT``, and past that a page as wide as needed (up to ``MAX_WIDTH``).
    """
    if not widths:
        return None
    columns = len(widths)
    text = sum(widths)
    if columns <= WIDE_COLUMNS and text * BODY_FONT + columns * 8 <= page[0] - 2 * MARGIN:
        return None
    width = max(page)
    font = min(WIDE_FONT, (width - 2 * MARGIN - columns * 5) / max(text, 1e-6))
    if font < MIN_FONT:
        font = max(MIN_FONT, (MAX_WIDTH - 2 * MARGIN - columns * 5) / max(text, 1e-6))
        width = min(MAX_WIDTH, text * font + columns * 5 + 2 * MARGIN)
    return round(font - 0.05, 1), width


@dataclass
class Section:
    """One run of pages: ``html`` (a safe body fragment) on pages of ``size`` points.

    ``label`` names every page of it ("slide 3"; ``{page}`` is replaced by the
    page number inside the section, "page {page}"); ``sheet`` is set for a
    spreadsheet, laid out as one table whose first row is ``columns`` (the
    column letters) and whose first column is the row numbers: where those
    land on the page says which row and cell a word is in.
    ``suffix`` ends every label (" of attachment a.docx of e-mail ...").
    ``headers``: a sheet's column names by letter (its first row, when it reads
    as one), the context an answer in a row below is framed in.
    ``continues``: its pages are numbered on from the previous section's (the
    sections of one Word document). ``header`` and ``footer`` (a Word page's
    furniture: markup per kind of page, "default", "first" (the section's first
    page), "even") are drawn in every page's top and bottom margins; their
    rectangles are the page's ``PageInfo.furniture``, which extraction keeps
    out of passages.
    """

    html: str
    label: str
    size: tuple[float, float] = LETTER
    css: str = ""
    sheet: str | None = None
    columns: list[str] = field(default_factory=list)
    suffix: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    header_row: int = 0
    continues: bool = False
    # An e-mail's subject (``heading``: furniture) and header lines (``lead``), drawn above
    # the body on its first page but read after it: context for the body, not its rival.
    heading: str = ""
    lead: str = ""
    header: dict[str, str] = field(default_factory=dict)
    footer: dict[str, str] = field(default_factory=dict)


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
    flat: set[int] = set()
    while True:
        try:
            return _render(pymupdf, sections, what, flat)
        except _Stalled as stalled:
            # Laid out again with that section's tables as blocks (a few times at most;
            # then every section's), so no text is cut where a table row could not split.
            flat |= {stalled.index} if len(flat) < MAX_RELAYOUTS else set(range(len(sections)))


class _Stalled(Exception):  # noqa: N818 (not an error: a signal to lay out again)
    def __init__(self, index: int) -> None:
        self.index = index


def _render(
    pymupdf,  # noqa: ANN001
    sections: list[Section],
    what: str,
    flat: set[int],
) -> tuple[bytes, CitationMap]:
    out = io.BytesIO()
    writer = pymupdf.DocumentWriter(out)
    pages: list[PageInfo] = []
    owners: list[Section] = []
    spans: list[tuple[int, int]] = []  # each section's pages
    try:
        number = 0
        for index, section in enumerate(sections):
            first = len(pages)
            start = number if section.continues else 0
            number = _place(pymupdf, writer, section, pages, what, start, index, flat)
            owners.extend([section] * (len(pages) - len(owners)))
            spans.append((first, len(pages)))
    finally:
        if not pages:  # a writer with no page cannot close cleanly
            writer.begin_page(pymupdf.Rect(0, 0, *LETTER))
            writer.end_page()
        writer.close()
    pdf = out.getvalue()
    _check_tables_kept(pymupdf, pdf, sections, spans, flat)
    if any(s.sheet is not None for s in sections):
        _grid(pymupdf, pdf, pages, owners)
    return pdf, CitationMap(pages)


_TAG = re.compile(r"<[^>]*>")


def _check_tables_kept(pymupdf, pdf: bytes, sections, spans, flat: set[int]) -> None:  # noqa: ANN001
    """Raise ``_Stalled`` for a section with tables whose laid-out text came out short.

    MuPDF sometimes ends a story whose table row is taller than a page as if it
    were done, with the rest of the row and of the section cut: only the text on
    the pages tells. Sections without tables are never cut that way; the check
    costs a text extraction of the pages of those with tables.
    """
    suspects = [i for i, s in enumerate(sections) if i not in flat and "<table" in s.html]
    if not suspects:
        return
    with pymupdf.open("pdf", pdf) as mdoc:
        for index in suspects:
            wanted = _ink(_html.unescape(_TAG.sub(" ", sections[index].html)))
            first, end = spans[index]
            laid = sum(_ink(mdoc[n].get_text()) for n in range(first, end))
            if laid < 0.9 * wanted:
                raise _Stalled(index)


def _ink(text: str) -> int:
    """Characters other than white space (what lay-out and extraction must both keep)."""
    return len(text) - sum(text.count(c) for c in " \t\n\r\xa0")


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


_TABLE_PART = re.compile(r"<(/?)(table|tr|td|th)(?=[\s>/])", re.IGNORECASE)
_NEXT_TAG = re.compile(r"<(?:/?(?:td|th|tr|table))(?=[\s>/])", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_ROW_ID, _CELL_ID = "dqrow", "dqcell"


def _number_rows(html: str) -> tuple[str, dict[int, list[str]]]:
    """A document's tables with ids on their rows (``dqrow{table}.{row}``) and cells
    (``dqcell{table}.{row}.{cell}``), so the layout reports where each lands
    (``PageInfo.table_rows``/``table_cells``); and each table's column names, from its
    first row when it reads as a header (two or more short cells, none a number)."""
    import html as html_module

    out: list[str] = []
    pos = 0
    stack: list[list[int]] = []  # per open table: [table id, row, cell]
    tables = 0
    first_rows: dict[int, list[str]] = {}
    for match in _TABLE_PART.finditer(html):
        closing, tag = match.group(1), match.group(2).lower()
        out.append(html[pos : match.end()])
        pos = match.end()
        if tag == "table":
            if closing:
                if stack:
                    stack.pop()
            else:
                stack.append([tables, -1, -1])
                tables += 1
        elif not closing and stack:
            table = stack[-1]
            if tag == "tr":
                table[1], table[2] = table[1] + 1, -1
                out.append(f' id="{_ROW_ID}{table[0]}.{table[1]}"')
            else:
                table[2] += 1
                out.append(f' id="{_CELL_ID}{table[0]}.{table[1]}.{table[2]}"')
                if table[1] == 0:
                    end = html.find(">", pos)
                    after = _NEXT_TAG.search(html, end + 1) if end >= 0 else None
                    inner = html[end + 1 : after.start() if after else len(html)]
                    name = " ".join(html_module.unescape(_TAG.sub(" ", inner)).split())
                    first_rows.setdefault(table[0], []).append(name)
    out.append(html[pos:])
    headers = {
        t: names
        for t, names in first_rows.items()
        if len(names) >= 2 and all(0 < len(n) <= 60 and not _is_number(n) for n in names)
    }
    return "".join(out), headers


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+($€£¥]*[\d.,\s]+[%)]*", text))


def _place(pymupdf, writer, section: Section, pages: list[PageInfo], what: str,  # noqa: ANN001
           number: int = 0, index: int = 0,
           flat: frozenset[int] | set[int] = frozenset()) -> int:  # fmt: skip
    """Pages for one section until its story is placed; returns the last page number
    (labels of a section that ``continues`` go on from it).

    MuPDF cannot split a table row across pages: a row taller than a page (a long
    cell, a page laid out in one big table cell, nested tables) stops the story,
    and whatever follows was cut without a word. Such a section is laid out again
    with its tables as blocks (``_Stalled``); only then is a story that stops cut.
    A Word section's headers and footers are drawn in its margins, an e-mail's
    subject and header lines above its body (``PageInfo.furniture``, ``drawn``).
    """
    body = section.html
    rows: list[tuple] = []
    cells: list[tuple] = []
    headers: dict[int, list[str]] = {}
    if section.sheet is None and "<tr" in body.lower():
        body, headers = _number_rows(body)
    html = f"<html><body>{body}</body></html>"
    css = CSS + section.css + (FLAT_TABLES_CSS if index in flat else "")
    story = pymupdf.Story(html=html, user_css=css)

    def row_placed(position) -> None:  # noqa: ANN001
        name = position.id or ""
        if not position.open_close & 1 or not name.startswith("dq"):
            return
        rect = tuple(round(float(v), 2) for v in position.rect)
        if name.startswith(_ROW_ID):
            table, row = (int(n) for n in name[len(_ROW_ID) :].split("."))
            rows.append((*rect, table, row))
        elif name.startswith(_CELL_ID):
            table, row, cell = (int(n) for n in name[len(_CELL_ID) :].split("."))
            cells.append((*rect, table, row, cell))

    mediabox = pymupdf.Rect(0, 0, *section.size)
    top = _band(pymupdf, section.header, section.size)
    bottom = _band(pymupdf, section.footer, section.size)
    where = mediabox + (MARGIN, MARGIN + top, -MARGIN, -MARGIN - bottom)
    # An e-mail's subject (``heading``, furniture) and header lines (``lead``) above the body.
    tops = [
        (markup, min(_measure(pymupdf, markup, section.size, section.css), where.height / 4))
        for markup in (section.heading, section.lead)
    ]
    lead = sum(height for markup, height in tops if markup.strip())
    first = number
    stories: dict[str, tuple] = {}  # header and footer stories, reused page after page
    stalled = 0
    more = 1
    while more:
        if len(pages) >= MAX_PAGES:
            raise UserError(
                f"{what} lays out to more than {MAX_PAGES:,} pages, the limit; "
                "split it into smaller documents"
            )
        device = writer.begin_page(mediabox)
        body_rect = where + (0, lead + 4, 0, 0) if lead and number == first else where
        more, filled = story.place(body_rect)
        rows.clear()
        cells.clear()
        if body is not section.html:
            story.element_positions(row_placed)
        number += 1
        info = PageInfo(
            label=section.label.replace("{page}", str(number)) + section.suffix,
            sheet=section.sheet,
            suffix=section.suffix,
            headers=section.headers,
            header_row=section.header_row,
            table_rows=list(rows),
            table_cells=list(cells),
            table_headers={t: headers[t] for t in {r[4] for r in rows} if t in headers},
        )
        story.draw(device)
        if lead and number == first + 1:  # drawn after the body: their text comes after too
            y = where.y0
            for n, (markup, height) in enumerate(tops):
                if not markup.strip():
                    continue
                rect = pymupdf.Rect(where.x0, y, where.x1, y + height + 1)
                top = pymupdf.Story(
                    html=f"<html><body>{markup}</body></html>", user_css=CSS + section.css
                )
                top.place(rect)
                top.draw(device)
                y += height
                info.drawn.append((tuple(rect), markup))
                if n == 0:  # the heading is furniture: shown and found, never an answer
                    info.furniture.append(tuple(rect))
        kind = "first" if number == first + 1 else "even" if number % 2 == 0 else "default"
        for parts, y in ((section.header, MARGIN * 0.5), (section.footer, None)):
            markup = parts.get(kind, parts.get("default", ""))
            if markup.strip():
                rect = _furniture(pymupdf, device, markup, section.size, y, stories)
                if rect is not None:
                    info.furniture.append(rect)
                    info.drawn.append((rect, markup))
        writer.end_page()
        pages.append(info)
        # Content MuPDF cannot fit (an unbreakable element taller than a page) is
        # reported as "more" for ever; two empty pages in a row end the section.
        stalled = stalled + 1 if pymupdf.Rect(filled).is_empty else 0
        if (
            index not in flat
            and section.sheet is None
            and "<table" in section.html
            and (filled[3] > where.y1 + 2 or number - first > 5 + len(section.html) // 200)
        ):
            raise _Stalled(index)  # a row past the page's bottom, or "more" page after page
        if stalled >= 2:
            if index not in flat:
                raise _Stalled(index)
            break
    return number


FURNITURE_CSS = "body { font-size: 8.5pt; color: #555555; } p { margin: 0; } table { margin: 0; }"
MAX_BAND = 0.25  # of the page's height: a header or footer taller than this is cut


def _band(pymupdf, parts: dict[str, str], size: tuple[float, float]) -> float:  # noqa: ANN001
    """Height a header or footer needs beyond the margin (0 when it fits in it)."""
    tallest = 0.0
    for markup in set(parts.values()):
        if markup.strip():
            tallest = max(tallest, _measure(pymupdf, markup, size))
    return max(0.0, min(tallest, size[1] * MAX_BAND) + MARGIN * 0.5 + 6.0 - MARGIN)


def _measure(pymupdf, markup: str, size: tuple[float, float], css: str = FURNITURE_CSS) -> float:  # noqa: ANN001, E501
    story = pymupdf.Story(html=f"<html><body>{markup}</body></html>", user_css=CSS + css)
    _, filled = story.place(pymupdf.Rect(MARGIN, 0, size[0] - MARGIN, size[1]))
    return float(pymupdf.Rect(filled).height)


def _furniture(
    pymupdf, device, markup: str, size: tuple[float, float], y: float | None, memo: dict
):  # noqa: ANN001, ANN202, E501
    """Draw a header (at ``y``) or a footer (``y`` None: above the bottom edge); its rectangle.

    ``memo`` keeps each header's story and height for the section: one story
    laid out again (``reset``) on every page, not made and measured anew.
    """
    if markup not in memo:
        story = pymupdf.Story(
            html=f"<html><body>{markup}</body></html>", user_css=CSS + FURNITURE_CSS
        )
        _, filled = story.place(pymupdf.Rect(MARGIN, 0, size[0] - MARGIN, size[1]))
        memo[markup] = (story, min(float(pymupdf.Rect(filled).height), size[1] * MAX_BAND))
    story, height = memo[markup]
    if height <= 0:
        return None
    if y is None:
        y = size[1] - MARGIN * 0.5 - height
    rect = pymupdf.Rect(MARGIN, y, size[0] - MARGIN, y + height + 1)
    story.reset()
    story.place(rect)
    story.draw(device)
    return (float(rect.x0), float(rect.y0), float(rect.x1), float(rect.y1))
