"""``desktop-qa text FILE [--json]``: the text questions are answered from, page by page.

What ``pdftotext`` is for a PDF, for every format read here: the extracted
text exactly as the index, the reader and ``find`` see it (running heads and
footers included, as they stay in the text), each page under a marker that
names it in the document's own terms (``page 3``, ``slide 2``,
``sheet "Budget"``). It is also the contract fidelity checks run on
(``benchmarks/sheets_recall.py``). Bad input is ``ask``'s: one ``error:``
line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from desktop_qa.commands.ask import open_with_password, print_result
from desktop_qa.commands.options import add_open_options
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.reading import export


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("text", help="print the text a document's questions are answered from")
    p.add_argument("file", help="any document desktop-qa reads (PDF, Office, e-mail, text...)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_open_options(p)
    p.set_defaults(func=run)


def document_pages(doc: Any) -> list[dict[str, Any]]:
    """Each page's slice of ``doc.text``: 1-based ``page``, its ``label`` and offsets.

    ``label`` names the page as a citation would ("slide 2", 'sheet "Budget"',
    "page 3"); a PDF's printed page label where it has one. A text file is one
    page-less piece (``page`` null).
    """
    from desktop_qa.core.documents import formats

    text = doc.text
    if doc.kind == "text" or not len(doc.char_page):
        return [{"page": None, "label": None, "start": 0, "end": len(text), "text": text}]
    labels = formats.page_names(doc)
    pages: list[dict[str, Any]] = []
    starts = _page_starts(doc)
    for number in range(doc.page_count):
        start, end = starts[number], starts[number + 1]
        while start < end and text[start] == "\n":
            start += 1  # the paragraph break between two pages belongs to neither
        while end > start and text[end - 1] == "\n":
            end -= 1
        label = labels[number] if labels else doc.page_label(number) or f"page {number + 1}"
        if not labels and doc.page_label(number):
            label = f"page {label}"
        page = {"page": number + 1, "label": label, "start": start, "end": end}
        pages.append({**page, "text": text[start:end]})
    return pages


def _page_starts(doc: Any) -> list[int]:
    """Where each page's text starts in ``doc.text`` (and the end), separators to the next."""
    import numpy as np

    char_page = np.asarray(doc.char_page)
    count = doc.page_count
    firsts = np.full(count + 1, len(doc.text), np.int64)
    if len(char_page):
        pages, index = np.unique(char_page, return_index=True)
        keep = (pages >= 0) & (pages < count)
        firsts[pages[keep]] = index[keep]
    for number in range(count - 1, -1, -1):  # a page without text starts where the next does
        firsts[number] = min(firsts[number], firsts[number + 1])
    firsts[0] = 0
    return firsts.tolist()


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    ocr = OcrOptions(mode=args.ocr, languages=args.ocr_lang)
    with open_with_password(args, ocr, require_text=False) as opened:
        doc = opened.doc
        pages = document_pages(doc)
        data: dict[str, Any] = {
            "document": opened.name,
            "pages": pages,
            "characters": len(doc.text),
            "unanswerable": doc.unanswerable,
            "seconds": round(time.perf_counter() - started, 3),
        }
    if args.json:
        print_result(data, "json", None)
        return 0
    out: list[str] = []
    if data["unanswerable"]:
        out.append(f"(no text could be read: {export.one_line(data['unanswerable'])})\n")
    for page in pages:
        if page["label"] is not None:
            out.append(f"--- {export.one_line(page['label'])} ---\n")
        body = export.clean_text(page["text"])
        out.append(body + ("\n" if body and not body.endswith("\n") else ""))
    text = "".join(out)
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        sys.stdout.flush()
        buffer.write(text.encode("utf-8", "replace"))
        buffer.flush()
    return 0
