"""Sentence edges on a real book: the old splitter against the new one, side by side.

    python benchmarks/sentence_edges.py [PDF]    # default ../shared/corpora/books/freeculture.pdf

Every passage of the book is split into sentences two ways, in one run: the
regular expression keyword answers used before issue 27 (a sentence ends at
".", "!", "?", ";" or a line break) and ``core/search/sentences.split``
(sentencex, abbreviation-aware) with the page-break repair of
``core/search/sentences.whole_sentence``. Printed per splitter: seconds for the
whole book, sentences, pieces ending in an abbreviation ("Inc.", "U.S.",
"e.g.", "Dr.", "No.", a lone capital), pieces starting with a lower-case
letter (a sentence cut in the middle: at an abbreviation, or by a page), and
pieces that end at a page break without closing punctuation.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_qa.core.documents.document import Document  # noqa: E402
from desktop_qa.core.search import sentences  # noqa: E402
from desktop_qa.core.storage.opening import open_document  # noqa: E402

BOOK = ROOT.parent / "shared" / "corpora" / "books" / "freeculture.pdf"
OLD = re.compile(r"[^.!?;\n]*(?:[.!?;]+|\n|$)")  # the splitter before issue 27
ABBREVIATION = re.compile(r"(\b(Inc|Dr|Mr|Mrs|Ms|No|Co|Corp|Ltd|St|vs|Jr|Sr)|e\.g|i\.e|\b[A-Z])\.$")


def old_split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    for m in OLD.finditer(text, start, end):
        a, b = m.start(), m.end()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def new_split(doc: Document, start: int, end: int) -> list[tuple[int, int]]:
    return [sentences.whole_sentence(doc, a, b) for a, b in sentences.split(doc.text, start, end)]


def figures(doc: Document, pieces: list[tuple[int, int]], seconds: float) -> dict[str, object]:
    text = doc.text
    at_page_end = 0
    for _a, b in pieces:
        if sentences.next_after(doc, b) is not None and text[b - 1] not in ".!?:;\"”’')]":
            at_page_end += 1
    return {
        "seconds": round(seconds, 3),
        "sentences": len(pieces),
        "end_at_abbreviation": sum(bool(ABBREVIATION.search(text[a:b])) for a, b in pieces),
        "start_lower_case": sum(text[a].islower() for a, b in pieces),
        "cut_at_page_end": at_page_end,
    }


def main() -> int:
    path = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT.parent / "shared/corpora/books/freeculture.pdf"
    )
    with open_document(path) as opened:
        doc = opened.doc
        passages = opened.index.passages
        started = time.perf_counter()
        old = [p for r in passages for p in old_split(doc.text, r.start, r.end)]
        old_s = time.perf_counter() - started
        started = time.perf_counter()
        new = [p for r in passages for p in new_split(doc, r.start, r.end)]
        new_s = time.perf_counter() - started
        new = sorted(set(new))  # a sentence two passages share (cut by a page) counts once
        print(f"{path.name}: {len(doc.text)} characters, {len(passages)} passages")
        for name, pieces, seconds in (("before", old, old_s), ("after", new, new_s)):
            print(f"{name:7s}", figures(doc, pieces, seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
