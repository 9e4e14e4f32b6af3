"""Spreadsheets as HTML sections: Excel (.xlsx .xlsm .xltx .xltm, Strict OOXML too), .xls, .ods.

Every filled cell's text, as the spreadsheet shows it (number formats
applied by ``numformat``: "13.1%", "$1,234.50", "31 Mar 2024"; formulas'
cached values, never recalculated; macros never run), one table per sheet
with its row numbers and column letters (citations read where they land).
Readers: openpyxl in read-only mode (cells streamed, memory follows the
filled cells) for Office Open XML, a Strict OOXML file's namespaces mapped
to the transitional ones first (openpyxl knows only those); xlrd (BSD) for
the binary .xls of Excel 97-2003; lxml for OpenDocument's ``content.xml``,
whose cells already hold their shown text. The filled cells, the cells
looked at and the time are capped (docs/formats.md "Limits").

openpyxl warns about what it does not keep (data validation, extensions,
pictures): those warnings are silenced here, once and for openpyxl only, so
nothing reaches stderr beside the one ``error:`` line (issue 28.5).
"""

from __future__ import annotations

import io
import re
import time
import warnings
import zipfile
from dataclasses import dataclass, field

from desktop_qa.core.documents.formats import budget as expansion
from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import SHEET_CSS, Section, cell_width, column_bands
from desktop_qa.core.documents.formats.numformat import format_value
from desktop_qa.core.errors import UserError


def _silence_openpyxl() -> None:
    """openpyxl's UserWarnings ("Data Validation extension is not supported and will be
    removed", "Defined names for sheet index 7 cannot be located"...) say what it leaves out,
    never what we read: a user cannot act on them and they would break the one-``error:``-line
    contract. A filter for openpyxl's modules only, put first again on every read (something
    may have added one before it); unlike ``catch_warnings``, safe from any thread."""
    warnings.filterwarnings("ignore", module=r"openpyxl(\..*)?$")


_silence_openpyxl()

# Filled cells laid out in all (50,000 lay out in ~8 s on a busy 2-core machine, and layout
# grows faster than linearly), and cells looked at (empty ones included: a sheet may declare
# a million-row range); reading stops at either, or after the time.
MAX_CELLS = 50_000
MAX_SCANNED = 4_000_000
MAX_SECONDS = 60.0
# The text of the cells read, in all: a document's text limit (``inputs.MAX_DOCUMENT_CHARS``).
# A shared string is stored once and shown in every cell naming it, so a 110 KB workbook can
# name one 1 MB string in 12,000 cells: refused at this many characters, not after 12 GB.
MAX_TEXT_CHARS = 8_000_000
_STRICT = re.compile(rb"http://purl\.oclc\.org/ooxml/(\w+)/")


@dataclass
class Sheet:
    """One sheet's filled cells: ``rows`` of (row number, [(column number, shown text)])."""

    title: str
    rows: list[tuple[int, list[tuple[int, str]]]] = field(default_factory=list)


class _Budget:
    """The caps shared by every sheet of a workbook: filled cells, cells looked at, time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.filled = 0
        self.scanned = 0
        self.chars = 0
        self.started = time.monotonic()

    def check(self, sheet: str) -> None:
        if self.chars > MAX_TEXT_CHARS:
            raise UserError(
                f"{self.name}: its cells hold more than {MAX_TEXT_CHARS:,} characters of text "
                f'(the limit, reached on sheet "{sheet}"); split the workbook into smaller ones'
            )
        if self.scanned > MAX_SCANNED or self.filled > MAX_CELLS:
            raise too_many(self.name, sheet)
        if time.monotonic() - self.started > MAX_SECONDS:
            raise UserError(
                f"{self.name}: reading its cells took over {MAX_SECONDS:.0f} s (stopped at "
                f'sheet "{sheet}"); split the workbook into smaller ones'
            )


def too_many(name: str, sheet: str) -> UserError:
    return UserError(
        f"{name} has more than {MAX_CELLS:,} filled cells (or {MAX_SCANNED:,} cells in all; "
        f'the limit, reached on sheet "{sheet}"); split the workbook into smaller ones'
    )


# -- Office Open XML ---------------------------------------------------------------------------
def transitional(data: bytes) -> bytes:
    """A Strict OOXML package with its namespaces and relationship types made transitional.

    Strict (ISO 29500 strict, "Strict Open XML Spreadsheet" in Excel's Save As) names
    ``http://purl.oclc.org/ooxml/spreadsheetml/main`` where transitional files name
    ``http://schemas.openxmlformats.org/spreadsheetml/2006/main``; the elements are the
    same. Other packages are returned unchanged.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            workbook = archive.read("xl/workbook.xml")
        except KeyError:
            return data
        if not _STRICT.search(workbook[:4096]):
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for info in archive.infolist():
                body = archive.read(info)
                if info.filename.lower().endswith((".xml", ".rels")):
                    body = _STRICT.sub(rb"http://schemas.openxmlformats.org/\1/2006/", body)
                target.writestr(info.filename, body)
    return out.getvalue()


def _declared_size_only(self) -> None:  # noqa: ANN001
    """openpyxl's ``ReadOnlyWorksheet._get_size``, stopping where the cells start.

    openpyxl looks for a sheet's ``<dimension>`` with ``iterparse``'s end events,
    so a sheet without one (many writers leave it out) is parsed whole before any
    cell is read, and then again for its cells: measured, 77 s of 86 on a
    million-cell sheet refused at 50,000 cells. Reading only up to ``<sheetData>``
    finds the same dimension; the reader follows the cells anyway
    (``reset_dimensions``).
    """
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    source = self._get_source()
    try:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                bounds = SheetDimension.from_tree(element).boundaries
                if bounds is not None:
                    self._min_column, self._min_row, self._max_column, self._max_row = bounds
                break
            if element.tag == DATA_TAG:
                break
    finally:
        source.close()


_CELL_STYLE = re.compile(rb"(<(?:\w+:)?c\b[^>]*?)\s+s=\"[^\"]*\"")


def without_styles(data: bytes) -> bytes:
    """The package without its stylesheet (``xl/styles.xml``) and its cells' style numbers;
    ``data`` itself if it has no stylesheet."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if "xl/styles.xml" not in archive.namelist():
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for info in archive.infolist():
                if info.filename == "xl/styles.xml":
                    continue
                body = archive.read(info)
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    body = _CELL_STYLE.sub(rb"\1", body)
                target.writestr(info.filename, body)
    return out.getvalue()


def xlsx(data: bytes, name: str) -> list[Section]:
    """One section per worksheet of an Excel workbook (and its template and macro twins)."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _declared_size_only
    _silence_openpyxl()
    data = transitional(data)
    try:
        return sections(_xlsx_sheets(data, name), name)
    except (TypeError, ValueError, IndexError):
        # openpyxl refuses a whole workbook over a style it does not know (an unknown
        # attribute, a named style without a name, a cell's empty style number: 3 of 436
        # real workbooks measured); the cells are still there: read them unstyled.
        plain = without_styles(data)
        if plain is data:
            raise
        return sections(_xlsx_sheets(plain, name), name)


def _xlsx_sheets(data: bytes, name: str) -> list[Sheet]:
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except KeyError as exc:
        raise UserError(f"{name} is not a complete Excel file ({exc}); re-save it") from None
    budget = _Budget(name)
    sheets: list[Sheet] = []
    try:
        date1904 = workbook.epoch == CALENDAR_MAC_1904
        for worksheet in workbook.worksheets:
            if not hasattr(worksheet, "iter_rows"):
                continue  # a chart sheet
            worksheet.reset_dimensions()  # the declared range may be huge: follow the cells
            sheet = Sheet(worksheet.title)
            for row in worksheet.iter_rows():
                values = []
                number = 0
                for cell in row:
                    budget.scanned += 1
                    value = getattr(cell, "value", None)
                    if value is None or value == "":
                        continue
                    text = format_value(value, getattr(cell, "number_format", None), date1904)
                    if not text.strip():
                        continue
                    values.append((cell.column, text))
                    number = cell.row
                    budget.filled += 1
                    budget.chars += len(text)
                    expansion.spend_text(len(text), f'sheet "{worksheet.title}"')  # before a copy
                    if budget.chars > MAX_TEXT_CHARS:
                        budget.check(worksheet.title)
                budget.check(worksheet.title)
                if values:
                    sheet.rows.append((number, values))
            sheets.append(sheet)
    finally:
        workbook.close()
    return sheets


# -- Excel 97-2003 -----------------------------------------------------------------------------
def xls(data: bytes, name: str) -> list[Section]:
    """One section per worksheet of a binary .xls workbook (BIFF 2-8), read with xlrd."""
    import xlrd

    log = io.StringIO()  # xlrd writes its warnings to a log file, stdout by default
    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=log, ragged_rows=True
        )
    except xlrd.XLRDError as exc:
        reason = str(exc)
        if "encrypt" in reason.lower():
            raise UserError(
                f"{name} is a password-protected (encrypted) Excel file, which cannot be read; "
                "save an unprotected copy from the application that made it and open that"
            ) from None
        raise UserError(
            f"{name} cannot be read as an Excel 97-2003 workbook ({reason[:100]}); the file "
            "may be damaged: re-save it"
        ) from None
    except NotImplementedError:  # formatting of BIFF 2-4 files: read without it
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=log, ragged_rows=True)
    budget = _Budget(name)
    sheets: list[Sheet] = []
    try:
        formats = _xls_formats(book)
        for index in range(book.nsheets):
            worksheet = book.sheet_by_index(index)
            sheet = Sheet(worksheet.name)
            for r in range(worksheet.nrows):
                values = []
                for c in range(worksheet.row_len(r)):
                    budget.scanned += 1
                    text = _xls_text(book, worksheet.cell(r, c), formats)
                    if text.strip():
                        values.append((c + 1, text))
                        budget.filled += 1
                        budget.chars += len(text)
                        expansion.spend_text(len(text), f'sheet "{worksheet.name}"')
                budget.check(worksheet.name)
                if values:
                    sheet.rows.append((r + 1, values))
            sheets.append(sheet)
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return sections(sheets, name)


def _xls_formats(book) -> dict[int, str]:  # noqa: ANN001
    """Format code of each XF (cell style) index; empty without formatting information."""
    out: dict[int, str] = {}
    format_map = getattr(book, "format_map", {}) or {}
    for index, xf in enumerate(getattr(book, "xf_list", []) or []):
        fmt = format_map.get(xf.format_key)
        if fmt is not None:
            out[index] = fmt.format_str
    return out


def _xls_text(book, cell, formats: dict[int, str]) -> str:  # noqa: ANN001
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if kind == xlrd.XL_CELL_TEXT:
        return str(cell.value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERROR")
    code = formats.get(cell.xf_index) if cell.xf_index is not None else None
    if kind == xlrd.XL_CELL_DATE and not code:
        code = "yyyy-mm-dd"
    return format_value(float(cell.value), code, book.datemode == 1)


# -- OpenDocument ------------------------------------------------------------------------------
def ods(data: bytes, name: str) -> list[Section]:
    """Sheets of an OpenDocument spreadsheet, cited by row and cell like Excel's.

    A cell's paragraphs hold the text the application showed (formats applied);
    repeated rows and cells (``number-rows-repeated``, which a sheet uses for its
    million empty rows) are counted, never expanded, unless they hold text, and
    then within the cell limit.
    """
    from desktop_qa.core.documents.formats import opendoc as odf

    root = odf._content(data, name)
    body = root.find(f"{odf._q('office:body')}/{odf._q('office:spreadsheet')}")
    tables = [] if body is None else body.findall(odf.TABLE)
    budget = _Budget(name)
    sheets: list[Sheet] = []
    for table in tables:
        sheet = Sheet(table.get(odf._q("table:name"), f"Sheet{len(sheets) + 1}"))
        row_number = 0
        for row in table.iter(odf.ROW):
            repeat = _repeat(row, odf.ROWS_REPEATED)
            values: list[tuple[int, str]] = []
            column = 0
            for cell in row:
                if cell.tag not in (odf.CELL, odf.COVERED):
                    continue
                span = _repeat(cell, odf.COLS_REPEATED)
                lines = [odf._text(p) for p in cell.iter(odf.P)]
                text = " ".join(line for line in lines if line.strip())
                budget.scanned += 1
                if text.strip():
                    if budget.filled + span * repeat > MAX_CELLS:
                        raise too_many(name, sheet.title)
                    values.extend((column + k + 1, text) for k in range(span))
                    budget.filled += span * repeat
                    budget.chars += len(text) * span * repeat
                    expansion.spend_text(len(text) * span * repeat, f'sheet "{sheet.title}"')
                column += span
            budget.check(sheet.title)
            for _ in range(repeat if values else 0):
                row_number += 1
                sheet.rows.append((row_number, values))
            if not values:
                row_number += repeat
        sheets.append(sheet)
    return sections(sheets, name, "spreadsheet")


def _repeat(element, attribute: str) -> int:  # noqa: ANN001
    value = element.get(attribute, "1")
    return max(int(value), 1) if value.isdigit() else 1


# -- Layout ------------------------------------------------------------------------------------
def sections(sheets: list[Sheet], name: str, kind: str = "workbook") -> list[Section]:
    """The sheets that hold something, each a table on pages wide enough for all its columns."""
    out = [section for sheet in sheets if sheet.rows for section in sheet_sections(sheet)]
    if not out:
        raise UserError(f"{name}: no sheet holds any text or numbers; open a {kind} with data")
    return out


def header_names(sheet: Sheet) -> dict[str, str]:
    """Column letter -> name, from the sheet's first filled row when it reads as a header:
    two or more cells, none of them a number. Answers in the rows below are framed by them."""
    from openpyxl.utils import get_column_letter

    if not sheet.rows:
        return {}
    _, first = sheet.rows[0]
    if len(first) < 2 or any(_is_number(text) for _, text in first):
        return {}
    return {get_column_letter(c): " ".join(text.split())[:60] for c, text in first}


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+($€£¥]*[\d.,\s]+[%)]*", text.strip()))


def sheet_sections(sheet: Sheet) -> list[Section]:
    """A sheet as a table: column letters on top, row numbers on the left (citations read them).

    Each column is as wide as its widest cell and the page as wide as the columns
    (``layout.column_bands``): no column is dropped and no value cut; a long text
    wraps inside its cell. A sheet wider than a page's limit is cut into bands of
    whole columns, one table each.
    """
    from openpyxl.utils import get_column_letter

    used = sorted({c for _, values in sheet.rows for c, _ in values})
    expansion.grid(len(sheet.rows), len(used), sheet.title)  # empty cells between filled count
    letters = [get_column_letter(c) for c in used]
    widest = {c: cell_width(letter) for c, letter in zip(used, letters, strict=True)}
    measured: dict[str, float] = {}
    for _, values in sheet.rows:
        for c, text in values:
            width = measured.get(text)
            if width is None:
                width = measured[text] = cell_width(text)
            if width > widest[c]:
                widest[c] = width
    widths = [widest[c] for c in used]
    bands = column_bands(widths, str(sheet.rows[-1][0]))
    headers = header_names(sheet)
    out = []
    for number, (indices, size) in enumerate(bands):
        columns = [used[i] for i in indices]
        band_letters = [letters[i] for i in indices]
        head = (
            "<tr><th class='colno'></th>"
            + "".join(
                f"<th class='colno' style='width: {widths[i]:.1f}pt'>{letters[i]}</th>"
                for i in indices
            )
            + "</tr>"
        )
        body = []
        wanted = set(columns)
        for row, values in sheet.rows:
            by_column = {c: t for c, t in values if c in wanted}
            tds = "".join(
                f"<td>{escape(by_column[c], counted=False)}</td>" if c in by_column else "<td></td>"
                for c in columns
            )
            body.append(f"<tr><th class='rowno'>{row}</th>{tds}</tr>")
        title = sheet.title
        if len(bands) > 1:
            title += f" (columns {band_letters[0]}-{band_letters[-1]}, part {number + 1})"
        out.append(
            Section(
                f"<h2>{escape(title)}</h2><table>{head}{''.join(body)}</table>",
                f'sheet "{sheet.title}"',
                size=size,
                css=SHEET_CSS,
                sheet=sheet.title,
                columns=band_letters,
                headers=headers,
                header_row=sheet.rows[0][0] if headers else 0,
            )
        )
    return out
