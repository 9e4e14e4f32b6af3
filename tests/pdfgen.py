"""Generated test documents: multi-page, two-column PDFs with facts at known places.

The layout is done line by line here (not by PyMuPDF's text box) so a test
controls exactly where a line breaks, which word is hyphenated, and where the
answer lands; PyMuPDF's own ``search_for`` then gives the expected boxes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pymupdf

FILLER_WORDS = """the of and to in is was that for it as with be on by at this from or are not
which but have had they you were their one all we can her has there been if more when will
would who so what out up into do than time only could new about other some them these may
then its our most over such also after first two any years where many well made way even how
back down because being each both work between before through three during under while same
last year must part place long since life still world might state great own should old very
home use day end report table figure data system value number name city river mountain
""".split()


def filler_words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(FILLER_WORDS) for _ in range(n)]


def wrap(words: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def write_pdf(
    path: Path,
    pages: Sequence[Sequence[Sequence[str]]],
    *,
    fontsize: float = 10,
) -> Path:
    """``pages[p][c]`` is the list of lines of column ``c`` on page ``p`` (1 or 2 columns).

    An empty string is a blank line, which ends a paragraph.
    """
    doc = pymupdf.open()
    for columns in pages:
        page = doc.new_page(width=612, height=792)
        col_width = 500 / len(columns)
        for c, lines in enumerate(columns):
            x = 56 + c * (col_width + 12)
            # One call a column, lines fontsize * 1.3 apart (a blank line too): the same
            # words at the same places as a call a line, 20 times faster (a 60-page
            # handbook in 0.2 s instead of 4).
            if any(lines):
                page.insert_text(
                    (x, 72.0), list(lines), fontsize=fontsize, fontname="helv", lineheight=1.3
                )
    doc.save(str(path))
    doc.close()
    return path


def page_lines(
    seed: int, n_lines: int = 48, width: int = 44, paragraph_every: int = 8
) -> list[str]:
    """Column lines of filler with a blank line every few lines (paragraphs)."""
    lines = wrap(filler_words(n_lines * 9, seed), width)[:n_lines]
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        if (i + 1) % paragraph_every == 0:
            out.append("")
    return out


def handbook(
    path: Path,
    *,
    pages: int = 60,
    answer_page: int = 41,
    fact: str | None = "The launch code is Alpha Bravo and it is secret.",
    columns: int = 2,
) -> Path:
    """A ``pages``-page two-column PDF; ``fact`` sits in the right column of ``answer_page``.

    Page 3 carries a hyphenated word across a line break ("extra-" / "ordinary")
    and non-ASCII text, so extraction features are exercised on the way.
    """
    content = []
    for p in range(1, pages + 1):
        cols = [page_lines(p * 10 + c) for c in range(columns)]
        if p == 3:
            cols[0][2] = "an extra-"
            cols[0][3] = "ordinary item of café crème déjà vu"
        if fact and p == answer_page:
            cols[-1].insert(12, fact)
            cols[-1].insert(13, "")
        content.append(cols)
    return write_pdf(path, content)


def scan_pdf(
    src: Path,
    dst: Path,
    *,
    dpi: int = 200,
    rotate: float = 0.0,
    noise: float = 0.0,
    specks: float = 0.0,
    seed: int = 0,
) -> Path:
    """An image-only copy of ``src``: every page rendered to a grey image at ``dpi``.

    ``rotate`` tilts the page content by that many degrees (a skewed scan);
    ``noise`` adds Gaussian noise of that standard deviation (0-255 scale),
    ``specks`` turns that share of pixels black or white (half each). The
    result has no text layer.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    source = pymupdf.open(str(src))
    out = pymupdf.open()
    for page in source:
        render_doc = source
        page_no = page.number
        if rotate:
            tilted = pymupdf.open()
            tp = tilted.new_page(width=page.rect.width, height=page.rect.height)
            tp.show_pdf_page(tp.rect, source, page.number, rotate=rotate)
            render_doc, page_no = tilted, 0
        pix = render_doc[page_no].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        if noise or specks:
            img = np.frombuffer(pix.samples, np.uint8).astype(np.float32)
            img += rng.normal(0.0, noise, img.shape)
            dots = rng.random(img.shape)
            img[dots < specks / 2] = 0
            img[dots > 1 - specks / 2] = 255
            data = np.clip(img, 0, 255).astype(np.uint8).tobytes()
            pix = pymupdf.Pixmap(pymupdf.csGRAY, pix.width, pix.height, data, False)
        new = out.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, pixmap=pix)
    out.save(str(dst), deflate=True)
    return dst


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters (CER of OCR against a source page's text)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
