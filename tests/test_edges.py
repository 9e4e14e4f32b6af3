"""Answer edges (issue 27): a word hyphenated over a page, a sentence that runs onto the next
page, a dash at a line's end and abbreviations, for keyword sentences and reader spans alike.

The PDF is laid out line by line (tests/pdfgen.py) with a running head on every page, so
each page break has the head between the two halves, as in a printed book.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_qa.core.reading import engine
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.results import make_answer
from desktop_qa.core.storage import opening
from tests.pdfgen import page_lines

HEAD = "THE HARBOUR BOOK"


def _page(n: int, body: list[str]) -> list[str]:
    return [f"{HEAD} {n}", "", *body]


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """One column of lines a page, in a font that has the em dash (MuPDF's built-in CJK
    font, subset: Helvetica has none); a blank line ends a paragraph."""
    import pymupdf

    doc = pymupdf.open()
    font = pymupdf.Font("cjk").buffer
    for lines in pages:
        page = doc.new_page(width=612, height=792)
        page.insert_font(fontname="F0", fontbuffer=font)
        for i, line in enumerate(lines):
            if line:
                page.insert_text((56, 72 + 13 * i), line, fontsize=10, fontname="F0")
    doc.subset_fonts()
    doc.save(str(path), garbage=3, deflate=True)
    doc.close()
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    filler = [page_lines(n, n_lines=30) for n in range(6)]
    pages = [
        _page(1, filler[0]),
        _page(
            2,
            [
                *filler[1],
                "",
                "The harbour ferry to the island left every morning at",
            ],
        ),
        _page(
            3,
            [
                "seven and came back at noon on weekdays.",
                "",
                *filler[2],
                "",
                "For thirty years the old harbour master ran a busi-",
            ],
        ),
        _page(
            4,
            [
                "ness selling sea charts to sailors from his boat.",
                "",
                "Everyone agreed that closing the pier was wrong—",
                "even the mayor, said Dr. Hale of the U.S. Navy, e.g. on",
                "Sunday, at No. 5 Quay Street. The pier reopened.",
                "",
                *filler[3],
            ],
        ),
        _page(5, [*filler[4], "", "It makes sense to protect the right of the novelist John"]),
        _page(
            6,
            [
                "Grisham to sell his books for as long as he lives.",
                "",
                *filler[5],
                "",
                "Some listeners sample the music of a band before",
                "",
                "buying the record in a shop.",
            ],
        ),
    ]
    return write_pdf(tmp_path_factory.mktemp("edges") / "harbour.pdf", pages)


@pytest.fixture(scope="module")
def opened(book):
    with opening.open_document(book) as doc:
        yield doc


def _ask(opened, question: str):
    return engine.final(engine.answer(opened, Query(question, top_k=3), None)).answers[0]


def test_the_running_head_is_furniture(opened):
    assert len(opened.doc.furniture) >= 3  # else the page breaks below test nothing


def test_a_word_hyphenated_over_a_page_is_one_word_with_boxes_on_both_pages(opened):
    answer = _ask(opened, "What business did the harbour master run?")
    assert answer.text == (
        "For thirty years the old harbour master ran a business selling sea charts to "
        "sailors from his boat."
    )
    assert HEAD not in answer.text and HEAD not in answer.context
    assert {b.page for b in answer.boxes} == {2, 3} and answer.page == 3
    assert len(answer.boxes) == 2 and all(b.rect[1] > 80 for b in answer.boxes)


def test_a_sentence_that_runs_onto_the_next_page_is_one_answer_on_both_pages(opened):
    answer = _ask(opened, "When did the ferry come back?")
    assert answer.text == (
        "The harbour ferry to the island left every morning at seven and came back at noon "
        "on weekdays."
    )
    assert {b.page for b in answer.boxes} == {1, 2}
    # Its boxes are the sentence's lines only: none on the running head (the top line,
    # baseline 72 pt) between the two halves.
    assert len(answer.boxes) == 2 and all(b.rect[1] > 80 for b in answer.boxes)


def test_a_reader_span_cut_inside_a_hyphenated_word_is_widened_to_the_whole_word(opened):
    doc = opened.doc
    at = doc.text.index("ness selling")
    starts_inside = make_answer(doc, at, at + len("ness selling"), 1.0, 0.5)
    assert starts_inside.text == "business selling"
    assert {b.page for b in starts_inside.boxes} == {2, 3}
    busi = doc.text.index("busi-")
    ends_inside = make_answer(doc, busi - len("ran a "), busi + len("busi"), 1.0, 0.5)
    assert ends_inside.text == "ran a business"


def test_no_space_after_a_dash_at_a_line_end_and_no_cut_at_abbreviations(opened):
    answer = _ask(opened, "Who agreed that closing the pier was wrong?")
    assert answer.text == (
        "Everyone agreed that closing the pier was wrong—even the mayor, said Dr. Hale of the "
        "U.S. Navy, e.g. on Sunday, at No. 5 Quay Street."
    )


def test_a_sentence_goes_on_over_a_page_before_a_capital_and_over_a_block_break(opened):
    """A sentence that closes nothing at a page's foot goes on overleaf even before a
    capital ("John" | page | "Grisham"); within a page, a block break before a lower-case
    word is no sentence end either."""
    answer = _ask(opened, "Whose right to sell books does it make sense to protect?")
    assert answer.text == (
        "It makes sense to protect the right of the novelist John Grisham to sell his books "
        "for as long as he lives."
    )
    assert {b.page for b in answer.boxes} == {4, 5}
    answer = _ask(opened, "What do listeners sample before buying the record?")
    assert answer.text == (
        "Some listeners sample the music of a band before buying the record in a shop."
    )
