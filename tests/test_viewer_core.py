"""The viewer's core (issue 19): every document opens, outline, page labels, find words,
and no running heads or footers in passages, answers or contexts."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.cli import main
from desktop_qa.core.documents.find import find, first_from_page, hits_on_page, step
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import engine, export
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.results import make_answer
from desktop_qa.core.storage import opening
from tests.conftest import CORPUS, need_shared
from tests.factset import generate
from tests.pdfgen import handbook, page_lines, scan_pdf, write_pdf

BOOK = CORPUS.parent / "books" / "freeculture.pdf"
HEAD = "ZORBLAX FORTNIGHTLY GAZETTE"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # a usage error, as argparse ends it
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err.splitlines()


# -- 1. every document opens -----------------------------------------------------------------
@pytest.fixture(scope="module")
def image_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two pages of text rendered to images: no text layer."""
    folder = tmp_path_factory.mktemp("scan")
    return scan_pdf(handbook(folder / "src.pdf", pages=2), folder / "image-only.pdf", dpi=60)


def test_image_only_pdf_opens_for_viewing_with_ocr_off(image_pdf: Path, tmp_path: Path):
    never = OcrOptions(mode="never")
    with opening.open_document(image_pdf, ocr=never, require_text=False) as opened:
        doc = opened.doc
        assert doc.page_count == 2 and doc.page_sizes[0] == (612.0, 792.0)
        assert doc.text == "" and opened.total_passages == 0
        assert doc.unanswerable == (
            f"{image_pdf} has no text layer, only images (a scan?); OCR is off"
        )
        # A question about it gets the question path's one line, with its hint.
        with pytest.raises(UserError, match="OCR is off") as raised:
            engine.final(engine.answer(opened, Query("what is it?"), None))
        assert raised.value.hint == "ocr_on"
    # The question path refuses it as before, from the cache too, naming the file opened.
    copy = shutil.copy(image_pdf, tmp_path / "renamed.pdf")
    with pytest.raises(UserError) as refused:
        opening.open_document(copy, ocr=never)
    assert str(refused.value) == f"{copy} has no text layer, only images (a scan?); OCR is off"
    with opening.open_document(copy, ocr=never, require_text=False) as again:
        assert again.doc.page_count == 2 and again.doc.unanswerable.startswith(f"{copy} has")


def test_ask_still_refuses_a_text_less_pdf_and_find_opens_it(image_pdf: Path, capsys):
    code, out, err = run(capsys, "ask", str(image_pdf), "what is it?", "--ocr", "never")
    assert code == 2 and out == "" and len(err) == 1
    assert err[0].startswith(f"error: {image_pdf} has no text layer") and "--ocr auto" in err[0]
    code, out, err = run(capsys, "find", str(image_pdf), "alpha", "--ocr", "never", "--json")
    data = json.loads(out)
    assert code == 0 and data["matches"] == 0 and data["hits"] == []
    assert "OCR is off" in data["unanswerable"]


def test_img_regular_from_the_corpus_opens_for_viewing():
    path = need_shared(CORPUS / "img-regular.pdf")
    with pytest.raises(UserError, match="no text found on any page, even with OCR"):
        opening.open_document(path)
    with opening.open_document(path, require_text=False) as opened:
        assert opened.doc.page_count >= 1
        assert "no text found on any page, even with OCR" in opened.doc.unanswerable


# -- 2. outline ------------------------------------------------------------------------------
def _outlined(path: Path) -> Path:
    write_pdf(path, [[page_lines(p)] for p in range(6)])
    doc = pymupdf.open(str(path))
    doc.set_toc([[1, "Preface", 1], [1, "Part One", 2], [2, "Chapter 1", 3], [2, "Chapter 2", 5]])
    doc.saveIncr()
    doc.close()
    return path


def test_outline_is_read_kept_in_the_cache_and_follows_the_page(tmp_path: Path, monkeypatch):
    path = _outlined(tmp_path / "outlined.pdf")
    with opening.open_document(path) as opened:
        outline = opened.doc.outline
    assert [(e.level, e.title, e.page) for e in outline] == [
        (1, "Preface", 0),
        (1, "Part One", 1),
        (2, "Chapter 1", 2),
        (2, "Chapter 2", 4),
    ]

    def no_reading(*args, **kwargs):
        raise AssertionError("read again instead of from the cache")

    monkeypatch.setattr(opening, "load_document", no_reading)
    with opening.open_document(path) as cached:
        doc = cached.doc
    assert doc.outline == outline
    assert [doc.section_at(p).title for p in range(6)] == [
        "Preface",
        "Part One",
        "Chapter 1",
        "Chapter 1",
        "Chapter 2",
        "Chapter 2",
    ]
    assert outline[3].to_json() == {"level": 2, "title": "Chapter 2", "page": 5}


# -- 3. page labels --------------------------------------------------------------------------
FACT = "The launch code is Alpha Bravo and it is secret."


LABELS = ["i", "ii", "1", "2", "3", "4"]


def _labelled(path: Path) -> Path:
    """Six pages: i, ii, then 1-4; the fact on the fifth page (label "3")."""
    handbook(path, pages=6, answer_page=5, columns=1)
    doc = pymupdf.open(str(path))
    doc.set_page_labels(
        [{"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
         {"startpage": 2, "prefix": "", "style": "D", "firstpagenum": 1}]
    )  # fmt: skip
    doc.saveIncr()
    doc.close()
    return path


def test_page_labels_reach_json_text_csv_markdown_and_citations(tmp_path: Path, capsys):
    path = _labelled(tmp_path / "labelled.pdf")
    code, out, _ = run(capsys, "ask", str(path), "What is the launch code?", "--json")
    best = json.loads(out)["answers"][0]
    assert code == 0 and FACT[:20] in best["text"]
    # The fact is on page 5, label "3" (the filler before it has no full stop: its run-on
    # "sentence", widened over the page break, is cut again around the question's words).
    assert best["page"] == 5
    label = LABELS[best["page"] - 1]
    assert best["page_label"] == label == "3"
    assert export.citation(best, str(path)).endswith(f"(labelled.pdf, page {label})")
    code, out, _ = run(capsys, "ask", str(path), "What is the launch code?")
    first_row = next(line for line in out.splitlines() if line.startswith(" 1 "))
    assert first_row.split()[-1] == label
    code, out, _ = run(capsys, "ask", str(path), "What is the launch code?", "--format", "csv")
    row = next(csv.DictReader(io.StringIO(out)))
    assert row["page"] == str(best["page"]) and row["page_label"] == label
    code, out, _ = run(capsys, "ask", str(path), "What is the launch code?", "--format", "markdown")
    assert f"labelled.pdf | {label} | " in out
    with opening.open_document(path) as opened:
        assert opened.doc.page_labels == LABELS


def test_documents_without_labels_are_unchanged(handbook_pdf: Path, capsys):
    code, out, _ = run(capsys, "ask", str(handbook_pdf), "What is the launch code?", "--json")
    best = json.loads(out)["answers"][0]
    assert best["page"] == 41 and best["page_label"] is None
    assert export.citation(best, str(handbook_pdf)).endswith("(handbook.pdf, page 41)")


def test_page_labels_survive_the_library(tmp_path: Path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    _labelled(folder / "labelled.pdf")
    code, out, _ = run(capsys, "ask", str(folder), "What is the launch code?", "--json")
    best = json.loads(out)["answers"][0]
    assert code == 0 and best["page"] == 5 and best["page_label"] == "3"


# -- 4. find words ---------------------------------------------------------------------------
def _find_pdf(path: Path) -> Path:
    """The ligature glyph "ﬁ" on page 1, "First Light" across a line break on page 2."""
    pages = [
        ["the \ufb01rst of the morning", "", "nothing here"],
        ["we saw the First", "Light over the hill", "", "and FIRST things first"],
        ["no match on this page"],
    ]
    with pymupdf.open() as pdf:
        for lines in pages:
            page = pdf.new_page(width=612, height=792)
            # An embedded copy of Times: its encoding reaches the ligature glyphs.
            page.insert_font(fontname="F1", fontbuffer=pymupdf.Font("tiro").buffer)
            for i, line in enumerate(lines):
                page.insert_text((72, 200 + 14 * i), line, fontsize=11, fontname="F1")
        pdf.save(path)
    with pymupdf.open(path) as pdf:
        assert "\ufb01" in pdf[0].get_text()  # the file really carries the ligature glyph
    return path


def test_find_is_case_and_ligature_insensitive_with_boxes(tmp_path: Path):
    path = _find_pdf(tmp_path / "find.pdf")
    with opening.open_document(path) as opened:
        doc = opened.doc
    hits = find(doc, "FIRST")
    assert [h.page for h in hits] == [0, 1, 1, 1]
    assert [doc.text[h.start : h.end].casefold() for h in hits] == ["first"] * 4
    page = pymupdf.open(str(path))[0]
    word = next(w for w in page.get_text("words") if w[4] == "\ufb01rst")
    (box,) = hits[0].boxes
    assert box.page == 0 and box.rect == pytest.approx(word[:4], abs=0.5)
    assert hits[0].context[hits[0].context_start : hits[0].context_end].casefold() == "first"
    across = find(doc, "first light")  # words match across a line break
    assert len(across) == 1 and len(across[0].boxes) == 2 and across[0].page == 1
    assert find(doc, "irs") and not find(doc, "irs", whole_words=True)
    assert hits_on_page(hits, 1) == [1, 2, 3]
    assert step(hits, 3) == 0 and step(hits, 0, forward=False) == 3 and step([], None) is None
    assert first_from_page(hits, 1) == 1 and first_from_page(hits, 2) == 0


def test_find_command_json_text_and_bad_input(tmp_path: Path, capsys):
    path = _labelled(tmp_path / "labelled.pdf")
    code, out, _ = run(capsys, "find", str(path), "alpha bravo", "--json")
    data = json.loads(out)
    assert code == 0 and data["matches"] == 1 and data["unanswerable"] is None
    (hit,) = data["hits"]
    assert hit["page"] == 5 and hit["page_label"] == "3" and len(hit["boxes"]) == 1
    assert "Alpha Bravo" in hit["context"] and hit["end"] - hit["start"] == len("alpha bravo")
    code, out, _ = run(capsys, "find", str(path), "ALPHA bravo")
    assert code == 0 and out.splitlines()[0] == "labelled.pdf: 'ALPHA bravo': 1 match"
    assert out.splitlines()[1].split()[0] == "3"
    for argv, needle in (
        (["find", str(path), "  "], "give the words to find"),
        (["find", str(tmp_path / "missing.pdf"), "x"], "missing.pdf"),
        (["find", str(path)], "the following arguments are required: words"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and len(err) == 1, err
        assert err[0].startswith("error: ") and needle in err[0], err


def test_find_counts_every_occurrence_in_the_book():
    """Every case-insensitive occurrence, in reading order, each framed on its page (the
    speed on the book is measured by ``benchmarks/find.py``, not asserted here)."""
    book = need_shared(BOOK)
    with opening.open_document(book) as opened:
        doc = opened.doc
    hits = find(doc, "free culture")
    assert len(hits) == doc.text.casefold().count("free culture") > 100
    assert [h.start for h in hits] == sorted(h.start for h in hits)
    assert hits[0].boxes and hits[-1].boxes


# -- 5. no running heads or footers in passages ----------------------------------------------
def _bulletin(path: Path, paragraphs_by_page: list[list[str]]) -> Path:
    """One text box per paragraph; a running head at the top, the page number at the foot."""
    pdf = pymupdf.open()
    for number, paragraphs in enumerate(paragraphs_by_page, 1):
        page = pdf.new_page(width=612, height=792)
        head = f"{HEAD} {number}" if number % 2 else f"{number} {HEAD}"
        page.insert_text((56, 40), head, fontsize=8, fontname="helv")
        y = 72.0
        for paragraph in paragraphs:
            left = page.insert_textbox(
                pymupdf.Rect(56, y, 556, 740), paragraph, fontsize=9, fontname="helv"
            )
            assert left >= 0, "paragraph does not fit"
            y = 740 - left + 9
        page.insert_text((300, 772), str(number), fontsize=8, fontname="helv")
    pdf.save(str(path))
    pdf.close()
    return path


def test_a_planted_running_head_is_in_no_passage_and_no_fact_is_lost(tmp_path: Path):
    facts = generate(pages=12, facts=24, words_per_page=300)
    path = _bulletin(tmp_path / "bulletin.pdf", facts.pages())
    with opening.open_document(path) as opened:
        doc, passages = opened.doc, opened.index.passages
        texts = [" ".join(p.text(doc.text).split()) for p in passages]
        assert not any("ZORBLAX" in t for t in texts)
        # The page numbers at the foot are gone from passages too, and nothing else.
        dropped = [" ".join(doc.text[a:b].split()) for a, b in doc.furniture.tolist()]
        assert len(dropped) == 24 and all(HEAD in d or d.isdigit() for d in dropped)
        for fact in facts.facts:
            assert any(fact.sentence in t for t in texts), fact.sentence
        # The viewer still shows and finds it; no keyword answer or context holds it.
        assert len(find(doc, "zorblax fortnightly")) == 12
        query = Query("Zorblax fortnightly gazette", top_k=5)
        assert not engine.final(engine.answer(opened, query, None)).answers
        for p in passages:  # an answer at either end of a passage: its context skips the head
            for a, b in ((p.start, p.start + 5), (p.end - 5, p.end)):
                assert "ZORBLAX" not in make_answer(doc, a, b, 1.0, 1.0).context
    with opening.open_document(path) as again:  # the cache keeps the furniture
        assert again.doc.furniture.tolist() == doc.furniture.tolist()


def test_running_heads_stay_out_of_the_library_passages(tmp_path: Path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    facts = generate(pages=6, facts=6, words_per_page=300)
    _bulletin(folder / "bulletin.pdf", facts.pages())
    code, out, _ = run(capsys, "ask", str(folder), "Zorblax fortnightly gazette", "--json")
    data = json.loads(out)
    assert code == 0 and data["read"]["total_passages"] > 0 and data["answers"] == []
    code, out, _ = run(capsys, "ask", str(folder), facts.facts[0].question, "--json")
    assert any(facts.facts[0].sentence in a["text"] for a in json.loads(out)["answers"])


def epub_with_toc(tmp_path: Path) -> Path:
    """A three-chapter EPUB whose NCX table of contents has one entry, "Chapter One"."""
    import zipfile

    from tests.test_document import write_epub

    plain = write_epub(tmp_path / "plain.epub", "Field Notes", ["Rivers and mountains."] * 3)
    with zipfile.ZipFile(plain) as z:
        files = {n: z.read(n) for n in z.namelist() if n != "mimetype"}
    opf = files["OEBPS/content.opf"].decode()
    opf = opf.replace(
        "</manifest>",
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/></manifest>',
    ).replace("<spine>", '<spine toc="ncx">')
    files["OEBPS/content.opf"] = opf.encode()
    files["OEBPS/toc.ncx"] = (
        b'<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
        b'version="2005-1"><head/><docTitle><text>T</text></docTitle><navMap>'
        b'<navPoint id="n1" playOrder="1"><navLabel><text>Chapter One</text></navLabel>'
        b'<content src="chapter.xhtml"/></navPoint></navMap></ncx>'
    )
    book = tmp_path / "book.epub"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", zipfile.ZIP_STORED)
        for name, data in files.items():
            z.writestr(name, data)
    return book


def test_epub_outline(tmp_path: Path):
    """An EPUB's table of contents (its NCX) is its outline too."""
    book = epub_with_toc(tmp_path)
    with opening.open_document(book) as opened:
        assert [(e.level, e.title, e.page) for e in opened.doc.outline] == [(1, "Chapter One", 0)]
        assert opened.doc.section_at(0).title == "Chapter One"
