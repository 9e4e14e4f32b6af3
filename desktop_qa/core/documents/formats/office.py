"""PowerPoint and Excel files (and their macro-enabled twins) as HTML sections.

Readers chosen by measurement (docs/formats.md): python-pptx (speaker notes,
tables; slide shows and templates read as decks) and openpyxl in read-only
mode (cells streamed, never the whole sheet in memory). Word files are read
from their XML (``word.py``). Macros are never run: the readers only read XML;
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
# PowerPoint files whose main part python-pptx refuses by its content type (a slide show, a
# template, their macro twins): read as the presentation they are.
_PRESENTATION = (
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
)
_OTHER_PRESENTATIONS = (
    b"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    b"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    b"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    b"application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
)


# Word: see word.py (read from its XML, in full).


# -- PowerPoint ------------------------------------------------------------------------------
def pptx(data: bytes, name: str) -> list[Section]:
    """One section per slide, on pages of the slide's size; speaker notes under the slide."""
    import pptx as python_pptx

    presentation = python_pptx.Presentation(io.BytesIO(_as_presentation(data)))
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
                    + "".join(f"<p>{_lines(p.text)}</p>" for p in notes.paragraphs if p.text)
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
                    "<tr>" + "".join(f"<td>{_lines(c.text)}</td>" for c in row.cells) + "</tr>"
                )
            out.append("<table>" + "".join(rows) + "</table>")
        elif _is_frame(shape):  # SmartArt (a chart or an embedded object: no text here)
            out.append(_smartart(shape))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            is_title = title and getattr(shape, "is_placeholder", False) and _is_title(shape)
            paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
            if is_title:
                out.append("<h2>" + _lines(" ".join(p.text for p in paragraphs)) + "</h2>")
            elif any(p.level for p in paragraphs) or len(paragraphs) > 1:
                out.append(
                    "<ul>" + "".join(f"<li>{_lines(p.text)}</li>" for p in paragraphs) + "</ul>"
                )
            else:
                out.extend(f"<p>{_lines(p.text)}</p>" for p in paragraphs)
    return "".join(out)


def _is_title(shape) -> bool:  # noqa: ANN001
    try:
        return "TITLE" in str(shape.placeholder_format.type)
    except (ValueError, AttributeError):
        return False


def _lines(text: str) -> str:
    """A paragraph's text as markup: python-pptx gives a line break (``a:br``) as a vertical
    tab, which must stay a break ("commissioning" was glued to the next line's word)."""
    return "<br/>".join(escape(line) for line in text.replace("\v", "\n").split("\n"))


def _as_presentation(data: bytes) -> bytes:
    """The package with a slide show's or template's main content type read as a deck's."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml")
        if not any(t in types for t in _OTHER_PRESENTATIONS):
            return data
        for other in _OTHER_PRESENTATIONS:
            types = types.replace(other, _PRESENTATION)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in archive.infolist():
                body = types if info.filename == "[Content_Types].xml" else archive.read(info)
                copy.writestr(info, body)
    return out.getvalue()


def _is_frame(shape) -> bool:  # noqa: ANN001
    element = getattr(shape, "_element", None)
    return element is not None and str(element.tag).endswith("}graphicFrame")


def _smartart(frame) -> str:  # noqa: ANN001
    """A SmartArt graphic's text, from its diagram data part."""
    from desktop_qa.core.documents.formats.word import local, parse_xml, smartart_html

    for element in frame._element.iter():
        if local(element.tag) != "relIds":
            continue
        for key, rid in element.attrib.items():
            if local(key) == "dm":
                try:
                    part = frame.part.related_part(rid)
                except (KeyError, AttributeError):
                    return ""
                return smartart_html(parse_xml(part.blob))
    return ""


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
