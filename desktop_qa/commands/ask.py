"""``desktop-qa ask FILE QUESTION``: the scriptable contract other tools rely on.

Reading (open, answer) and printing are apart: the printing half renders the
result's JSON dict with ``core.reading.export`` (text, json, csv, markdown), strips
terminal control characters from everything but JSON, and writes bytes that
are valid UTF-8 whatever the file names hold.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_qa.commands.messages import HINTS
from desktop_qa.commands.options import add_model_option, add_threshold_option
from desktop_qa.core import Query, UserError, find_pack
from desktop_qa.core.documents.ocr.pages import DEFAULT_LANGUAGES, MODES, OcrOptions
from desktop_qa.core.errors import PasswordRequired
from desktop_qa.core.reading import export
from desktop_qa.core.reading.engine import OpenedDocument, answer, final
from desktop_qa.core.reading.pack import candidate_dirs
from desktop_qa.core.reading.query import DEFAULT_DEPTH
from desktop_qa.core.reading.reader import DEFAULT_BATCH_SIZE, Reader
from desktop_qa.core.storage.opening import complete_document, open_document


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="answer a question from a document")
    p.add_argument("file", help="PDF, EPUB, XPS or text file, or a folder of them")
    p.add_argument("question", nargs="?", help="the question, in plain words")
    p.add_argument(
        "--library",
        action="store_true",
        help="ask across every folder of the library (then give only the question)",
    )
    add_model_option(p)
    p.add_argument("--top-k", type=int, default=5, metavar="N", help="answers to list (5)")
    add_threshold_option(p)
    p.add_argument(
        "--format",
        choices=export.FORMATS,
        default=None,
        help="output: text (a table, the default), json (one object, as --json), csv, markdown",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (= --format json)")
    p.add_argument(
        "--password",
        metavar="PASSWORD",
        help="password of a protected PDF (without it, you are asked when stdin is a terminal)",
    )
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


PASSWORD_TRIES = 3


def open_with_password(
    args: argparse.Namespace,
    ocr: OcrOptions,
    *,
    require_text: bool = True,
    defer_ocr: bool = False,
) -> OpenedDocument:
    """Open ``args.file``; a protected PDF takes --password or asks on a terminal.

    The password lives only in memory: never printed, logged or stored. The
    extracted text of a protected file is cached only if Settings allow it.
    ``require_text=False``: a document without readable text opens (``find``).
    """
    from desktop_qa.core.storage.settings import load_settings

    allow = load_settings()[0].cache_protected
    password = args.password
    tries = 0
    while True:
        try:
            opened = open_document(
                args.file,
                password=password,
                cache_protected=allow,
                ocr=ocr,
                require_text=require_text,
                defer_ocr=defer_ocr,
            )
            args.opened_password = password  # completing a deferred open needs the same
            return opened
        except PasswordRequired as exc:
            if args.password is not None or tries >= PASSWORD_TRIES or not _can_prompt():
                raise
            if exc.wrong:
                print("wrong password; try again", file=sys.stderr)
            tries += 1
            try:
                password = getpass.getpass(f"Password for {export.clean_text(args.file)}: ")
            except EOFError:
                raise exc from None


class Completion:
    """The pages an open left for OCR, read in a background thread, then the whole document.

    ``ask`` answers from the other pages meanwhile (issue 28: a new document
    answers fast); ``wait`` returns the document with them joined (and cached),
    or None when that failed: the answer already given stands.
    """

    def __init__(self, args: argparse.Namespace, opened: OpenedDocument, ocr: OcrOptions) -> None:
        import threading

        from desktop_qa.core.storage.settings import load_settings
        from desktop_qa.core.system.runtime import physical_cores

        self._out: OpenedDocument | None = None
        self._cancelled = False
        allow = load_settings()[0].cache_protected
        if not ocr.jobs:  # one core stays with the answer being read meanwhile
            ocr = replace(ocr, jobs=max(1, physical_cores() - 1))

        def work() -> None:
            try:
                self._out = complete_document(
                    opened,
                    password=getattr(args, "opened_password", args.password),
                    cache_protected=allow,
                    ocr=ocr,
                    cancel=lambda: self._cancelled,
                )
            except Exception:  # noqa: BLE001 - the answer from the text pages stands
                self._out = None

        self._thread = threading.Thread(target=work, name="desktop-qa-ocr-pending", daemon=True)
        self._thread.start()

    def wait(self) -> OpenedDocument | None:
        self._thread.join()
        return self._out

    def cancel(self) -> None:
        self._cancelled = True
        self._thread.join()


def _can_prompt() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def output_format(args: argparse.Namespace) -> str:
    if args.json and args.format not in (None, "json"):
        raise UserError(f"--json and --format {args.format} disagree; pass one of them")
    return "json" if args.json else args.format or "text"


def print_result(data: dict[str, Any], fmt: str, model: str | None) -> None:
    """Write the rendered result as UTF-8 whatever stdout's encoding says.

    Renderings are valid Unicode (surrogate-escaped file names are shown as
    ``\\xNN`` or escaped in JSON), so they encode cleanly; bytes go straight to
    the buffer so a strict or ASCII stdout never raises.
    """
    text = export.render(data, fmt, model, HINTS)
    if not text.endswith("\n"):
        text += "\n"
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8", "replace"))
        buffer.flush()


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
    fmt = output_format(args)
    ocr = OcrOptions(mode=args.ocr, languages=args.ocr_lang)
    opened, skipped, indexing = _open_scope(args, ocr)
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
    pending = getattr(opened, "pending_pages", ())
    completion = Completion(args, opened, ocr) if pending else None
    try:
        with opened as scope:
            result = final(answer(scope, query, reader))
        if completion is not None and result.no_answer:
            # Not in the pages with text: the scanned pages may hold it.
            whole = completion.wait()
            if whole is not None:
                with whole as scope:
                    result = final(answer(scope, query, reader))
        result = replace(result, seconds=time.perf_counter() - started)
        data = result.to_json()
        if skipped is not None:
            data["skipped"] = skipped
            data["library"] = indexing
        describe = pack.describe() if pack is not None else None
        print_result(data, fmt, describe)
        if completion is not None:
            # Answered before the scans were read: read them now, so the document
            # is cached whole and the next question covers them.
            if _can_prompt() and sys.stderr.isatty():  # a person is waiting for the prompt
                print(
                    "reading the scanned pages (OCR) so the next question covers them; "
                    "Ctrl+C stops (pages read are kept)",
                    file=sys.stderr,
                    flush=True,
                )
            whole = completion.wait()
            if whole is not None:
                whole.close()
    except BaseException:
        if completion is not None:
            completion.cancel()
        raise
    return 0


def _open_scope(
    args: argparse.Namespace, ocr: OcrOptions
) -> tuple[Any, list[dict[str, str]] | None, Any]:
    """A file opens as one document; a folder or --library asks the library (issue 11).

    Returns (scope, skipped files or None for a file, what the update did).
    """
    if args.file is not None and not Path(args.file).expanduser().is_dir():
        # Scanned pages are OCR'd while the others are asked (Completion).
        return open_with_password(args, ocr, defer_ocr=True), None, None
    from desktop_qa.commands.library import open_library, run_update
    from desktop_qa.core.storage.library import (
        IndexReport,
        Library,
        LibraryReadOnly,
        LibraryScope,
        default_workers,
    )

    try:
        library = open_library()
        read_only = None
    except LibraryReadOnly as exc:  # ask what is indexed, without updating it
        library, read_only = Library(read_only=True), exc
    try:
        under, added = None, False
        folder = None if args.file is None else Path(args.file).expanduser().resolve()
        if folder is not None:  # c:\docs for C:\Docs (Windows, macOS): the documents as stored
            folder = library.spelt_as_added(folder)
        if read_only is not None:
            if folder is not None and library.covering_folder(folder) is None:
                raise read_only
            print(
                f"warning: {library.path} is read-only; answering from the library as it was "
                "last updated",
                file=sys.stderr,
            )
            report, under = IndexReport(), folder
        elif folder is not None:  # a folder: bring its part of the library up to date
            if library.covering_folder(folder) is None:
                added = bool(library.add_folder(folder))
            report = run_update(library.update([folder], workers=default_workers(False)))
            under = folder
        if not library.folders():
            raise UserError("the library is empty", hint="library_empty")
        if read_only is None and folder is None:
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
    indexing = report.to_json()
    if read_only is not None:
        indexing["read_only"] = True  # not updated: the store cannot be written
    return _Closing(scope, library), skipped, indexing


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
