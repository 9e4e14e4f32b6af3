"""OpenDocument text, spreadsheets and presentations (.odt, .ods, .odp) as HTML sections.

``content.xml`` is read with lxml (entities never resolved, no network), the
reader python-docx and python-pptx already bring: odfpy, the alternative,
builds a pure-Python DOM of the whole file (measured in docs/formats.md) and
is used by the tests only, to write documents. Repeated rows and cells
(``number-rows-repeated``, which a sheet uses for its million empty rows) are
counted, never expanded, unless they hold text, and then within the
spreadsheet cell limit.
"""

from __future__ import annotations

import io
import zipfile

from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.documents.formats.office import MAX_CELLS, MAX_SCANNED, _too_many
from desktop_qa.core.errors import UserError

NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


P, H, S, TAB, BR = (_q(n) for n in ("text:p", "text:h", "text:s", "text:tab", "text:line-break"))
NOTE, NOTE_BODY = _q("text:note"), _q("text:note-body")
LIST, ITEM, HEADER = _q("text:list"), _q("text:list-item"), _q("text:list-header")
ANNOTATION, TABLE, ROW = _q("office:annotation"), _q("table:table"), _q("table:table-row")
CELL, COVERED = _q("table:table-cell"), _q("table:covered-table-cell")
PAGE, NOTES, SECTION = _q("draw:page"), _q("presentation:notes"), _q("text:section")
ROWS_REPEATED, COLS_REPEATED = _q("table:number-rows-repeated"), _q("table:number-columns-repeated")
_SKIPPED = frozenset({_q("text:tracked-changes"), _q("text:sequence-decls"), _q("office:forms")})


def _content(data: bytes, name: str):  # noqa: ANN202
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as fh:
        xml = fh.read()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise UserError(
            f"{name}: its content.xml is damaged ({str(exc)[:100]}); re-save the document"
        ) from None


class _Notes:
    """Footnotes and comments met while reading, shown after the body."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.comments: list[str] = []

    def html(self) -> str:
        out = ""
        if self.notes:
            out += "<h3>Notes</h3><div class='notes'>" + "".join(self.notes) + "</div>"
        if self.comments:
            out += "<h3>Comments</h3><div class='notes'>" + "".join(self.comments) + "</div>"
        return out


def _text(element, notes: _Notes | None = None, depth: int = 0) -> str:  # noqa: ANN001
    """The text of a paragraph: spaces, tabs and breaks as written; notes set aside."""
    if depth > 64:
        return ""
    out = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == S:
            count = child.get(_q("text:c"), "1")
            out.append(" " * min(int(count) if count.isdigit() else 1, 64))
        elif tag in (TAB, BR):
            out.append(" ")
        elif tag == NOTE:
            if notes is not None:
                body = child.find(NOTE_BODY)
                if body is not None:
                    notes.notes.append(f"<p>{escape(_plain(body))}</p>")
        elif tag == ANNOTATION:
            if notes is not None:
                notes.comments.append(f"<p>{escape(_plain(child))}</p>")
        else:
            out.append(_text(child, notes, depth + 1))
        out.append(child.tail or "")
    return "".join(out)


def _plain(element) -> str:  # noqa: ANN001
    return " ".join(_text(p) for p in element.iter(P, H) if _text(p).strip())


def _blocks(parent, notes: _Notes, depth: int = 0) -> str:  # noqa: ANN001
    """Headings, paragraphs, lists and tables of a text body, in order."""
    if depth > 32:
        return ""
    out = []
    for child in parent:
        tag = child.tag
        if tag == H:
            level = child.get(_q("text:outline-level"), "1")
            level = min(max(int(level) if level.isdigit() else 1, 1), 6)
            out.append(f"<h{level}>{escape(_text(child, notes))}</h{level}>")
        elif tag == P:
            text = _text(child, notes)
            if text.strip():
                out.append(f"<p>{escape(text)}</p>")
        elif tag == LIST:
            items = [
                "<li>" + _blocks(item, notes, depth + 1) + "</li>"
                for item in child
                if item.tag in (ITEM, HEADER)
            ]
            out.append("<ul>" + "".join(items) + "</ul>")
        elif tag == TABLE:
            out.append(_table(child, notes))
        elif tag in _SKIPPED:
            continue
        elif len(child):
            out.append(_blocks(child, notes, depth + 1))  # sections, frames, text boxes
    return "".join(out)


def _table(table, notes: _Notes) -> str:  # noqa: ANN001
    rows = []
    for row in table.iter(ROW):
        cells = "".join(f"<td>{_blocks(cell, notes, 1)}</td>" for cell in row if cell.tag == CELL)
        rows.append(f"<tr>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def odt(data: bytes, name: str) -> list[Section]:
    root = _content(data, name)
    body = root.find(f"{_q('office:body')}/{_q('office:text')}")
    if body is None:
        raise UserError(f"{name} holds no text body; open an OpenDocument text file")
    notes = _Notes()
    html = _blocks(body, notes)
    return [Section(html + notes.html(), "page {page}")]


def odp(data: bytes, name: str) -> list[Section]:
    root = _content(data, name)
    body = root.find(f"{_q('office:body')}/{_q('office:presentation')}")
    pages = [] if body is None else body.findall(PAGE)
    sections = []
    for number, page in enumerate(pages, 1):
        notes = _Notes()
        parts = []
        speaker = ""
        for child in page:
            if child.tag == NOTES:
                speaker = _plain(child)
            else:
                parts.append(_blocks([child], notes))
        if speaker.strip():
            parts.append(f"<div class='notes'><h4>Speaker notes</h4><p>{escape(speaker)}</p></div>")
        sections.append(
            Section("".join(parts) + notes.html(), f"slide {number}", size=(792.0, 446.0))
        )
    if not sections:
        raise UserError(f"{name} has no slides; open a presentation that contains text")
    return sections


def ods(data: bytes, name: str) -> list[Section]:
    """Sheets as tables of their filled rows, cited by row and cell like Excel's."""
    from openpyxl.utils import get_column_letter

    root = _content(data, name)
    body = root.find(f"{_q('office:body')}/{_q('office:spreadsheet')}")
    tables = [] if body is None else body.findall(TABLE)
    sections = []
    filled = scanned = 0
    for table in tables:
        title = table.get(_q("table:name"), f"Sheet{len(sections) + 1}")
        rows: list[tuple[int, list[tuple[int, str]]]] = []
        columns: set[int] = set()
        row_number = 0
        for row in table.iter(ROW):
            repeat = _repeat(row, ROWS_REPEATED)
            values: list[tuple[int, str]] = []
            column = 0
            for cell in row:
                if cell.tag not in (CELL, COVERED):
                    continue
                span = _repeat(cell, COLS_REPEATED)
                text = " ".join(_text(p) for p in cell.iter(P) if _text(p).strip())
                scanned += 1
                if text.strip():
                    if filled + span * repeat > MAX_CELLS:
                        raise _too_many(name, title)
                    for k in range(span):
                        values.append((column + k + 1, text))
                        columns.add(column + k + 1)
                    filled += span * repeat
                column += span
            if filled > MAX_CELLS or scanned > MAX_SCANNED:
                raise _too_many(name, title)
            for _ in range(repeat if values else 0):
                row_number += 1
                rows.append((row_number, values))
            if not values:
                row_number += repeat
        if rows:
            sections.append(_sheet(len(sections), title, rows, columns, get_column_letter))
    if not sections:
        raise UserError(f"{name}: no sheet holds any text or numbers; open a spreadsheet with data")
    return sections


def _repeat(element, attribute: str) -> int:  # noqa: ANN001
    value = element.get(attribute, "1")
    return max(int(value), 1) if value.isdigit() else 1


def _sheet(index, title, rows, columns, letter) -> Section:  # noqa: ANN001
    from desktop_qa.core.documents.formats.office import _sheet_section

    return _sheet_section(index, title, rows, columns, letter)
