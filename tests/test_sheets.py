"""Spreadsheets: every column, values as shown, Strict and .xls, quiet, a row as the answer,
and ``desktop-qa text``.

Workbooks are written by openpyxl and xlwt (tests/formatgen.py); what the user
would see is checked in the text questions run on (``desktop-qa text``) and on
the laid-out pages the viewer shows.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core.documents import formats
from desktop_qa.core.documents.formats import numformat, sheets
from tests import formatgen


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sheets")
    budget = formatgen.budget_xlsx(folder / "budget.xlsx")
    formatgen.strict_xlsx(folder / "strict.xlsx", budget)
    formatgen.budget_xls(folder / "budget.xls")
    formatgen.wide_xlsx(folder / "wide.xlsx")
    formatgen.warning_xlsx(folder / "warns.xlsx", budget)
    return folder


def text_of(capsys: pytest.CaptureFixture[str], path: Path) -> dict:
    assert main(["text", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def test_a_wide_sheet_keeps_every_column_whole_in_the_text_and_on_the_page(books, capsys):
    path = books / "wide.xlsx"
    data = text_of(capsys, path)
    text = "\n".join(p["text"] for p in data["pages"])
    for r in range(3):
        for c in range(formatgen.WIDE_COLUMNS - 1):
            assert f"r{r}c{c} {1000 * r + c}.25" in text
    assert "long note" in text and "Zanzibar" in text
    # Each row is its own paragraph, without the row numbers and column letters.
    paragraphs = data["pages"][0]["text"].split("\n\n")
    assert paragraphs[2].startswith("r0c0 0.25 r0c1 1.25")
    assert paragraphs[2].rstrip().endswith("Zanzibar")
    # The viewer's page: every value drawn whole, inside the page.
    with formats.open_laid_out(path) as pdf:
        page = pdf[0]
        assert page.rect.width > 792
        for c in (0, 14, 28):
            hits = page.search_for(f"r1c{c} {1000 + c}.25")  # one rect a line: it may wrap
            assert hits and all(hit.x1 <= page.rect.width - 30 for hit in hits)
        assert page.search_for("Zanzibar")


def test_values_are_shown_as_the_sheet_formats_them(books, capsys):
    data = text_of(capsys, books / "budget.xlsx")
    paragraphs = [p.strip() for p in data["pages"][0]["text"].split("\n\n")]
    for _, _, shown in formatgen.NUMBER_FORMATS:
        assert shown in paragraphs
    assert "240" in paragraphs  # the formula's cached value
    assert "0.13079200000000002" not in data["pages"][0]["text"]
    assert "Laptop refresh Marta Silva 24,000 approved by the board" in paragraphs


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        *formatgen.NUMBER_FORMATS,
        (1234.5, "#,##0", "1,235"),  # half away from zero, as Excel rounds
        (12345678, '#,##0,,"M"', "12M"),
        (5551234567, "000-000-0000", "555-123-4567"),
        (0.000123, "0.00E+00", "1.23E-04"),
        (1.5, "# ?/?", "1 1/2"),
        (1.5, "[h]:mm", "36:00"),
        (45382.75, "h:mm AM/PM", "6:00 PM"),
        (0, '#,##0;-#,##0;"-"', "-"),
        ("abc", '"code "@', "code abc"),
    ],
)
def test_number_format_codes(value, code, shown):
    assert numformat.format_value(value, code) == shown


def test_a_strict_workbook_is_read(books, capsys):
    strict = text_of(capsys, books / "strict.xlsx")
    plain = text_of(capsys, books / "budget.xlsx")
    assert strict["pages"][0]["text"] == plain["pages"][0]["text"]


def test_a_legacy_xls_is_read_with_its_formats(books, capsys):
    data = text_of(capsys, books / "budget.xls")
    assert [p["label"] for p in data["pages"]] == ['sheet "Budget"']
    assert "Laptop refresh Marta Silva 24,000 13.1% 31 Mar 2024" in data["pages"][0]["text"]


def test_an_xlsx_named_xls_is_one_error_line(books, tmp_path, capsys):
    wrong = tmp_path / "renamed.xls"
    wrong.write_bytes((books / "budget.xlsx").read_bytes())
    assert main(["text", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "rename it to .xlsx" in err


def test_openpyxl_warnings_never_reach_the_user(books):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = sheets.xlsx((books / "warns.xlsx").read_bytes(), "warns.xlsx")
    assert found and not [w for w in caught if "openpyxl" in w.filename]


def test_a_row_is_the_answer_cited_by_sheet_and_row_framed_by_its_column_names(books, capsys):
    """No model pack: the keyword answer is the row, not the whole sheet."""
    path = books / "budget.xlsx"
    assert main(["ask", str(path), "Who approved the laptop refresh?", "--json"]) == 0
    best = json.loads(capsys.readouterr().out)["answers"][0]
    assert best["text"] == "Laptop refresh Marta Silva 24,000 approved by the board"
    assert best["location"] == 'sheet "Budget", row 3'
    assert best["context"] == (
        "Item: Laptop refresh; Owner: Marta Silva; Amount: 24,000; Note: approved by the board"
    )
    # The highlight covers the row's cells, not its row number or the column letters.
    with formats.open_laid_out(path) as pdf:
        page = pdf[best["page"] - 1]
        (number,) = [w for w in page.get_text("words") if w[4] == "3" and w[0] < 60]
        (item,) = page.search_for("Laptop refresh")
    assert min(b[0] for b in best["boxes"]) >= number[2]
    assert all(abs(b[1] - item.y0) < 2 for b in best["boxes"])


def test_text_command_marks_pages_slides_and_sheets(tmp_path, capsys):
    deck = formatgen.pptx(tmp_path / "deck.pptx")
    assert main(["text", str(deck)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- slide 1 ---\n")
    assert "--- slide 2 ---\nTopic 2" in out and "Speaker note 2" in out
    notes = tmp_path / "notes.txt"
    notes.write_text("Just a line.\n", encoding="utf-8")
    data = text_of(capsys, notes)
    (page,) = data["pages"]  # a text file: one piece, no page, its own characters
    assert page["page"] is None and page["label"] is None
    assert page["text"] == "Just a line.\n" and (page["start"], page["end"]) == (0, 13)


def test_text_command_bad_input_is_one_error_line(tmp_path, capsys):
    assert main(["text", str(tmp_path / "missing.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "missing.xlsx" in err


def test_one_shared_string_in_every_cell_is_refused_at_the_text_limit(tmp_path, capsys):
    """Shared strings times cells: refused once the text read passes the limit, not after."""
    path = formatgen.shared_string_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2_000_000
    assert main(["text", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "more than 8,000,000 characters" in err


def test_a_table_row_in_a_document_is_its_own_paragraph_and_answer(tmp_path, capsys):
    """A Word table: each row a paragraph, the answer a row framed by the column names."""
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph("The team list follows.")
    table = document.add_table(rows=3, cols=3)
    cells = [
        ["Name", "Role", "Note"],
        ["Ann Lee", "approved the laptop refresh", "in March, after a long review of quotes"],
        ["Bo Chen", "ordered toner", "monthly"],
    ]
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    path = tmp_path / "team.docx"
    document.save(path)
    paragraphs = text_of(capsys, path)["pages"][0]["text"].split("\n\n")
    row = "Ann Lee approved the laptop refresh in March, after a long review of quotes"
    assert paragraphs[1:4] == ["Name Role Note", row, "Bo Chen ordered toner monthly"]
    assert main(["ask", str(path), "Who approved the laptop refresh?", "--json"]) == 0
    best = json.loads(capsys.readouterr().out)["answers"][0]
    assert best["text"] == row
    assert best["context"] == (  # framed by the table's first row
        "Name: Ann Lee; Role: approved the laptop refresh; "
        "Note: in March, after a long review of quotes"
    )


def test_a_sheet_wider_than_a_page_is_cut_into_bands_of_whole_columns(tmp_path, capsys):
    import openpyxl

    workbook = openpyxl.Workbook()
    for r in range(4):
        workbook.active.append([f"cell{r}x{c} longer words here {c * 7}" for c in range(150)])
    path = tmp_path / "huge.xlsx"
    workbook.save(path)
    data = text_of(capsys, path)
    text = "\n\n".join(p["text"] for p in data["pages"])
    for r in range(4):
        for c in range(150):
            assert f"cell{r}x{c} longer words here {c * 7}" in text
    paragraphs = text.split("\n\n")
    assert not [p for p in paragraphs if p.split()[0].isdigit()]  # no row number in the text
    assert len(data["pages"]) > 1
    with formats.open_laid_out(path) as pdf:
        assert all(page.rect.width <= 7200 for page in pdf)


def test_a_style_openpyxl_refuses_does_not_lose_the_cells(books, tmp_path, capsys):
    path = formatgen.broken_style_xlsx(tmp_path / "odd-style.xlsx", books / "budget.xlsx")
    paragraphs = text_of(capsys, path)["pages"][0]["text"].split("\n\n")
    assert "Item Owner Amount Note" in paragraphs
    assert "Laptop refresh Marta Silva 24000 approved by the board" in paragraphs  # unstyled


def test_a_cell_longer_than_a_page_is_read_whole(tmp_path, capsys):
    """A row cannot break across pages: a 20,000-character cell gets a column wide enough."""
    import openpyxl

    workbook = openpyxl.Workbook()
    note = " ".join(f"word{n}" for n in range(3000))
    workbook.active.append(["Log", note])
    path = tmp_path / "log.xlsx"
    workbook.save(path)
    text = text_of(capsys, path)["pages"][0]["text"]
    assert note in text.replace("\n", " ")
