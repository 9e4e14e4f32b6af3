"""``desktop-qa ask FILE QUESTION``: the scriptable contract other tools rely on."""

from __future__ import annotations

import argparse
import json
import sys
import time

from desktop_qa.core import UserError, find_pack
from desktop_qa.core.engine import answer_iter, open_document
from desktop_qa.core.ocr import DEFAULT_LANGUAGES, MODES, OcrOptions
from desktop_qa.core.pack import candidate_dirs
from desktop_qa.core.reader import DEFAULT_BATCH_SIZE, Reader


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="answer a question from a document")
    p.add_argument("file", help="PDF, EPUB, XPS or text file")
    p.add_argument("question", help="the question, in plain words")
    p.add_argument("--model", metavar="DIR", help="model pack folder")
    p.add_argument("--top-k", type=int, default=5, metavar="N", help="answers to list (5)")
    p.add_argument(
        "--threshold",
        type=float,
        metavar="X",
        help="no-answer threshold in logits (default: the pack's null_threshold)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--exhaustive",
        action="store_true",
        help="read the whole document (default: the passages that best match the question's "
        "words, and the rest only if they hold no answer; much faster on long documents)",
    )
    p.add_argument(
        "--ocr",
        choices=MODES,
        default="auto",
        help="read pages without a text layer (scans) with OCR: auto (only those pages, "
        "the default), never, always (every page, ignoring its text layer)",
    )
    p.add_argument(
        "--ocr-lang",
        default=DEFAULT_LANGUAGES,
        metavar="LANGS",
        help="OCR languages, e.g. eng or eng+deu (default eng; see docs/ocr.md to add more)",
    )
    p.set_defaults(func=run)


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not args.question.strip():
        raise UserError("the question is empty; ask something such as 'When does the lease end?'")
    if args.top_k < 1:
        raise UserError(f"--top-k must be at least 1 (got {args.top_k})")
    # No pack anywhere (and none named): answer from the keyword index instead of
    # failing. A pack named with --model or $DESKTOP_QA_MODEL must exist.
    pack = find_pack(args.model) if args.model or candidate_dirs(None) else None
    ocr = OcrOptions(mode=args.ocr, languages=args.ocr_lang)
    doc = open_document(args.file, ocr=ocr)
    reader = None
    if pack is not None:
        reader = Reader(pack, batch_size=int(pack.extra.get("batch_size", DEFAULT_BATCH_SIZE)))
    # Warn only once every input is known good, so a bad input stays one error line.
    if pack is None:
        print(
            "warning: no model pack installed; showing keyword matches instead of answers "
            "(run 'desktop-qa model download' for real answers)",
            file=sys.stderr,
        )
    elif not pack.trained:
        print(
            f"warning: model pack '{pack.name}' is untrained (a test model); its answers "
            "are meaningless",
            file=sys.stderr,
        )
    result = None
    for step in answer_iter(
        doc,
        args.question,
        reader,
        top_k=args.top_k,
        threshold=args.threshold,
        exhaustive=args.exhaustive,
    ):
        result = step.result or result
    assert result is not None
    result.seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    print(f"{doc.name}: {args.question}")
    if result.no_answer:
        print("No answer in this document.")
        guess = result.best_guess
        if guess is not None:
            print(f"  (best guess, below the threshold: {_cell(guess.text, 60)!r})")
    else:
        print(f"{'#':>2}  {'candidate':<50}  {'score':>7}  {'prob':>6}  page")
        for i, a in enumerate(result.answers, 1):
            page = "-" if a.page is None else str(a.page)
            print(f"{i:>2}  {_cell(a.text, 50):<50}  {a.score:7.2f}  {a.probability:6.1%}  {page}")
    source = f"model {pack.describe()}" if pack is not None else "keyword matches, no model"
    print(f"({result.seconds:.2f} s, {source})")
    return 0
