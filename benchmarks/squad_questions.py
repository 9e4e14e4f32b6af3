"""Keyword answers judged on real human questions: SQuAD 2.0 over one long document.

    python benchmarks/squad_questions.py DATA.json [--split tuning|reporting|both] [--abstention]
                                        [--limit N] [--seed S] [--factset] [--json]

DATA.json is SQuAD 2.0 dev data with answers: the official ``dev-v2.0.json``
(SQuAD explorer site, 4.4 MB) or the labelled half of it that the Stanford
CS224N project ships as ``data/dev-v2.0.json`` (github.com/chrischute/squad,
2.2 MB; its ``test-v2.0.json`` has no answers and is not usable). It is not
committed; pass its path (or set ``$DESKTOP_QA_SQUAD``). The script opens no
network connection.

The articles titled Normans, Computational_complexity_theory and Rhine are
dropped entirely (kept for an independent check: never tune on them). Every
other article's paragraphs, each article under its title, make one text
document (about 250 pages' worth for the half set), and every question of a
split is asked over the whole document, as a user asks a book. Articles fall
in the *tuning* or the *reporting* split by a hash of their title, so a split
holds the same articles whichever copy of the data is given.

Figures per split, with keyword answers (no model pack):

* ``first``: the first answer holds a gold answer (its character span covers
  one of the annotators' answer spans, at its place in the document);
* ``best_guess``: the same for the top match whether or not it abstains;
* ``top5``: one of the first five answers does (``top5_matches``: of the first
  five matches, shown greyed when it abstains);
* ``abstain_answerable`` / ``abstain_unanswerable``: how often it says "no answer";
* ``lost``: answerable questions whose top match held the answer but were
  abstained on (issue 27: at most 2% of answerable ones).

``--abstention`` adds, for rules "no answer when the top match holds less than
T of the question's words" (by weight and by count), how often each would
abstain on answerable and unanswerable questions and the right first answers
it would lose; "separates" marks a rule that abstains at least twice as often
on unanswerable ones and loses at most 2%.

``--pdf`` asks over the same document made a PDF (benchmarks/out/squad.pdf, built
once: PyMuPDF's Story lays the paragraphs on Letter pages, with a running head
and page number added on each), opened and extracted as the app does; an answer
then holds a gold answer when its text, read as letters and digits, holds it and
lies within the gold paragraph.

``--factset`` adds the same figures on the generated 240-fact set
(tests/factset.py, 300 pages): the second measure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_qa.core import Query  # noqa: E402
from desktop_qa.core.documents.document import Document  # noqa: E402
from desktop_qa.core.reading import engine  # noqa: E402
from desktop_qa.core.reading.engine import OpenedDocument  # noqa: E402
from desktop_qa.core.storage import opening  # noqa: E402

HELD_OUT = frozenset({"Normans", "Computational_complexity_theory", "Rhine"})
WHERE = (
    "the official SQuAD 2.0 dev-v2.0.json (SQuAD explorer site) or data/dev-v2.0.json "
    "of github.com/chrischute/squad (its labelled half)"
)


@dataclass(frozen=True)
class Question:
    text: str
    split: str
    # Gold answer spans as (start, end) offsets in the built document; empty: unanswerable.
    gold: tuple[tuple[int, int], ...]
    answers: tuple[str, ...] = ()  # the gold answers' texts (judging a PDF's answers)
    context: str = ""  # the paragraph that holds them


def split_of(title: str) -> str:
    """Which split an article belongs to: a stable hash of its title, not its position."""
    return "tuning" if hashlib.sha256(title.encode()).digest()[0] % 2 == 0 else "reporting"


def build(data: dict[str, Any]) -> tuple[str, list[Question], dict[str, list[str]]]:
    """(document text, every question with its gold spans, the titles of each split)."""
    parts: list[str] = []
    pos = 0
    questions: list[Question] = []
    titles: dict[str, list[str]] = {"tuning": [], "reporting": []}

    def add(chunk: str) -> int:
        nonlocal pos
        at = pos
        parts.append(chunk)
        pos += len(chunk)
        return at

    for article in data["data"]:
        title = str(article["title"])
        if title in HELD_OUT:
            continue
        split = split_of(title)
        titles[split].append(title)
        add(title.replace("_", " ") + "\n\n")
        for paragraph in article["paragraphs"]:
            context = str(paragraph["context"])
            at = add(context)
            add("\n\n")
            for qa in paragraph["qas"]:
                gold = set()
                if not qa.get("is_impossible", False):
                    for answer in qa.get("answers", []):
                        start = int(answer["answer_start"])
                        said = str(answer["text"])
                        if start >= 0 and context[start : start + len(said)] == said:
                            gold.add((at + start, at + start + len(said)))
                    if not gold:
                        continue  # answers that do not match their context: not judged
                texts = tuple(sorted({context[a - at : b - at] for a, b in gold}))
                questions.append(
                    Question(str(qa["question"]), split, tuple(sorted(gold)), texts, context)
                )
    return "".join(parts), questions, titles


def holds(answer: Any, q: Question) -> bool:
    """Whether an answer's span covers one of the gold spans (in the text document), or
    (in the PDF, whose offsets differ) its text, read as letters and digits only, holds a
    gold answer and lies within the gold paragraph."""
    if PDF_MODE:
        shown = _letters(answer.text)
        return shown in _letters(q.context) and any(_letters(g) in shown for g in q.answers)
    return any(answer.start <= s and answer.end >= e for s, e in q.gold)


PDF_MODE = False
_NOT_ALNUM = re.compile(r"[\W_]+")


def _letters(text: str) -> str:
    return _NOT_ALNUM.sub("", text).lower()


def write_pdf(text: str, path: Path) -> Path:
    """The document as a PDF (Letter pages, PyMuPDF's Story), each article's title a
    heading, with a running head and page number on every page, as in a book."""
    import html

    import pymupdf

    body = []
    for block in text.split("\n\n"):
        if not block:
            continue
        tag = "h2" if len(block) < 80 and "." not in block else "p"
        body.append(f"<{tag}>{html.escape(block)}</{tag}>")
    story = pymupdf.Story("".join(body))
    writer = pymupdf.DocumentWriter(str(path))
    page_rect = pymupdf.paper_rect("letter")
    where = page_rect + (72, 72, -72, -72)
    more = True
    while more:
        device = writer.begin_page(page_rect)
        more, _ = story.place(where)
        story.draw(device)
        writer.end_page()
    writer.close()
    doc = pymupdf.open(str(path))
    for number, page in enumerate(doc, 1):
        page.insert_text((72, 50), f"SQuAD 2.0 dev articles    {number}", fontsize=9)
    doc.save(str(path), incremental=True, encryption=0)
    doc.close()
    return path


RULES = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


def abstention(tops: list[tuple[bool, float, float, bool]]) -> dict[str, Any]:
    """Would a coverage rule separate? For "no answer when the top match holds less than T
    of the question's words (by weight: share; by count: count)", the abstention rates on
    answerable and unanswerable questions and the right first answers it would lose."""
    answerable = [t for t in tops if t[0]]
    impossible = [t for t in tops if not t[0]]
    out = {}
    for what, i in (("share", 1), ("count", 2)):
        for t in RULES:
            a = sum(x[i] < t for x in answerable) / max(len(answerable), 1)
            u = sum(x[i] < t for x in impossible) / max(len(impossible), 1)
            lost = sum(x[i] < t and x[3] for x in answerable) / max(len(answerable), 1)
            out[f"{what}<{t}"] = {
                "answerable": round(a, 4),
                "unanswerable": round(u, 4),
                "lost": round(lost, 4),
                "separates": u >= 2 * a and lost <= 0.02 and u > 0,
            }
    return out


def measure(
    scope: OpenedDocument, questions: list[Question], rules: bool = False
) -> dict[str, Any]:
    """The split's figures (see the module docstring); ``rules``: with ``abstention``."""
    answerable = [q for q in questions if q.gold]
    impossible = [q for q in questions if not q.gold]
    first = guess = top5 = top5m = abstain_a = abstain_u = lost = 0
    seconds: list[float] = []
    tops: list[tuple[bool, float, float, bool]] = []
    for q in answerable + impossible:
        started = time.perf_counter()
        result = engine.final(engine.answer(scope, Query(q.text, top_k=5), None))
        seconds.append(time.perf_counter() - started)
        top = result.best_guess
        if rules:
            weights = engine.keyword_weights(scope, q.text)
            share, count = engine.keyword_coverage(weights, top.text) if top else (0.0, 0.0)
            tops.append((bool(q.gold), share, count, bool(top and q.gold and holds(top, q))))
        if not q.gold:
            abstain_u += result.no_answer
            continue
        abstain_a += result.no_answer
        guess_holds = top is not None and holds(top, q)
        guess += guess_holds
        first += bool(result.answers) and holds(result.answers[0], q)
        top5 += any(holds(a, q) for a in result.answers[:5])
        top5m += any(holds(a, q) for a in result.candidates[:5])
        lost += guess_holds and result.no_answer
    na, nu = max(len(answerable), 1), max(len(impossible), 1)
    return {
        "answerable": len(answerable),
        "unanswerable": len(impossible),
        "first": round(first / na, 4),
        "best_guess": round(guess / na, 4),
        "top5": round(top5 / na, 4),
        "top5_matches": round(top5m / na, 4),
        "abstain_answerable": round(abstain_a / na, 4),
        "abstain_unanswerable": round(abstain_u / nu, 4),
        "lost": round(lost / na, 4),
        "ms_per_question": round(1000 * statistics.mean(seconds), 2) if seconds else None,
        **({"abstention": abstention(tops)} if rules else {}),
    }


def factset() -> dict[str, Any]:
    """The same figures on the generated fact set (every question answerable, text)."""
    global PDF_MODE
    PDF_MODE = False
    sys.path.insert(0, str(ROOT))
    from tests.factset import generate

    fd = generate(pages=300, facts=240)
    text = fd.text
    starts, pos = [], 0
    for p in fd.paragraphs:
        starts.append(pos)
        pos += len(p) + 2
    questions = []
    for fact in fd.facts:
        at = text.index(fact.sentence, starts[fact.paragraph])
        # The fact sentence without its final full stop is what must be shown.
        questions.append(Question(fact.question, "facts", ((at, at + len(fact.sentence) - 1),)))
    scope = OpenedDocument.from_document(Document.from_text(text, "facts"))
    return measure(scope, questions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=os.environ.get("DESKTOP_QA_SQUAD"))
    parser.add_argument("--split", choices=("tuning", "reporting", "both"), default="both")
    parser.add_argument(
        "--limit", type=int, default=0, help="at most N answerable and N unanswerable per split"
    )
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (with --limit)")
    parser.add_argument("--factset", action="store_true", help="also the generated fact set")
    parser.add_argument("--json", action="store_true", help="one JSON line only")
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="ask over the document made a PDF (benchmarks/out/squad.pdf), read as the app does",
    )
    parser.add_argument(
        "--abstention", action="store_true", help="would a coverage rule separate? (issue 27)"
    )
    args = parser.parse_args(argv)
    if not args.data or not Path(args.data).is_file():
        print(f"error: give the SQuAD 2.0 dev data as DATA.json: {WHERE}", file=sys.stderr)
        return 2
    data = json.loads(Path(args.data).read_text(encoding="utf-8"))
    text, questions, titles = build(data)
    started = time.perf_counter()
    if args.pdf:
        global PDF_MODE
        PDF_MODE = True
        out_dir = ROOT / "benchmarks" / "out"
        out_dir.mkdir(parents=True, exist_ok=True)
        pdf = out_dir / "squad.pdf"
        if not pdf.exists():
            write_pdf(text, pdf)
        scope = opening.open_document(pdf)
    else:
        scope = OpenedDocument.from_document(Document.from_text(text, "squad"))
    out: dict[str, Any] = {
        "document": "pdf" if args.pdf else "text",
        "pages": scope.doc.page_count if args.pdf else None,
        "document_chars": len(scope.doc.text),
        "passages": scope.total_passages,
        "index_seconds": round(time.perf_counter() - started, 2),
        "held_out": sorted(HELD_OUT),
    }
    splits = ("tuning", "reporting") if args.split == "both" else (args.split,)
    for split in splits:
        chosen = [q for q in questions if q.split == split]
        if args.limit:
            rng = random.Random(args.seed)
            a = [q for q in chosen if q.gold]
            u = [q for q in chosen if not q.gold]
            chosen = rng.sample(a, min(args.limit, len(a))) + rng.sample(u, min(args.limit, len(u)))
        out[split] = {"articles": titles[split], **measure(scope, chosen, args.abstention)}
    if args.factset:
        out["factset"] = factset()
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"document: {out['document_chars']} characters, {out['passages']} passages")
    for split in (*splits, *(("factset",) if args.factset else ())):
        f = out[split]
        print(
            f"{split:9s} answerable {f['answerable']:5d}  first {f['first']:.1%}  "
            f"best guess {f['best_guess']:.1%}  top5 {f['top5']:.1%}  "
            f"abstain: answerable {f['abstain_answerable']:.1%}, "
            f"unanswerable {f['abstain_unanswerable']:.1%} (of {f['unanswerable']})  "
            f"lost {f['lost']:.1%}  {f['ms_per_question']} ms/question"
        )
        for rule, r in f.get("abstention", {}).items():
            print(
                f"    no answer if {rule:10s} abstains on answerable {r['answerable']:.1%}, "
                f"unanswerable {r['unanswerable']:.1%}, loses {r['lost']:.1%}"
                + ("  separates" if r["separates"] else "")
            )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
