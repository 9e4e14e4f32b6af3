"""What a file expands to is bounded, and deep nesting is read, not dropped (issues 28, 30).

Every case is a file of a few KB to a few MB written at run time
(``tests/expansiongen.py``) that expands to gigabytes, nests thousands of
levels or multiplies work; each runs ``desktop-qa find`` in a child process
whose address space (1.5 GB) and CPU time (30 s) are limited (set by the
child itself: a child forked from pytest would count pytest's memory in its
peak), so a budget
taken out fails the test (killed, out of memory, or the wrong outcome)
instead of eating the machine. Within budgets the file is read (the fact is
found); past one, one ``error:`` line names the file and what to do, exit 2.
Figures per case: ``benchmarks/expansion.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import expansiongen as gen

REPO = Path(__file__).resolve().parents[1]
LIMIT_AS = 1536 << 20  # address space of the child: PyMuPDF, lxml and Python take ~700 MB
LIMIT_CPU = 30  # seconds of CPU: robust to a loaded machine, unlike wall time
MAX_PEAK_MB = 300  # resident peak a budgeted case stays under (50-110 MB measured)


# The child sets its own limits, runs the CLI and writes its own peak resident memory
# (VmHWM: ru_maxrss of a child counts the memory of the pytest process it came from).
_LIMITED = (
    "import atexit, resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({LIMIT_AS}, {LIMIT_AS}))\n"
    f"resource.setrlimit(resource.RLIMIT_CPU, ({LIMIT_CPU}, {LIMIT_CPU}))\n"
    "report = sys.argv.pop(1)\n"
    "def peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    open(report, 'w').write(status.split('VmHWM:')[1].split()[0])\n"
    "atexit.register(peak)\n"
    "sys.argv = ['desktop-qa', *sys.argv[1:]]\n"
    "runpy.run_module('desktop_qa', run_name='__main__')\n"
)


def find(tmp_path: Path, path: Path, *extra: str) -> dict:
    """``desktop-qa find PATH FACT --json`` in a limited child: code, matches, stderr, peak."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("DATA", "CONFIG", "CACHE"):
        env[f"DESKTOP_QA_{name}_DIR"] = str(tmp_path / "user" / name.lower())
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    report = tmp_path / "peak_kb.txt"
    report.unlink(missing_ok=True)
    argv = [sys.executable, "-c", _LIMITED, str(report),
            *(extra or ("find", str(path), gen.FACT))]  # fmt: skip
    with open(out, "wb") as o, open(err, "wb") as e:
        child = subprocess.Popen([*argv, "--json"], stdout=o, stderr=e, env=env)
    try:
        child.wait(timeout=4 * LIMIT_CPU)  # CPU is limited; this is for a child stuck idle
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    peak_kb = int(report.read_text()) if report.exists() else float("inf")  # killed: no report
    lines = err.read_text(errors="replace").splitlines()
    try:
        matches = json.loads(out.read_text())["matches"]
    except (ValueError, KeyError):
        matches = None
    return {"code": child.returncode, "matches": matches, "err": lines,
            "peak_mb": peak_kb / 1024}  # fmt: skip


def is_read(result: dict) -> None:
    """The file was read and the fact found, in bounded memory."""
    assert result["code"] == 0 and result["matches"], result
    assert result["err"] == [], result
    assert result["peak_mb"] < MAX_PEAK_MB, result


def is_refused(result: dict, path: Path, *words: str) -> None:
    """One ``error:`` line naming the file and the budget, exit 2, in bounded memory."""
    assert result["code"] == 2 and len(result["err"]) == 1, result
    line = result["err"][0]
    assert line.startswith("error: ") and str(path) in line, line
    for word in words:
        assert word in line, line
    assert result["peak_mb"] < MAX_PEAK_MB, result


# -- text multiplied: shared strings, repeated cells -----------------------------------------
@pytest.mark.parametrize("cells", [2_000, 20_000])
def test_one_shared_string_filling_many_cells_is_one_line(tmp_path: Path, cells: int):
    path = gen.xlsx_shared(tmp_path / "shared.xlsx", cells)
    assert path.stat().st_size < 64 * 1024
    is_refused(find(tmp_path, path), path, "8,000,000 characters of text", 'sheet "Data"')


def test_text_within_the_budget_is_built_and_past_it_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The budget counts each cell's text as read (5 cells of one 1 MB string: 5 MB)."""
    from desktop_qa.core.documents import formats
    from desktop_qa.core.documents.formats import budget

    path_data = gen.xlsx_shared(tmp_path / "fits.xlsx", 5).read_bytes()
    monkeypatch.setattr(budget, "MAX_TEXT_CHARS", 6 << 20)
    # Every section: a sheet this wide is laid out in bands of columns, one section each.
    html = "".join(s.html for s in formats.sections(path_data, ".xlsx", "fits.xlsx"))
    assert gen.FACT in html and html.count("lorem ipsum") > 5 * 30_000
    monkeypatch.setattr(budget, "MAX_TEXT_CHARS", 4 << 20)
    with pytest.raises(budget.BudgetExceeded, match="fits.xlsx expands to more than 4,194,304"):
        formats.sections(path_data, ".xlsx", "fits.xlsx")


def test_an_ods_cell_repeated_across_columns_is_one_line(tmp_path: Path):
    path = gen.ods_repeated(tmp_path / "repeated.ods")
    assert path.stat().st_size < 8 * 1024
    is_refused(find(tmp_path, path), path, "characters of text", 'sheet "Sheet1"')


def test_a_sparse_sheet_laid_out_past_its_grid_is_one_line(tmp_path: Path):
    """1,000 cells on a diagonal lay out as a 1,000 x 1,000 grid of mostly empty cells."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Diagonal"
    for i in range(1, 1001):
        sheet.cell(row=i, column=i, value=f"v{i}")
    path = tmp_path / "diagonal.xlsx"
    workbook.save(path)
    is_refused(find(tmp_path, path), path, "1,000 rows by 1,000 columns", "grid")


# -- parts that inflate: never unpacked unless XML, and then counted as inflated -------------
@pytest.mark.parametrize("kind", ["docx", "pptx", "xlsx"])
def test_office_file_with_a_part_inflating_to_2_gib_is_read(tmp_path: Path, kind: str):
    build = {"docx": gen.docx_thumbnail_bomb, "pptx": gen.pptx_thumbnail_bomb,
             "xlsx": gen.xlsx_embedding_bomb}[kind]  # fmt: skip
    path = build(tmp_path / f"bomb.{kind}")
    assert path.stat().st_size < 4 << 20
    is_read(find(tmp_path, path))


def test_email_carrying_such_a_docx_reads_the_attachment(tmp_path: Path):
    docx = gen.docx_thumbnail_bomb(tmp_path / "report.docx").read_bytes()
    path = gen.eml_with(tmp_path / "mail.eml", [("report.docx", docx)], body="See attached.")
    is_read(find(tmp_path, path))  # the fact is only in the attachment


def test_a_part_inflating_past_what_its_directory_declares_is_one_line(tmp_path: Path):
    path = gen.docx_lying_document(tmp_path / "lying.docx")
    is_refused(find(tmp_path, path), path, "damaged zip container", "word/document.xml")


def test_xml_parts_are_counted_as_they_inflate(monkeypatch: pytest.MonkeyPatch):
    """Whatever the directory declares, inflated bytes are counted chunk by chunk."""
    from desktop_qa.core.documents import formats
    from desktop_qa.core.documents.formats import budget

    body = "<w:p><w:r><w:t>" + "word " * 400_000 + "</w:t></w:r></w:p>"  # 2 MB of XML
    data = gen.docx_bytes(body=body)
    monkeypatch.setattr(budget, "MAX_INFLATED_BYTES", 1 << 20)
    with pytest.raises(budget.BudgetExceeded, match="inflates to more than 1 MB of XML"):
        formats.sections(data, ".docx", "report.docx")
    monkeypatch.setattr(budget, "MAX_INFLATED_BYTES", 4 << 20)
    assert gen.FACT in formats.sections(data, ".docx", "report.docx")[0].html


def test_an_rtf_past_the_text_budget_is_refused_before_it_is_converted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """striprtf converts a whole file (0.5 s of CPU a MB) before its text can be counted."""
    import striprtf.striprtf

    from desktop_qa.core.documents import formats
    from desktop_qa.core.documents.formats import budget

    def never(*args: object, **kwargs: object) -> str:
        raise AssertionError("converted")

    big = gen.rtf_big(tmp_path / "big.rtf", 11).read_bytes()
    monkeypatch.setattr(striprtf.striprtf, "rtf_to_text", never)
    with pytest.raises(budget.BudgetExceeded, match="8,000,000 characters of text"):
        formats.sections(big, ".rtf", "big.rtf")
    monkeypatch.undo()
    small = gen.rtf_big(tmp_path / "small.rtf", 0.1).read_bytes()
    assert gen.FACT in formats.sections(small, ".rtf", "small.rtf")[0].html


def test_a_very_long_paragraph_is_laid_out_in_runs_keeping_every_character():
    """MuPDF lays a paragraph out again from its start on each page (a 6 MB one took
    23 s of CPU): text over 64 KB goes out as blocks cut at spaces, nothing lost."""
    import html as std_html

    from desktop_qa.core.documents.formats import html

    text = "".join(f"word{i} & <more> " for i in range(20_000)) + "x&y" * 30_000
    out = html.escape(text)
    assert out.count("<div>") > 5
    assert std_html.unescape(out.replace("<div>", "").replace("</div>", "")) == text


# -- nesting ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tag", "depth"), [("div", 350), ("ul", 350), ("blockquote", 350), ("table", 300),
                       ("div", 3000)],
)  # fmt: skip
def test_a_fact_under_deep_html_nesting_is_found(tmp_path: Path, tag: str, depth: int):
    path = gen.html_nested(tmp_path / "deep.html", depth, tag)
    is_read(find(tmp_path, path))


def test_a_table_cell_taller_than_a_page_keeps_its_text(tmp_path: Path):
    """A page laid out in one big table cell: MuPDF cannot split the row and used to cut
    the rest of the page without a word; it is laid out again as blocks."""
    cell = "".join(f"<p>Paragraph {i} of the page.</p>" for i in range(200))
    path = tmp_path / "layout-table.html"
    path.write_text(
        f"<html><body><table><tr><td>{cell}<p>The password is {gen.FACT}.</p></td>"
        "<td>menu</td></tr></table></body></html>"
    )
    is_read(find(tmp_path, path))


def test_a_table_in_a_table_is_laid_out_flat():
    """MuPDF squeezes a table inside a table to a word a line: its text goes in the cell."""
    from desktop_qa.core.documents.formats import html

    page = (
        "<table><tr><td>out<table><tr><td>in one</td><td>in two</td></tr></table></td></tr></table>"
    )
    out = html.sanitize(page, "page.html")
    assert out.count("<table>") == 1 and out.count("<td>") == 1, out
    assert "in one" in out and "in two" in out and out.index("in one") < out.index("in two")


def test_html_nested_past_the_stated_depth_is_one_line(tmp_path: Path):
    path = gen.html_nested(tmp_path / "deeper.html", 120_000)
    is_refused(find(tmp_path, path), path, "nested more than 100,000 levels")


def test_html_whose_words_sit_in_one_huge_text_node_is_not_called_empty(tmp_path: Path):
    """libxml2 drops a text node over 10 MB unless told otherwise: "no text" was a lie."""
    path = gen.html_one_node(tmp_path / "node.html", 12)
    is_refused(find(tmp_path, path), path, "characters of text")


def test_epub_nested_deeper_than_mupdf_lays_out_is_one_line(tmp_path: Path):
    """MuPDF drops text nested about 100 elements deep, in silence: refused instead."""
    path = gen.epub_nested(tmp_path / "deep.epub", 350)
    is_refused(find(tmp_path, path), path, "more than 96 levels deep", "c.xhtml")


def test_epub_nested_within_what_mupdf_lays_out_is_read(tmp_path: Path):
    is_read(find(tmp_path, gen.epub_nested(tmp_path / "nested.epub", 60)))


@pytest.mark.parametrize("depth", [24, 26, 200])
def test_odt_tables_nested_deep_are_read(tmp_path: Path, depth: int):
    path = gen.odt_nested_tables(tmp_path / "tables.odt", depth)
    assert path.stat().st_size < 16 * 1024
    is_read(find(tmp_path, path))


def test_pptx_groups_nested_deep_are_read(tmp_path: Path):
    """Shapes in groups in groups: past 8 levels their text used to vanish."""
    is_read(find(tmp_path, gen.pptx_nested_groups(tmp_path / "groups.pptx", 40)))


def test_odt_lists_nested_a_thousand_deep_are_read(tmp_path: Path):
    is_read(find(tmp_path, gen.odt_nested_lists(tmp_path / "lists.odt", 1000)))


def test_odt_nested_past_the_xml_parser_ceiling_is_one_line(tmp_path: Path):
    path = gen.odt_nested_lists(tmp_path / "too.odt", 1500)
    is_refused(find(tmp_path, path), path, "nested more than 2,048 levels")


# -- work multiplied: styles, MIME parts, attachments ----------------------------------------
def test_a_docx_of_many_styles_and_paragraphs_is_read(tmp_path: Path):
    """Styles times paragraphs: 8,000 x 8,000 took over the 30 s of CPU the child has."""
    path = gen.docx_styles(tmp_path / "styles.docx", 8000, 8000)
    is_read(find(tmp_path, path))


def test_an_email_of_a_million_tiny_parts_is_one_line(tmp_path: Path):
    path = gen.eml_many_parts(tmp_path / "parts.eml", 1_000_000)
    result = find(tmp_path, path)
    is_refused(result, path, "more than 500 MIME parts")
    assert result["peak_mb"] < 150, result  # refused from the raw bytes, never parsed


@pytest.mark.parametrize("named", [True, False])  # counted in the raw bytes / as parsed
def test_an_email_of_hundreds_of_attachments_is_one_line(tmp_path: Path, named: bool):
    docx = gen.docx_bytes()
    path = gen.eml_many_attachments(tmp_path / "many.eml", 497, docx, "note.docx", named)
    assert path.stat().st_size < 4 << 20
    is_refused(find(tmp_path, path), path, "more than 100 attachments")
    if named:  # refused by the check that runs before any parsing (cached or not)
        from desktop_qa.core.documents import formats
        from desktop_qa.core.errors import UserError

        with pytest.raises(UserError, match="more than 100 attachments"):
            formats.check(path)


def test_an_email_whose_attachments_fit_is_read(tmp_path: Path):
    docx = gen.docx_bytes()
    path = gen.eml_many_attachments(tmp_path / "some.eml", 20, docx, "note.docx")
    result = find(tmp_path, path)
    is_read(result)
    assert result["matches"] == 21  # the body and each attachment


def test_a_budget_passed_in_an_attachment_refuses_the_message(tmp_path: Path):
    """Not skipped as "an attachment we cannot read": the budget is the message's."""
    sheet = gen.xlsx_shared(tmp_path / "s.xlsx", 2_000).read_bytes()
    path = gen.eml_with(tmp_path / "sheet.eml", [("s.xlsx", sheet)])
    is_refused(find(tmp_path, path), path, "characters of text")


# -- the library's workers read under the same budgets ---------------------------------------
def test_library_lists_an_expanding_file_as_failed_and_reads_the_rest(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    gen.xlsx_shared(folder / "shared.xlsx", 20_000)
    gen.html_nested(folder / "deep.html", 350)
    result = find(tmp_path, folder, "library", "add", str(folder))
    assert result["code"] == 0 and result["peak_mb"] < MAX_PEAK_MB, result
    result = find(tmp_path, folder, "library", "status")
    rows = {
        Path(r["document"]).name: r for r in json.loads((tmp_path / "out.txt").read_text())["rows"]
    }
    assert rows["shared.xlsx"]["state"] == "failed", rows
    assert "characters of text" in rows["shared.xlsx"]["error"], rows
    assert rows["deep.html"]["state"] != "failed", rows


def test_a_worker_thread_reads_under_the_same_budgets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The window and the library load documents off the main thread: each thread's
    conversion gets its own budget (a context variable, fresh in a new thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from desktop_qa.core.documents import formats
    from desktop_qa.core.documents.document import load_document
    from desktop_qa.core.documents.formats import budget, isolated
    from desktop_qa.core.errors import UserError

    monkeypatch.setattr(budget, "MAX_TEXT_CHARS", 4 << 20)
    # In place, as library workers and the page drawer convert (the window's conversions
    # run one at a time in the warm child, which the patched budget does not reach).
    monkeypatch.setattr(isolated, "in_child_process", lambda: True)
    sheet = gen.xlsx_shared(tmp_path / "five.xlsx", 5)  # 5 MB of text
    deep = gen.html_nested(tmp_path / "deep.html", 120_000)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(load_document, path) for path in (sheet, deep)]
        errors = []
        for future in futures:
            with pytest.raises(UserError) as caught:
                future.result()
            errors.append(str(caught.value))
    assert "characters of text" in errors[0] and "levels deep" in errors[1], errors
    assert budget.current() is None  # nothing leaks into the caller's context
    formats._RECENT.clear()
