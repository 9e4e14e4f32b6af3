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
