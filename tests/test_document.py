"""Extraction: reading order, paragraphs, hyphenation, text encodings, boxes."""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.core import UserError, load_document
from desktop_qa.core.search.passages import make_passages
from tests.pdfgen import write_pdf


def _close(a, b, tol=1.0) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_boxes_of_a_span_match_pymupdf_search(handbook_pdf: Path):
    doc = load_document(handbook_pdf)
    start = doc.text.index("Alpha Bravo")
    end = start + len("Alpha Bravo")
    boxes = doc.boxes_for(start, end)
    assert doc.page_of(start, end) == 40  # 0-based: page 41
    with pymupdf.open(handbook_pdf) as pdf:
        expected = pdf[40].search_for("Alpha Bravo")
    assert len(boxes) == len(expected) == 1
    assert boxes[0].page == 40
    assert _close(boxes[0].rect, tuple(expected[0]), tol=1.5)


def test_two_columns_read_column_by_column(tmp_path: Path):
    left = ["left one starts here", "left one ends here", "", "left two"]
    right = ["right one starts", "right one ends"]
    doc = load_document(write_pdf(tmp_path / "cols.pdf", [[left, right]]))
    assert doc.text == (
        "left one starts here left one ends here\n\nleft two\n\nright one starts right one ends"
    )


def test_hyphenation_is_undone_and_non_ascii_kept(handbook_pdf: Path):
    doc = load_document(handbook_pdf)
    assert "extraordinary item of café crème déjà vu" in doc.text
    start = doc.text.index("extraordinary")
    boxes = doc.boxes_for(start, start + len("extraordinary"))
    # One word, two lines: one rectangle per line, both on page 3.
    assert [b.page for b in boxes] == [2, 2]
    assert boxes[0].rect[1] < boxes[1].rect[1]


def test_capitalised_continuation_keeps_its_hyphen(tmp_path: Path):
    doc = load_document(write_pdf(tmp_path / "h.pdf", [[["met Jean-", "Paul today"]]]))
    assert doc.text == "met Jean-Paul today"


def test_every_character_maps_to_its_page(handbook_pdf: Path):
    doc = load_document(handbook_pdf)
    assert doc.page_count == 60
    assert len(doc.char_page) == len(doc.char_box) == len(doc.text)
    # Pages appear in order and every word character has a box on its page.
    pages = doc.char_page[doc.char_box >= 0]
    assert (pages[1:] >= pages[:-1]).all()
    assert (doc.box_page[doc.char_box[doc.char_box >= 0]] == pages).all()


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("cp1252", b""),
    ],
)
def test_text_file_encodings(tmp_path: Path, encoding: str, bom: bytes):
    content = "Crème brûlée\r\n\r\nThe code is Alpha Bravo. Ça va – “fine”.\n"
    path = tmp_path / "note.txt"
    path.write_bytes(bom + content.encode(encoding))
    doc = load_document(path)
    assert doc.text == content
    assert doc.kind == "text"
    assert doc.page_of(0) is None and doc.boxes_for(0, 5) == []


def test_documents_are_never_written(handbook_pdf: Path, tmp_path: Path):
    text = tmp_path / "t.txt"
    text.write_text("hello there")
    for path in (handbook_pdf, text):
        before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        load_document(path)
        assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


def test_passages_keep_offsets_and_paragraphs():
    paras = ["First paragraph. " * 10, "Second one. " * 200, "Third."]
    text = "\n\n".join(p.strip() for p in paras)
    passages = make_passages(text, max_chars=500)
    assert all(0 < p.end - p.start <= 500 for p in passages)
    # In order, non-overlapping, covering every non-space character.
    assert all(a.end <= b.start for a, b in zip(passages, passages[1:], strict=False))
    covered = "".join(p.text(text) for p in passages)
    assert "".join(covered.split()) == "".join(text.split())
    # The long paragraph is cut at sentence ends.
    assert all(p.text(text).endswith(".") for p in passages)


def write_epub(path: Path, title: str, paragraphs: list[str]) -> Path:
    """A minimal EPUB 3: the stored mimetype first, the container, an OPF and one XHTML page."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    files = {
        "META-INF/container.xml": (
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>"
        ),
        "OEBPS/content.opf": (
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="id">test-{title}</dc:identifier><dc:title>{title}</dc:title>'
            "<dc:language>en</dc:language></metadata><manifest>"
            '<item id="c1" href="chapter.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>'
        ),
        "OEBPS/chapter.xhtml": (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", zipfile.ZIP_STORED)
        for name, content in files.items():
            z.writestr(name, content)
    return path


def test_epub_opens(tmp_path: Path):
    fact = "The launch code is Alpha Bravo and it is kept in the blue box."
    filler = "Rivers and mountains of the old world were mapped by hand, one valley at a time."
    epub = write_epub(tmp_path / "book.epub", "Field Notes", [filler, fact, filler])
    doc = load_document(epub)
    assert doc.kind == "pdf" and doc.page_count > 0 and len(doc.text) > 100
    start = doc.text.index("Alpha Bravo")
    assert fact in " ".join(doc.text.split()) and doc.boxes_for(start, start + 11)


def test_unreadable_file_is_a_user_error(tmp_path: Path):
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    try:
        import os

        if os.access(path, os.R_OK):  # root reads anything
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(UserError, match="permission denied"):
            load_document(path)
    finally:
        path.chmod(0o644)


def test_boxes_of_part_words_leave_out_punctuation(tmp_path: Path):
    pdf = write_pdf(tmp_path / "p.pdf", [[["The code is Alpha Bravo. Next (quoted) word."]]])
    doc = load_document(pdf)
    with pymupdf.open(pdf) as opened:
        for needle in ("Alpha Bravo", "quoted"):
            start = doc.text.index(needle)
            (box,) = doc.boxes_for(start, start + len(needle))
            assert _close(box.rect, tuple(opened[0].search_for(needle)[0]), tol=0.5)


def test_ligatures_are_expanded_and_keep_their_boxes(tmp_path: Path, oracle_pack: Path):
    """A text layer with "ﬁ"/"ﬂ" glyphs reads as "fi"/"fl" for the index, the reader and answers."""
    from desktop_qa.core import Query, Reader, load_pack
    from desktop_qa.core.reading import engine
    from desktop_qa.core.storage import opening

    path = tmp_path / "ligatures.pdf"
    with pymupdf.open() as pdf:
        for n in range(30):  # enough passages that the keyword ranking matters
            page = pdf.new_page()
            lines = [f"Page {n} is about weather, rivers and the city markets of the region."] * 12
            if n == 17:
                lines[5] = "The ﬁrst speciﬁc inﬂuence was the code alpha bravo indeed."
            # An embedded copy of Times: its encoding reaches the ligature glyphs.
            page.insert_font(fontname="F1", fontbuffer=pymupdf.Font("tiro").buffer)
            for i, line in enumerate(lines):
                page.insert_text((72, 72 + 40 * i), line, fontsize=11, fontname="F1")
        pdf.save(path)
    with pymupdf.open(path) as pdf:
        assert "\ufb01" in pdf[17].get_text()  # the file really carries ligature glyphs
    opened = opening.open_document(path)
    text = opened.doc.text
    assert not any(ch in text for ch in "\ufb00\ufb01\ufb02\ufb03\ufb04")
    start = text.index("The first specific influence")
    hits = opened.search("What was the first specific influence?", 3)
    assert hits and hits[0].passage.start <= start < hits[0].passage.end
    keyword = engine.final(engine.answer(opened, Query("first specific influence"), None))
    assert "first specific influence" in keyword.answers[0].text
    reader = Reader(load_pack(oracle_pack))
    result = engine.final(engine.answer(opened, Query("What was the first influence?"), reader))
    assert result.answers[0].text == "alpha bravo" and result.answers[0].page == 18
    # "first" fills the box of the glyphs "ﬁrst": the same rectangle.
    with pymupdf.open(path) as pdf:
        (expected,) = pdf[17].search_for("ﬁrst")
    (box,) = opened.doc.boxes_for(start + 4, start + 9)
    assert _close(box.rect, tuple(expected), tol=1.5)
