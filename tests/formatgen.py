"""Test documents of every converted format, written with each format's own writer.

Each holds the answer "Alpha Bravo" (what the oracle pack finds) at a known
place: ``PLANTED`` maps a file name to the location ``ask`` must cite.
"""

from __future__ import annotations

import email.message
import io
import zipfile
from pathlib import Path

ANSWER = "Alpha Bravo"
SUBJECT = "Quarterly plan"
SENDER = "Alice <alice@example.org>"
DATE = "Mon, 04 Mar 2024 10:00:00 +0000"
PLANTED = {
    "lease.docx": "page 2",
    "deck.pptx": "slide 2",
    "budget.xlsx": 'sheet "Budget", row 20, cell C20',
    "macro.xlsm": 'sheet "Data", row 120, cell B120',
    "minutes.odt": "page 1",
    "talk.odp": "slide 3",
    "stock.ods": 'sheet "Stock", row 5, cell B5',
    "page.html": "page 1",
    "memo.rtf": "page 1",
    "mail.eml": f'page 1 of e-mail "{SUBJECT}" from {SENDER}, {DATE}',
    "forward.eml": (f'slide 2 of attachment deck.pptx of e-mail "Fwd: deck" from {SENDER}, {DATE}'),
}
# A web page naming remote resources: none may be fetched, no script may run.
HTML = f"""<!doctype html><html><head><title>Notes</title>
<link rel="stylesheet" href="http://127.0.0.1:9/a.css">
<script>document.write('SCRIPTRAN')</script>
<style>@import url(http://127.0.0.1:9/b.css); body {{ background: url(http://127.0.0.1:9/c.png) }}
@font-face {{ font-family: x; src: url(https://127.0.0.1:9/f.woff) }}</style></head>
<body onload="alert(1)"><h1>Notes</h1><img src="http://127.0.0.1:9/d.png" alt="pic">
<p style="background:url(http://127.0.0.1:9/e.png)">Filler one.</p>
<script>var leak = 'SCRIPTRAN';</script>
<ul><li>The code is {ANSWER}.</li></ul><iframe src="http://127.0.0.1:9/"></iframe>
<table><tr><td>cell one</td><td>cell two</td></tr></table></body></html>"""


def docx(path: Path) -> Path:
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading("Lease terms", 1)
    document.add_paragraph("first point", style="List Bullet")
    for i in range(45):
        document.add_paragraph(f"Filler paragraph {i} about the property and its upkeep.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Rent"
    table.cell(1, 1).text = "900"
    document.add_paragraph(f"The launch code is {ANSWER}.")
    document.save(path)
    return path


def pptx(path: Path) -> Path:
    import pptx as python_pptx

    deck = python_pptx.Presentation()
    for i in range(3):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Topic {i + 1}"
        slide.placeholders[1].text = f"Revenue grew, {ANSWER}." if i == 1 else f"Slide {i + 1}"
        slide.notes_slide.notes_text_frame.text = f"Speaker note {i + 1}"
    deck.save(path)
    return path


def xlsx(path: Path, sheet: str = "Budget", cell: str = "C20") -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(["Item", "Cost", "Note"])
    for i in range(150):  # three pages: row 120 is on the third
        ws.append([f"item {i}", i * 10, "none"])
    ws[cell] = ANSWER
    workbook.create_sheet("Other")["A1"] = "nothing here"
    workbook.save(path)
    return path


def odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Minutes"))
    for i in range(5):
        document.text.addElement(P(text=f"Filler {i}."))
    document.text.addElement(P(text=f"The vote was {ANSWER}."))
    document.save(str(path))
    return path


def ods(path: Path) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Stock")
    for r in range(6):
        row = TableRow()
        for c in range(3):
            cell = TableCell()
            cell.addElement(P(text=ANSWER if (r, c) == (4, 1) else f"v{r}{c}"))
            row.addElement(cell)
        table.addElement(row)
    # A million empty rows, as spreadsheets write them: counted, never expanded.
    table.addElement(TableRow(numberrowsrepeated=1_000_000))
    document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def odp(path: Path) -> Path:
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout, PageLayoutProperties
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="PL")
    layout.addElement(PageLayoutProperties(pagewidth="28cm", pageheight="15.75cm"))
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="M", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    for i in range(3):
        page = Page(masterpagename=master)
        frame = Frame(width="20cm", height="5cm", x="1cm", y="1cm")
        box = TextBox()
        box.addElement(P(text=f"The answer is {ANSWER}." if i == 2 else f"Slide text {i}"))
        frame.addElement(box)
        page.addElement(frame)
        document.presentation.addElement(page)
    document.save(str(path))
    return path


def rtf(path: Path) -> Path:
    path.write_bytes(
        b"{\\rtf1\\ansi\\ansicpg1252{\\fonttbl\\f0 Arial;}\\f0 Memo\\par Filler caf\\'e9.\\par "
        b"The key is Alpha Bravo.\\par}"
    )
    return path


def eml(path: Path, subject: str = SUBJECT, attachment: Path | None = None) -> Path:
    message = email.message.EmailMessage()
    message["Subject"] = subject
    message["From"] = SENDER
    message["To"] = "bob@example.org"
    message["Date"] = DATE
    if attachment is None:
        message.set_content(f"Hello Bob,\n\nThe code is {ANSWER}.\n")
        message.add_alternative(
            f"<p>Hello Bob,</p><p>The code is {ANSWER}.<img src='http://127.0.0.1:9/t.png'></p>",
            subtype="html",
        )
    else:
        message.set_content("Hello Bob,\n\nThe deck is attached.\n")
        message.add_attachment(
            attachment.read_bytes(), maintype="application", subtype="octet-stream",
            filename=attachment.name,
        )  # fmt: skip
    path.write_bytes(bytes(message))
    return path


def every_format(folder: Path) -> Path:
    """One document of each format in ``folder`` (see ``PLANTED``)."""
    folder.mkdir(parents=True, exist_ok=True)
    docx(folder / "lease.docx")
    deck = pptx(folder / "deck.pptx")
    xlsx(folder / "budget.xlsx")
    xlsx(folder / "macro.xlsm", sheet="Data", cell="B120")
    odt(folder / "minutes.odt")
    odp(folder / "talk.odp")
    ods(folder / "stock.ods")
    (folder / "page.html").write_text(HTML, encoding="utf-8")
    rtf(folder / "memo.rtf")
    eml(folder / "mail.eml")
    eml(folder / "forward.eml", subject="Fwd: deck", attachment=deck)
    return folder


def zip_with(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def million_cells(path: Path, template: Path) -> Path:
    """An .xlsx whose first sheet holds 1,000,000 numbers (20 columns x 50,000 rows)."""
    letters = [chr(65 + i) for i in range(20)]
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in letters) + "</row>"
        for r in range(1, 50_001)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        f'.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'
    ).encode()
    with zipfile.ZipFile(template) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["xl/worksheets/sheet1.xml"] = sheet
    path.write_bytes(zip_with(members))
    return path


# -- Spreadsheets (tests/test_sheets.py) --------------------------------------------------------
WIDE_COLUMNS = 30


def wide_xlsx(path: Path) -> Path:
    """A 30-column sheet whose every cell holds a distinct value (the last one long)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Wide"
    ws.append([f"Head{c}" for c in range(WIDE_COLUMNS)])
    for r in range(3):
        ws.append([f"r{r}c{c} {1000 * r + c}.25" for c in range(WIDE_COLUMNS)])
    ws.cell(2, WIDE_COLUMNS).value = "the last column holds a long note " * 6 + "Zanzibar"
    workbook.save(path)
    return path


# value, number format, what the sheet shows
NUMBER_FORMATS = [
    (0.13079200000000002, "0.0%", "13.1%"),
    (1234.5, '"$"#,##0.00', "$1,234.50"),
    (24000, "#,##0", "24,000"),
    (0.1 + 0.2, "General", "0.3"),
    (-1234.5, "#,##0.00;(#,##0.00)", "(1,234.50)"),
    (45382, "d mmm yyyy", "31 Mar 2024"),
    (1234.5, "[$€-407]#,##0.00", "€1,234.50"),
]


def budget_xlsx(path: Path) -> Path:
    """The issue's budget: a header row, the laptop refresh in row 3, formatted numbers in F,
    and a formula whose cached value (240) is what the sheet shows."""
    import openpyxl

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Budget"
    ws.append(["Item", "Owner", "Amount", "Note"])
    ws.append(["Printer toner", "Dana Reyes", 120, "ordered monthly"])
    ws.append(["Laptop refresh", "Marta Silva", 24000, "approved by the board"])
    ws.append(["Coffee beans", "Ivo Petrov", 300, "kitchen"])
    ws["C3"].number_format = "#,##0"
    for row, (value, code, _) in enumerate(NUMBER_FORMATS, 10):
        ws.cell(row, 6).value = value
        ws.cell(row, 6).number_format = code
    ws["F20"] = 240
    workbook.save(path)
    # A formula with its cached value, as Excel saves it (openpyxl writes no cached values).
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace('<c r="F20" t="n"><v>240</v>', '<c r="F20"><f>C2*2</f><v>240</v>')
    assert "<f>C2*2</f>" in sheet
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    path.write_bytes(zip_with(members))
    return path


def strict_xlsx(path: Path, source: Path) -> Path:
    """``source`` saved as Strict OOXML: its namespaces and relationship types the strict ones."""
    import re

    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    for name, data in members.items():
        if name.endswith((".xml", ".rels")):
            members[name] = re.sub(
                rb"http://schemas\.openxmlformats\.org/(spreadsheetml|officeDocument|drawingml)"
                rb"/2006/",
                rb"http://purl.oclc.org/ooxml/\1/",
                data,
            )
    assert b"purl.oclc.org/ooxml/spreadsheetml/main" in members["xl/workbook.xml"]
    path.write_bytes(zip_with(members))
    return path


def budget_xls(path: Path) -> Path:
    """An Excel 97-2003 workbook (xlwt): text, a percent, a date, a thousands amount."""
    import datetime

    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Budget")
    for c, head in enumerate(["Item", "Owner", "Amount", "Share", "Due"]):
        sheet.write(0, c, head)
    sheet.write(1, 0, "Laptop refresh")
    sheet.write(1, 1, "Marta Silva")
    sheet.write(1, 2, 24000, xlwt.easyxf(num_format_str="#,##0"))
    sheet.write(1, 3, 0.13079200000000002, xlwt.easyxf(num_format_str="0.0%"))
    sheet.write(1, 4, datetime.date(2024, 3, 31), xlwt.easyxf(num_format_str="d mmm yyyy"))
    book.add_sheet("Empty")
    book.save(str(path))
    return path


def warning_xlsx(path: Path, source: Path) -> Path:
    """A workbook openpyxl warns about (a defined name for a sheet that is not there)."""
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    book = members["xl/workbook.xml"].decode()
    names = '<definedNames><definedName name="x" localSheetId="7">Sheet!$A$1</definedName>'
    book = book.replace("<calcPr", names + "</definedNames><calcPr")
    assert "definedNames" in book
    members["xl/workbook.xml"] = book.encode()
    path.write_bytes(zip_with(members))
    return path


def shared_string_bomb(path: Path, cells: int = 12_000, size: int = 1_000_000) -> Path:
    """A small workbook naming one 1 MB shared string in 12,000 cells (12 GB of text shown)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = 1
    workbook.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    kind = "officeDocument/2006/relationships/sharedStrings"
    members["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{"bomb " * (size // 5)}'
        "</t></si></sst>"
    ).encode()
    rels = members["xl/_rels/workbook.xml.rels"].decode()
    members["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/{kind}" '
        'Target="sharedStrings.xml"/></Relationships>',
    ).encode()
    types = members["[Content_Types].xml"].decode()
    members["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats'
        '-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode()
    letters = [chr(65 + i) for i in range(10)]
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for c in letters) + "</row>"
        for r in range(1, cells // 10 + 1)
    )
    members["xl/worksheets/sheet1.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        f'.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'
    ).encode()
    path.write_bytes(zip_with(members))
    return path


def broken_style_xlsx(path: Path, source: Path) -> Path:
    """``source`` with a cell whose style number is empty (``s=""``), which openpyxl refuses."""
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="A1" t="inlineStr">' in sheet
    members["xl/worksheets/sheet1.xml"] = sheet.replace(
        '<c r="A1" t="inlineStr">', '<c r="A1" s="" t="inlineStr">'
    ).encode()
    path.write_bytes(zip_with(members))
    return path
