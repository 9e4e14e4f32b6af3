"""The limits' lines, worded by one helper each (``errors.mb``, ``checks.unpacks_too_much``),
read as they always have: the CLI prints them byte for byte."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from desktop_qa.core.documents import formats, inputs
from desktop_qa.core.documents.formats import checks, layout
from desktop_qa.core.errors import UserError

MIB = 1024 * 1024


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_an_epub_that_unpacks_to_too_much_markup(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(inputs, "MAX_MARKUP_BYTES", MIB)
    book = _zip(tmp_path / "book.epub", {"mimetype": b"application/epub+zip",
                                         "text.xhtml": b" " * (2 * MIB)})  # fmt: skip
    with pytest.raises(UserError) as caught:
        inputs.check_input(book)
    assert caught.value.message == (
        f"{book} unpacks to 2 MB of text and markup, over the 1 MB limit for EPUB files "
        "(a damaged file or a zip bomb); split it or convert it to PDF"
    )


def test_an_office_file_that_unpacks_to_too_much_xml(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(checks, "MAX_XML_BYTES", MIB)
    doc = _zip(tmp_path / "big.docx", {"word/document.xml": b" " * (3 * MIB)})
    with pytest.raises(UserError) as caught:
        checks.check_zip(doc, ".docx", "big.docx")
    assert caught.value.message == (
        "big.docx unpacks to 3 MB of XML, over the 1 MB limit for a Word file (a damaged "
        "file or a zip bomb); split it into smaller documents"
    )


def test_a_converted_file_over_its_size_or_text_limit(tmp_path: Path, monkeypatch) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>" + "word " * (MIB // 4) + "</p>")
    monkeypatch.setitem(formats.MAX_FILE_BYTES, ".html", 2 * MIB)
    monkeypatch.setattr(layout, "MAX_HTML_CHARS", MIB)
    with pytest.raises(UserError) as caught:
        formats.convert(page)
    assert caught.value.message.endswith(
        " converts to more than 1 MB of text and markup, over the limit for laying it out; "
        "split it into smaller documents"
    )
    monkeypatch.setitem(formats.MAX_FILE_BYTES, ".html", MIB)
    with pytest.raises(UserError) as caught:
        formats.convert(page)
    assert caught.value.message == f"{page} is over the 1 MB limit for its type"
