"""``desktop-qa ask FILE QUESTION``: the scriptable contract other tools rely on."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_qa.core import Query, find_pack
from desktop_qa.core.engine import answer, final, open_document
from desktop_qa.core.errors import UserError
from desktop_qa.core.pack import candidate_dirs
from desktop_qa.core.qa import no_answer_text
from desktop_qa.core.query import DEFAULT_DEPTH
from desktop_qa.core.reader import DEFAULT_BATCH_SIZE, Reader


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="answer a question from a document")
    p.add_argument("file", help="PDF, EPUB, XPS or text file, or a folder of them")
    p.add_argument("question", nargs="?", help="the question, in plain words")
    p.add_argument(
        "--library",
        action="store_true",
        help="ask across every folder of the library (then give only the question)",
    )
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
        "words, down to --depth; much faster on long documents)",
    )
    p.add_argument(
        "--depth",
        type=int,
        default=DEFAULT_DEPTH,
        metavar="N",
        help=f"best-matching passages read at most before 'no answer' ({DEFAULT_DEPTH})",
    )
    p.set_defaults(func=run)


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.library and args.question is None:  # `ask --library QUESTION`: no FILE
        args.file, args.question = None, args.file
    elif args.library or args.question is None:
        raise UserError("give a FILE (or folder) and a QUESTION, or --library and a QUESTION only")
    query = Query(
        args.question,
        top_k=args.top_k,
        threshold=args.threshold,
        depth=args.depth,
        exhaustive=args.exhaustive,
    )
    # No pack anywhere (and none named): answer from the keyword index instead of
    # failing. A pack named with --model or $DESKTOP_QA_MODEL must exist.
    pack = find_pack(args.model) if args.model or candidate_dirs(None) else None
    opened, skipped, indexing = _open_scope(args)
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
    with opened as scope:
        result = final(answer(scope, query, reader))
    result = replace(result, seconds=time.perf_counter() - started)
    if args.json:
        out = result.to_json()
        if skipped is not None:
            out["skipped"] = skipped
            out["library"] = indexing
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{_label(opened)}: {query.question}")
    if result.no_answer:
        print(no_answer_text(result.read))
        guess = result.best_guess
        if guess is not None:
            print(f"  (best guess, below the threshold: {_cell(guess.text, 60)!r})")
    else:
        print(f"{'#':>2}  {'candidate':<50}  {'score':>7}  {'prob':>6}  page")
        for i, a in enumerate(result.answers, 1):
            page = "-" if a.page is None else str(a.page)
            print(f"{i:>2}  {_cell(a.text, 50):<50}  {a.score:7.2f}  {a.probability:6.1%}  {page}")
            if skipped is not None:
                print(f"    {a.document}")
    if skipped:
        n = len(skipped)
        files = f"{n} file{'s' if n != 1 else ''}"
        print(f"({files} could not be read: 'desktop-qa library status --failed')")
    source = f"model {pack.describe()}" if pack is not None else "keyword matches, no model"
    print(f"({result.seconds:.2f} s, {source})")
    return 0


def _label(scope: object) -> str:
    doc = getattr(scope, "doc", None)
    return doc.name if doc is not None else str(getattr(scope, "name", ""))


def _open_scope(args: argparse.Namespace) -> tuple[Any, list[dict[str, str]] | None, Any]:
    """A file opens as one document; a folder or --library asks the library (issue 11).

    Returns (scope, skipped files or None for a file, what the update did).
    """
    if args.file is not None and not Path(args.file).expanduser().is_dir():
        return open_document(args.file), None, None
    from desktop_qa.commands.library import run_update
    from desktop_qa.core.library import Library, LibraryScope, default_workers

    library = Library()
    try:
        under, added = None, False
        if args.file is not None:  # a folder: bring its part of the library up to date
            folder = Path(args.file).expanduser().resolve()
            if library.covering_folder(folder) is None:
                added = bool(library.add_folder(folder))
            report = run_update(library.update([folder], workers=default_workers(False)))
            under = folder
        elif not library.folders():
            raise UserError("the library is empty; add a folder with 'desktop-qa library add DIR'")
        else:
            report = run_update(library.update(workers=default_workers(False)))
        scope = LibraryScope(library, under)
        skipped = scope.skipped()
        if scope.total_passages == 0:
            if added:  # nothing to ask: do not keep the folder in the library
                library.remove_folder(under)
            where = f"{under}: no" if under else "no"
            reason = (
                f" ({len(skipped)} could not be read; first: {skipped[0]['error']})"
                if skipped
                else "; add PDF, EPUB, XPS or text files to it"
            )
            raise UserError(f"{where} document in the library could be read{reason}")
    except BaseException:
        library.close()
        raise
    return _Closing(scope, library), skipped, report.to_json()


class _Closing:
    """A library scope that closes its database when the ``with`` block ends."""

    def __init__(self, scope: Any, library: Any) -> None:
        self.scope, self.library = scope, library

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scope, name)

    def __enter__(self) -> Any:
        return self.scope

    def __exit__(self, *exc: object) -> None:
        self.library.close()
