"""``desktop-qa find FILE WORDS``: every occurrence of exact words, with page, boxes, context.

The viewer's find (case- and ligature-insensitive, no model, ``core.documents.find``)
on the command line: a table of pages and contexts, or with ``--json`` one
object (``document``, ``words``, ``matches``, ``hits`` each with ``page``,
``page_label``, ``start``, ``end``, ``boxes``, ``context``; ``unanswerable``
and ``seconds``). A document with no readable text (a scan OCR found nothing
in) opens and has no match; the reason is said.
"""

from __future__ import annotations

import argparse
import time
from pathlib import PurePath
from typing import Any

from desktop_qa.commands.ask import open_with_password, print_result
from desktop_qa.commands.options import add_open_options
from desktop_qa.core.documents.find import find, pattern
from desktop_qa.core.documents.ocr.pages import OcrOptions
from desktop_qa.core.reading import export


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("find", help="find every occurrence of words in a document")
    p.add_argument("file", help="PDF, EPUB, XPS or text file")
    p.add_argument("words", help="the words to find (case and ligatures do not matter)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--whole-words", action="store_true", help="match whole words only ('cat' not 'locate')"
    )
    add_open_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    pattern(args.words)  # an empty query is bad input before the document is read
    ocr = OcrOptions(mode=args.ocr, languages=args.ocr_lang)
    with open_with_password(args, ocr, require_text=False) as opened:
        doc = opened.doc
        hits = find(doc, args.words, whole_words=args.whole_words)
        data: dict[str, Any] = {
            "document": opened.name,
            "words": args.words,
            "matches": len(hits),
            "hits": [h.to_json() for h in hits],
            "unanswerable": doc.unanswerable,
            "seconds": round(time.perf_counter() - started, 3),
        }
    if args.json:
        print_result(data, "json", None)
    else:
        _print_text(data)
    return 0


def _print_text(data: dict[str, Any]) -> None:
    """One line per hit: the page (its printed label where it has one) and the context."""
    name = export.one_line(PurePath(str(data["document"])).name)
    count = data["matches"]
    lines = [
        f"{name}: {export.one_line(data['words'])!r}: {count} match{'es' if count != 1 else ''}"
    ]
    if not count and data["unanswerable"]:
        lines.append(f"(no text could be read: {export.one_line(data['unanswerable'])})")
    for hit in data["hits"]:
        page = export.one_line(export.page_text(hit)) or "-"
        lines.append(f"{page:>6}  {export.one_line(hit['context'])}")
    text = "\n".join(lines) + "\n"
    import sys

    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        sys.stdout.flush()
        buffer.write(text.encode("utf-8", "replace"))
        buffer.flush()
