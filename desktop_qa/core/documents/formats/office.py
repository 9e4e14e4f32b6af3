"""Word, PowerPoint and Excel files (and their macro-enabled twins) as HTML sections.

Readers chosen by measurement (docs/formats.md): python-docx (21 ms for a
300-paragraph file, where mammoth took 670 ms), python-pptx (speaker notes,
tables) and openpyxl in read-only mode (cells streamed, never the whole
sheet in memory). Macros are never run: the readers only read XML; ``.docm``,
``.pptm`` and ``.xlsm`` are read like their macro-free twins.
"""

from __future__ import annotations

import datetime as _dt
import io
import time

from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import LANDSCAPE, SHEET_CSS, Section
from desktop_qa.core.errors import UserError

# Spreadsheets: filled cells laid out in all (50,000 lay out in ~8 s on a busy 2-core machine,
# and layout grows faster than linearly), and cells looked at (empty ones included:
# a sheet may declare a million-row range); reading stops at either, or after the time.
MAX_CELLS = 50_000
MAX_SCANNED = 4_000_000
MAX_SECONDS = 60.0
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# -- Word ------------------------------------------------------------------------------------
def docx(data: bytes, name: str) -> list[Section]:
    """Headings, paragraphs, lists and tables in order; then footnotes and comments."""
    import docx as python_docx
    from docx.table import Table

    document = python_docx.Document(io.BytesIO(data))
    parts: list[str] = []
    list_tag: str | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            parts.append(_close(list_tag))
            list_tag = None
            parts.append(_docx_table(block))
            continue
        text = block.text
        if not text.strip():
            continue
        style = (block.style.name if block.style is not None else "") or ""
        tag = _list_tag(block, style)
        if tag != list_tag:
            parts.append(_close(list_tag))
            parts.append(f"<{tag}>" if tag else "")
            list_tag = tag
        if tag:
            parts.append(f"<li>{escape(text)}</li>")
        else:
            level = _heading_level(style)
            parts.append(
                f"<h{level}>{escape(text)}</h{level}>" if level else f"<p>{escape(text)}</p>"
            )
    parts.append(_close(list_tag))
    parts.append(_docx_notes(document))
    comments = getattr(document, "comments", None)
    if comments is not None:
        rows = [
            f"<p>{escape(c.author or 'comment')}: {escape(c.text)}</p>"
            for c in comments
            if c.text.strip()
        ]
        if rows:
            parts.append("<h3>Comments</h3><div class='notes'>" + "".join(rows) + "</div>")
    return [Section("".join(parts), "page {page}")]


def _close(tag: str | None) -> str:
    return f"</{tag}>" if tag else ""


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        digits = style[8:].strip()
        if digits.isdigit():
            return min(max(int(digits), 1), 6)
    return 0


def _list_tag(paragraph, style: str) -> str | None:  # noqa: ANN001
    if style.startswith("List Number"):
        return "ol"
    if style.startswith(("List Bullet", "List Paragraph", "List")):
        return "ul"
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        return "ul"
    return None


def _docx_table(table) -> str:  # noqa: ANN001
    rows = []
    for row in table.rows:
        cells = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats across the columns it spans
                continue
            previous = cell._tc
            cells.append(f"<td>{escape(cell.text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _docx_notes(document) -> str:  # noqa: ANN001
    """Footnotes and endnotes (python-docx has no API for them: their XML parts are read)."""
    out = []
    for rel in document.part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if kind not in ("footnotes", "endnotes") or rel.is_external:
            continue
        try:
            element = rel.target_part.element
        except AttributeError:  # a generic part: parse its XML safely
            from lxml import etree

            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            element = etree.fromstring(rel.target_part.blob, parser)
        for note in element.iter(f"{_W}footnote", f"{_W}endnote"):
            if note.get(f"{_W}type") in ("separator", "continuationSeparator"):
                continue
            text = "".join(t.text or "" for t in note.iter(f"{_W}t")).strip()
            if text:
                out.append(f"<p>{escape(text)}</p>")
    return ("<h3>Notes</h3><div class='notes'>" + "".join(out) + "</div>") if out else ""


# -- PowerPoint ------------------------------------------------------------------------------
def pptx(data: bytes, name: str) -> list[Section]:
    """One section per slide, on pages of the slide's size; speaker notes under the slide."""
    import pptx as python_pptx

    presentation = python_pptx.Presentation(io.BytesIO(data))
    width = (presentation.slide_width or 9144000) / 12700
    height = (presentation.slide_height or 6858000) / 12700
    size = (min(max(width, 200.0), 2000.0), min(max(height, 200.0), 2000.0))
    sections = []
    for number, slide in enumerate(presentation.slides, 1):
        parts = [_shapes(slide.shapes, title=True)]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(
                    "<div class='notes'><h4>Speaker notes</h4>"
                    + "".join(f"<p>{escape(p.text)}</p>" for p in notes.paragraphs if p.text)
                    + "</div>"
                )
        sections.append(Section("".join(parts), f"slide {number}", size=size))
    if not sections:
        raise UserError(f"{name} has no slides; open a presentation that contains text")
    return sections


def _shapes(shapes, title: bool = False, depth: int = 0) -> str:  # noqa: ANN001
    """Text of shapes in reading order (top to bottom, then left to right); groups recursed."""
    if depth > 8:
        return ""

    def order(shape) -> tuple[int, int]:  # noqa: ANN001
        return (shape.top or 0, shape.left or 0)

    out = []
    for shape in sorted(shapes, key=order):
        if shape.shape_type is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            out.append(_shapes(shape.shapes, depth=depth + 1))
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = []
            for row in shape.table.rows:
                rows.append(
                    "<tr>" + "".join(f"<td>{escape(c.text)}</td>" for c in row.cells) + "</tr>"
                )
            out.append("<table>" + "".join(rows) + "</table>")
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            is_title = title and getattr(shape, "is_placeholder", False) and _is_title(shape)
            paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
            if is_title:
                out.append("<h2>" + escape(" ".join(p.text for p in paragraphs)) + "</h2>")
            elif any(p.level for p in paragraphs) or len(paragraphs) > 1:
                out.append(
                    "<ul>" + "".join(f"<li>{escape(p.text)}</li>" for p in paragraphs) + "</ul>"
                )
            else:
                out.extend(f"<p>{escape(p.text)}</p>" for p in paragraphs)
    return "".join(out)


def _is_title(shape) -> bool:  # noqa: ANN001
    try:
        return "TITLE" in str(shape.placeholder_format.type)
    except (ValueError, AttributeError):
        return False


# -- Excel -----------------------------------------------------------------------------------
def xlsx(data: bytes, name: str) -> list[Section]:
    """One section per worksheet: a table of its filled rows, row numbers and column letters.

    Cached values are shown (formulas are not evaluated; macros never run). Cells
    stream from openpyxl's read-only reader, so memory follows the filled cells,
    which are capped (``MAX_CELLS``), as are the cells looked at and the time.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except KeyError as exc:
        raise UserError(f"{name} is not a complete Excel file ({exc}); re-save it") from None
    sections = []
    filled = scanned = 0
    started = time.monotonic()
    try:
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue  # a chart sheet
            sheet.reset_dimensions()  # the declared range may be huge: follow the cells
            rows: list[tuple[int, list[tuple[int, str]]]] = []
            columns: set[int] = set()
            for row in sheet.iter_rows():
                values = []
                number = 0
                for cell in row:
                    scanned += 1
                    value = getattr(cell, "value", None)
                    if value is None or value == "":
                        continue
                    text = _cell_text(value)
                    if not text.strip():
                        continue
                    values.append((cell.column, text))
                    number = cell.row
                    columns.add(cell.column)
                    filled += 1
                if scanned > MAX_SCANNED or filled > MAX_CELLS:
                    raise _too_many(name, sheet.title)
                if time.monotonic() - started > MAX_SECONDS:
                    raise UserError(
                        f"{name}: reading its cells took over {MAX_SECONDS:.0f} s (stopped at "
                        f'sheet "{sheet.title}"); split the workbook into smaller ones'
                    )
                if values:
                    rows.append((number, values))
            if not rows:
                continue
            sections.append(
                _sheet_section(len(sections), sheet.title, rows, columns, get_column_letter)
            )
    finally:
        workbook.close()
    if not sections:
        raise UserError(f"{name}: no sheet holds any text or numbers; open a workbook with data")
    return sections


def _too_many(name: str, sheet: str) -> UserError:
    return UserError(
        f"{name} has more than {MAX_CELLS:,} filled cells (or {MAX_SCANNED:,} cells in all; "
        f'the limit, reached on sheet "{sheet}"); split the workbook into smaller ones'
    )


def _cell_text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def _sheet_section(index, title, rows, columns, letter) -> Section:  # noqa: ANN001
    """A sheet as a table: column letters on top, row numbers on the left (citations read them)."""
    used = sorted(columns)
    head = (
        "<tr><th class='colno'></th>"
        + "".join(f"<th class='colno'>{letter(c)}</th>" for c in used)
        + "</tr>"
    )
    body = []
    for number, values in rows:
        by_column = dict(values)
        tds = []
        for c in used:
            text = by_column.get(c)
            if text is None:
                tds.append("<td></td>")
                continue
            tds.append(f"<td>{escape(text)}</td>")
        body.append(f"<tr><th class='rowno'>{number}</th>{''.join(tds)}</tr>")
    html = f"<h2>{escape(title)}</h2><table>{head}{''.join(body)}</table>"
    columns = [letter(c) for c in used]
    return Section(
        html, f'sheet "{title}"', size=LANDSCAPE, css=SHEET_CSS, sheet=title, columns=columns
    )
