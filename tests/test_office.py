"""Word, PowerPoint, e-mail and old Office files read in full, in every script (issue 28).

Files are written part by part (tests/officegen.py) or by their own library,
each structure holding a word of its own; the text questions and find run on
(``Document.text``) must hold every such word once, and never what a reader
does not see (a tracked deletion, a field's code, a text box's fallback copy).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core.documents.document import load_document
from desktop_qa.core.documents.formats import legacy
from desktop_qa.core.errors import UserError
from desktop_qa.core.search.passages import make_passages
from tests import officegen
from tests.formatgen import zip_with

# Real words: "the book is new on the table", "hello world, book", "hello world, book, Hindi".
ARABIC = "على الطاولة كتاب جديد"
HEBREW = "שלום עולם ספר"
DEVANAGARI = "नमस्ते दुनिया किताब हिन्दी"
SCRIPTS = (ARABIC, HEBREW, DEVANAGARI)


def find(capsys: pytest.CaptureFixture[str], path: Path, words: str) -> dict:
    assert main(["find", str(path), words, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def keyword_ask(capsys: pytest.CaptureFixture[str], path: Path, question: str) -> dict:
    """``ask --json`` with no model pack installed: keyword matches, as a new user gets."""
    assert main(["ask", str(path), question, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("suffix", "strict"), [(".docx", False), (".docm", False), (".dotx", False), (".docx", True)]
)
def test_word_structures_are_read_once_with_changes_accepted(
    tmp_path: Path, suffix: str, strict: bool
) -> None:
    path = officegen.word_file(tmp_path / f"structures{suffix}", strict=strict)
    text = load_document(path).text
    missing = [what for what, word in officegen.WORDS.items() if word not in text]
    assert not missing, f"not read: {missing}"
    shown = [what for what, word in officegen.HIDDEN.items() if word in text]
    assert not shown, f"read but not shown by Word: {shown}"
    assert text.count(officegen.WORDS["text box"]) == 1  # the VML fallback is a copy
    # Reading order: the text box follows the paragraph that anchors it.
    assert text.index("Anchor of a box") < text.index(officegen.WORDS["text box"])
    assert text.index(officegen.WORDS["text box"]) < text.index(officegen.WORDS["field result"])


def test_word_headers_and_footers_are_found_but_kept_out_of_passages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = officegen.word_file(tmp_path / "report.docx")
    doc = load_document(path)
    for word in (officegen.WORDS["header"], officegen.WORDS["footer"]):
        assert find(capsys, path, word)["matches"] == 1
        passages = make_passages(doc.text, exclude=doc.furniture)
        assert not any(word in p.text(doc.text) for p in passages), word
    body = [p.text(doc.text) for p in make_passages(doc.text, exclude=doc.furniture)]
    assert any(officegen.WORDS["content control"] in p for p in body)


def test_a_long_word_document_repeats_its_header_on_every_page(tmp_path: Path) -> None:
    body = officegen.paragraphs(*(f"Paragraph {i} of the long report." for i in range(160)))
    body = body.replace("<w:sectPr>", '<w:sectPr><w:headerReference w:type="default" r:id="rIdH"/>')
    doc = load_document(officegen.word_file(tmp_path / "long.docx", body=body))
    assert doc.page_count >= 3
    assert doc.text.count(officegen.WORDS["header"]) == doc.page_count
    assert len(doc.furniture) == doc.page_count  # one header line a page, all furniture


@pytest.mark.parametrize("columns", [14, 40])
def test_a_wide_word_table_gets_a_landscape_page_and_keeps_every_value(
    tmp_path: Path, columns: int
) -> None:
    """Smaller type on a landscape page, and for a very wide table a wider page: never cut."""
    rows = [[f"R{r}C{c}v{r * 100 + c}.25" for c in range(columns)] for r in range(6)]
    body = officegen.paragraphs("Before the table.") + officegen.table(rows)
    body += officegen.paragraphs("After the table.")
    path = officegen.word_file(tmp_path / "wide.docx", body=body)
    doc = load_document(path)
    missing = [v for row in rows for v in row if v not in doc.text.split()]
    assert not missing, f"cut or lost: {missing[:5]}"
    page = doc.page_of(doc.text.index("R0C0v0.25"))
    width, height = doc.page_sizes[page]
    assert width > height  # the table's own landscape page
    before = doc.page_sizes[doc.page_of(doc.text.index("Before"))]
    assert before[0] < before[1]  # the text around it stays on the document's own pages


def test_a_table_row_taller_than_a_page_loses_nothing(tmp_path: Path) -> None:
    """MuPDF cannot split such a row; the table is laid out again as blocks (a form's cell)."""
    body = officegen.tall_row_table(220) + officegen.paragraphs("The end of the form.")
    doc = load_document(officegen.word_file(tmp_path / "form.docx", body=body))
    lines = [f"Line {i} of the long cell" for i in range(220)]
    assert [line for line in lines if line not in doc.text] == []
    assert "The end of the form." in doc.text


def _deck(path: Path, content_type: str | None = None) -> Path:
    import pptx as python_pptx

    deck = python_pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Plant status"
    paragraph = slide.placeholders[1].text_frame.paragraphs[0]
    paragraph.add_run().text = "Commissioning"
    paragraph.add_line_break()
    paragraph.add_run().text = "starts in May"
    deck.save(path)
    if content_type is not None:  # a slide show or a template: only its main part's type differs
        import zipfile

        with zipfile.ZipFile(path) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        main_type = b"presentationml.presentation.main+xml"
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            main_type, content_type.encode()
        )
        path.write_bytes(zip_with(members))
    return path


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("deck.pptx", None),
        ("show.ppsx", "presentationml.slideshow.main+xml"),
        ("template.potx", "presentationml.template.main+xml"),
        ("show-saved-as.pptx", "presentationml.slideshow.main+xml"),
    ],
)
def test_slides_keep_words_apart_at_line_breaks(
    tmp_path: Path, name: str, content_type: str | None
) -> None:
    doc = load_document(_deck(tmp_path / name, content_type))
    assert "Commissioning starts in May" in " ".join(doc.text.split())
    assert "Commissioningstarts" not in doc.text


def _rtf(text: str) -> bytes:
    escaped = "".join(c if ord(c) < 128 else f"\\u{ord(c) - 65536 if ord(c) > 32767 else ord(c)}?"
                      for c in text)  # fmt: skip
    return ("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl\\f0 Arial;}\\f0 " + escaped + "\\par}").encode()


def _script_files(folder: Path) -> dict[str, Path]:
    import email.message

    lines = [f"{s}." for s in SCRIPTS]
    out = {}
    out["docx"] = officegen.word_file(folder / "scripts.docx", body=officegen.paragraphs(*lines))
    html = "".join(f"<p>{line}</p>" for line in lines)
    out["html"] = folder / "scripts.html"
    out["html"].write_text(f"<html><body>{html}</body></html>", encoding="utf-8")
    out["rtf"] = folder / "scripts.rtf"
    out["rtf"].write_bytes(_rtf("\\par ".join(lines)))
    message = email.message.EmailMessage()
    message["Subject"] = "Scripts"
    message["From"] = "a@example.org"
    message.set_content("\n\n".join(lines))
    out["eml"] = folder / "scripts.eml"
    out["eml"].write_bytes(bytes(message))
    import pptx as python_pptx

    deck = python_pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Scripts"
    slide.placeholders[1].text_frame.text = "\n".join(lines)
    out["pptx"] = folder / "scripts.pptx"
    deck.save(out["pptx"])
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    text = OpenDocumentText()
    for line in lines:
        text.text.addElement(P(text=line))
    out["odt"] = folder / "scripts.odt"
    text.save(str(out["odt"]))
    return out


@pytest.mark.parametrize("kind", ["docx", "pptx", "odt", "html", "rtf", "eml"])
def test_every_script_keeps_its_characters(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """MuPDF shapes Arabic and Devanagari to lay them out; the text keeps the source's letters."""
    path = _script_files(tmp_path)[kind]
    text = load_document(path).text
    for line in SCRIPTS:
        assert line in " ".join(text.split()), (line, text)
        assert find(capsys, path, line)["matches"] == 1
    assert "ǁ" not in text


def test_a_question_in_arabic_finds_its_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = officegen.paragraphs(
        "The meeting is on Monday.", f"{ARABIC}.", "The report is late.", "Budget review."
    )
    path = officegen.word_file(tmp_path / "arabic.docx", body=body)
    result = keyword_ask(capsys, path, "كتاب جديد على الطاولة؟")
    best = (result["answers"] or [result["best_guess"]])[0]
    assert ARABIC in best["text"]


SERVER_ROOM = "The server room moves to the basement of building D on Saturday 8 June."


def _server_room_eml(path: Path) -> Path:
    import email.message

    message = email.message.EmailMessage()
    message["Subject"] = "Move of the server room"
    message["From"] = "Facilities <facilities@example.org>"
    message["To"] = "all@example.org"
    message["Date"] = "Mon, 03 Jun 2024 09:00:00 +0000"
    message.set_content(
        f"Hello all,\n\n{SERVER_ROOM} Please shut down your test machines by Friday.\n\n"
        "Thanks,\nFacilities\n"
    )
    path.write_bytes(bytes(message))
    return path


@pytest.mark.parametrize("suffix", [".eml", ".msg"])
def test_an_emails_subject_is_context_for_its_body_not_its_rival(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if suffix == ".eml":
        path = _server_room_eml(tmp_path / "move.eml")
    else:
        body = f"Hello all,\r\n\r\n{SERVER_ROOM} Please shut down your test machines.\r\n"
        path = officegen.msg_file(
            tmp_path / "move.msg", "Move of the server room", "Facilities", body
        )
    result = keyword_ask(capsys, path, "Where does the server room move?")
    best = (result["answers"] or [result["best_guess"]])[0]
    assert best["text"] == SERVER_ROOM
    assert '"Move of the server room"' in best["location"]  # the subject cites the answer
    assert find(capsys, path, "Move of the server room")["matches"] == 1


def test_an_outlook_message_that_is_not_one_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "note.msg"
    path.write_bytes(b"From: someone\r\n\r\nnot an Outlook file")
    assert main(["find", str(path), "x"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path} is not an Outlook message")


def test_an_unsupported_type_says_what_is_read_and_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.pages"
    path.write_bytes(b"PK\x03\x04 something")
    assert main(["find", str(path), "x"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {path}: unsupported file type '.pages'")
    assert "save or export it as" in line and "PDF" in line
    for kind in ("Word (.doc .docm .docx", "PowerPoint (", "e-mail (.eml .msg)", "RTF (.rtf)"):
        assert kind in line


def test_converters_warnings_never_reach_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_qa.core.documents.formats import word

    real = word.docx

    def noisy(data: bytes, name: str):  # noqa: ANN202 - as a third-party reader would
        warnings.warn("a reader's warning", UserWarning, stacklevel=1)
        return real(data, name)

    def to_stderr(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001, ANN202
        print(f"{category.__name__}: {message}", file=sys.stderr)  # as Python prints them

    monkeypatch.setattr(word, "docx", noisy)
    path = officegen.word_file(tmp_path / "quiet.docx")
    with warnings.catch_warnings():  # pytest records warnings: show them as a terminal would
        warnings.simplefilter("always")
        monkeypatch.setattr(warnings, "showwarning", to_stderr)
        assert main(["find", str(path), officegen.WORDS["footnote"], "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["matches"] == 1
    assert err == ""


# -- old binary files ------------------------------------------------------------------------
def test_old_files_without_libreoffice_say_how_to_save_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(legacy, "find_soffice", lambda: None)
    for name, target in (("old.doc", ".docx"), ("old.ppt", ".pptx")):
        path = tmp_path / name
        path.write_bytes(legacy.CFB_MAGIC + bytes(4096))
        assert main(["find", str(path), "x"]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith(f"error: {path} is an old ")
        assert "install LibreOffice" in line and f"save it as {target}" in line


def test_rtf_and_web_pages_saved_as_doc_are_read_as_what_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(legacy, "find_soffice", lambda: None)  # no LibreOffice needed
    rtf = tmp_path / "memo.doc"
    rtf.write_bytes(_rtf("Memo of the board"))
    assert "Memo of the board" in load_document(rtf).text
    page = tmp_path / "page.doc"
    page.write_text("<html><body><p>Saved as a web page</p></body></html>", encoding="utf-8")
    assert "Saved as a web page" in load_document(page).text


SOFFICE = legacy.find_soffice()


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_old_word_and_powerpoint_files_read_through_libreoffice(tmp_path: Path) -> None:
    """A .doc and a .ppt (made by LibreOffice from ours) read in full; the file is untouched."""
    sources = tmp_path / "sources"
    sources.mkdir()
    officegen.word_file(sources / "report.docx", body=officegen.paragraphs(
        "The annual report is due in March.", f"{ARABIC}."))  # fmt: skip
    _deck(sources / "deck.pptx")
    for target, source in (("doc", "report.docx"), ("ppt", "deck.pptx")):
        subprocess.run(
            [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
             "--convert-to", target, "--outdir", str(tmp_path / "old"), str(sources / source)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    folder = tmp_path / "old"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    doc = load_document(folder / "report.doc")
    assert "The annual report is due in March." in doc.text and ARABIC in doc.text
    deck = load_document(folder / "deck.ppt")
    assert "Commissioning starts in May" in " ".join(deck.text.split())
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert after == before  # nothing written next to the files, nothing changed


def test_libreoffice_gets_a_private_copy_and_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command names a copy in a temporary folder and a profile there, never the user's
    file; LibreOffice that outlives the time limit is stopped with one line."""
    calls: list[list[str]] = []

    class Hung:
        pid = 0

        def __init__(self, command: list[str], **_: object) -> None:
            calls.append(command)

        def wait(self, timeout: float | None = None) -> int:
            assert timeout is not None, "LibreOffice waited for without a time limit"
            raise subprocess.TimeoutExpired("soffice", timeout)

        def poll(self) -> int:
            return 0

        def kill(self) -> None:
            pass

    monkeypatch.setattr(legacy, "find_soffice", lambda: "/opt/lo/soffice")
    monkeypatch.setattr(legacy.subprocess, "Popen", Hung)
    monkeypatch.setattr(legacy.os, "killpg", lambda *a: None, raising=False)
    monkeypatch.setattr(legacy, "SECONDS", 0.01)
    path = tmp_path / "user" / "old.doc"
    path.parent.mkdir()
    path.write_bytes(legacy.CFB_MAGIC + bytes(1024))
    with pytest.raises(UserError, match="took over .* and was stopped"):
        load_document(path)
    (command,) = calls
    assert str(path) not in " ".join(command)
    profile = next(a for a in command if a.startswith("-env:UserInstallation=file://"))
    assert str(path.parent) not in profile
    assert command[-1].endswith("document.doc") and "--headless" in command
    assert sorted(p.name for p in path.parent.iterdir()) == ["old.doc"]


def test_soffice_is_found_in_its_usual_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DESKTOP_QA_SOFFICE", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    program = tmp_path / "LibreOffice" / "program" / "soffice"
    program.parent.mkdir(parents=True)
    program.write_text("")
    monkeypatch.setitem(legacy._PLACES, "linux", (str(program),))
    monkeypatch.setitem(legacy._PLACES, "darwin", (str(program),))
    monkeypatch.setitem(legacy._PLACES, "win32", (str(program),))
    assert legacy.find_soffice() == str(program)
    monkeypatch.setenv("DESKTOP_QA_SOFFICE", str(tmp_path / "missing"))
    assert legacy.find_soffice() is None


def _odt(path: Path) -> Path:
    """An OpenDocument text with a table nested in a cell and a page header and footer."""
    from odf.opendocument import OpenDocumentText
    from odf.style import Footer, Header, MasterPage, PageLayout
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentText()
    outer, row = Table(name="Outer"), TableRow()
    cell = TableCell()
    cell.addElement(P(text="Outer cell"))
    inner, inner_row, inner_cell = Table(name="Inner"), TableRow(), TableCell()
    inner_cell.addElement(P(text="Quillback inner cell"))
    inner_row.addElement(inner_cell)
    inner.addElement(inner_row)
    holder = TableCell()
    holder.addElement(inner)
    row.addElement(cell)
    row.addElement(holder)
    outer.addElement(row)
    document.text.addElement(outer)
    document.text.addElement(P(text="The minutes were approved."))
    layout = PageLayout(name="pm1")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header, footer = Header(), Footer()
    header.addElement(P(text="Headerword council minutes"))
    footer.addElement(P(text="Footerword draft"))
    master.addElement(header)
    master.addElement(footer)
    document.masterstyles.addElement(master)
    document.save(str(path))
    return path


def test_opendocument_nested_tables_once_and_headers_as_furniture(tmp_path: Path) -> None:
    doc = load_document(_odt(tmp_path / "minutes.odt"))
    assert doc.text.count("Quillback") == 1  # a nested table's rows are not the outer's too
    passages = " ".join(p.text(doc.text) for p in make_passages(doc.text, exclude=doc.furniture))
    for word in ("Headerword", "Footerword"):
        assert word in doc.text and word not in passages
    assert "The minutes were approved." in passages


def test_a_cancelled_open_stops_libreoffice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's Cancel (or a newer file opened) ends a conversion at once, not after 120 s."""
    from desktop_qa.core.errors import Cancelled

    stopped: list[int] = []
    waits: list[float | None] = []

    class Running:
        pid = 4242

        def __init__(self, command: list[str], **_: object) -> None:
            pass

        def wait(self, timeout: float | None = None) -> int:
            waits.append(timeout)
            raise subprocess.TimeoutExpired("soffice", timeout or 0)

        def poll(self) -> None:
            return None  # still running until stopped

        def kill(self) -> None:  # Windows: no process groups
            stopped.append(self.pid)

    monkeypatch.setattr(legacy, "find_soffice", lambda: "/opt/lo/soffice")
    monkeypatch.setattr(legacy.subprocess, "Popen", Running)
    monkeypatch.setattr(legacy.os, "killpg", lambda pid, sig: stopped.append(pid), raising=False)
    monkeypatch.setattr(legacy, "SECONDS", 5.0)  # a regression fails in 5 s, not 120
    path = tmp_path / "old.ppt"
    path.write_bytes(legacy.CFB_MAGIC + bytes(1024))
    asked = []
    with pytest.raises(Cancelled):
        load_document(path, cancel=lambda: asked.append(1) or len(asked) > 2)
    assert stopped == [4242] and len(asked) == 3
    assert all(w is not None and w <= 0.25 for w in waits[:3])  # polled in short waits


def test_an_emails_header_block_keeps_its_script_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The subject and From line are drawn apart from the body: read against their own text."""
    import email.message

    message = email.message.EmailMessage()
    message["Subject"] = "اجتماع الميزانية"  # "the budget meeting"
    message["From"] = "أحمد <ahmad@example.org>"
    message.set_content(f"{ARABIC}.\n\n{DEVANAGARI}.\n")
    path = tmp_path / "arabic.eml"
    path.write_bytes(bytes(message))
    text = " ".join(load_document(path).text.split())
    for words in ("اجتماع الميزانية", "أحمد", ARABIC, DEVANAGARI):
        assert words in text
        assert find(capsys, path, words)["matches"] == 1


def test_the_quick_resync_agrees_with_the_full_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """``logical._resync`` looks at the nearest agreements first; it must pick what the full
    search picks (a wrong pick shifts the source's words onto the wrong boxes)."""
    import random

    from desktop_qa.core.documents.formats import logical

    rng = random.Random(7)
    cases = []
    while len(cases) < 4000:
        vocabulary = [str(k) for k in range(rng.randint(2, 6))]
        a = [rng.choice(vocabulary) for _ in range(rng.randint(2, 30))]
        b = [rng.choice(vocabulary) for _ in range(rng.randint(2, 30))]
        i, j = rng.randrange(len(a)), rng.randrange(len(b))
        if a[i] != b[j]:  # align() asks only where the two sides differ
            cases.append((a, b, i, j))
    quick = [logical._resync(*case) for case in cases]
    monkeypatch.setattr(logical, "_NEAR", [])
    assert quick == [logical._resync(*case) for case in cases]


def test_a_wide_table_on_a_web_page_keeps_every_value(tmp_path: Path) -> None:
    rows = [[f"W{r}K{c}x{r * 100 + c}.75" for c in range(20)] for r in range(5)]
    cells = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
    path = tmp_path / "report.html"
    path.write_text(
        f"<html><body><p>Quarterly figures.</p><table>{cells}</table></body></html>", "utf-8"
    )
    doc = load_document(path)
    missing = [v for row in rows for v in row if v not in doc.text.split()]
    assert not missing, f"cut or lost: {missing[:5]}"
    width, height = doc.page_sizes[0]
    assert width > height
