"""``desktop-qa library add | remove | list | status | update``: the folders asked as one.

File names are untrusted: text output shows them with ``export.one_line`` (no
terminal escapes, no line breaks, non-UTF-8 bytes as ``\\xNN``, as ``ask``
does) and JSON with ``export.to_json`` (``\\udcNN`` escapes, valid UTF-8).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from desktop_qa.commands.messages import HINTS
from desktop_qa.core.reading import export
from desktop_qa.core.storage.library import (
    FAILED,
    FolderWatcher,
    IndexProgress,
    IndexReport,
    Library,
    database_path,
    default_workers,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("library", help="index folders of documents and keep them up to date")
    lsub = p.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    add = lsub.add_parser("add", help="add folders and index them")
    add.add_argument("folders", nargs="+", metavar="DIR")
    remove = lsub.add_parser("remove", help="remove folders (and their documents) from the library")
    remove.add_argument("folders", nargs="+", metavar="DIR")
    lsub.add_parser("list", help="folders with their document counts")
    status = lsub.add_parser("status", help="every document's state and, if it failed, why")
    status.add_argument("--failed", action="store_true", help="only the documents that failed")
    update = lsub.add_parser("update", help="re-index what changed in the library's folders")
    update.add_argument(
        "--watch", action="store_true", help="keep running and re-index files as they change"
    )
    update.add_argument(
        "--retry", action="store_true", help="read every file that failed again, even unchanged"
    )
    for q in (add, remove, lsub.choices["list"], status, update):
        q.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run_update(
    steps: Generator[IndexProgress, None, IndexReport], *, quiet: bool = False
) -> IndexReport:
    """Drain an update, showing progress on a terminal (stderr), and return its report."""
    show = not quiet and sys.stderr.isatty()
    while True:
        try:
            p = next(steps)
        except StopIteration as stop:
            if show:
                print("\r\x1b[K", end="", file=sys.stderr)
            return stop.value
        if show and p.total:
            eta = "" if p.eta is None else f", about {p.eta:.0f} s left"
            if p.file_pages:  # a scan: which page of it OCR is on
                eta += f", OCR page {p.file_page}/{p.file_pages}"
            print(
                f"\r\x1b[Kindexing {p.done}/{p.total} files, {p.pages_per_second:.0f} pages/s{eta}",
                end="",
                file=sys.stderr,
                flush=True,
            )


def _summary(report: IndexReport) -> str:
    retried = f", {report.retried} of them retried" if report.retried else ""
    return (
        f"{report.found} files: {report.extracted} read, {report.reused} moved or copied, "
        f"{report.unchanged} unchanged, {report.removed} removed, {report.failed} failed"
        f"{retried} ({report.seconds:.1f} s)"
    )


def _say(line: str) -> None:
    """One line on stderr (the watcher's news: a folder gone, back, or not watchable)."""
    print(export.one_line(line), file=sys.stderr, flush=True)


def _absent_note(folder: str) -> str:
    return (
        f"{folder}: folder absent; its documents are kept until it is back or removed "
        f"('desktop-qa library remove {folder}')"
    )


def open_library(*, read_only: bool = False) -> Library:
    """The library, its one-line notice (a damaged store rebuilt) shown on stderr.

    ``read_only`` (listing, status) opens an existing store without writing, so
    it works on a read-only folder and never waits for another process's update.
    """
    library = Library(read_only=read_only and database_path().is_file())
    if library.notice:
        print(f"warning: {library.notice}", file=sys.stderr)
    return library


def run(args: argparse.Namespace) -> int:
    action = args.library_command
    with open_library(read_only=action in ("list", "status")) as library:
        if action == "add":
            folders = [str(library.add_folder(f)) for f in args.folders]
            report = run_update(library.update(folders, workers=default_workers(False)))
            _print_report(args, report)
        elif action == "remove":
            removed = sum(library.remove_folder(f) for f in args.folders)
            if args.json:
                _print_json({"removed": removed})
            else:
                print(f"{removed} documents removed from the library")
        elif action == "list":
            rows = library.folder_rows()
            if args.json:
                _print_json([dict(r.__dict__, absent=not Path(r.path).is_dir()) for r in rows])
            elif not rows:
                print(f"the library is empty{HINTS['library_empty']}")
            for r in rows if not args.json else []:
                shown = export.one_line(r.path)
                absent = "" if Path(r.path).is_dir() else " (folder absent)"
                print(
                    f"{shown}: {r.documents} documents, {r.indexed} indexed, {r.failed} failed"
                    f"{absent}"
                )
        elif action == "status":
            docs = library.documents(state=FAILED if args.failed else None)
            absent = [f for f in library.folders() if not Path(f).is_dir()]
            if args.json:
                stats = library.stats()
                stats["absent"] = absent
                stats["rows"] = [
                    {"document": d.path, "state": d.state, "error": d.error, "pages": d.pages}
                    for d in docs
                ]
                _print_json(stats)
            else:
                for d in docs:  # each path once: the reason without the path it starts with
                    why = export.listed_reason(d.path, d.error) if d.error else ""
                    reason = f"  {export.one_line(why)}" if why else ""
                    print(f"{d.state:<8} {d.pages:>5} p  {export.one_line(d.path)}{reason}")
                s = library.stats()
                print(
                    f"{s['documents']} documents ({s['indexed']} indexed, {s['failed']} failed), "
                    f"{s['pages']} pages, {s['passages']} passages"
                )
                if s["failed"]:  # what to do, worded for a library
                    print(f"{s['failed']} could not be read{HINTS['library_retry']}")
                for folder in absent:
                    print(f"folder absent: {_absent_note(folder)}")
        elif action == "update":
            if not library.folders():
                print(f"the library is empty{HINTS['library_empty']}")
                return 0
            if args.watch:  # watch first, so a change during the first update is not missed
                changed = threading.Event()
                watcher = FolderWatcher(library.folders(), changed.set, _say)
                return _watch(library, args, changed, watcher)
            report = run_update(library.update(workers=default_workers(False), retry=args.retry))
            _print_report(args, report)
    return 0


def _print_report(args: argparse.Namespace, report: IndexReport, *, absent: bool = True) -> None:
    """The report; ``absent`` False when a watcher already says which folders are gone."""
    for folder in report.absent if absent else ():  # on stderr, JSON or not: the user must hear
        _say(_absent_note(folder))
    if args.json:
        out = report.to_json()
        out["errors"] = [{"document": p, "error": e} for p, e in report.errors]
        _print_json(out)
        return
    print(_summary(report), flush=True)
    for path, error in report.errors:
        name, line = export.one_line(path), export.one_line(error)
        print(f"  failed: {line if line.startswith(name) else f'{name}: {line}'}")


def _print_json(data: Any) -> None:
    """One JSON line, valid UTF-8 whatever the file names hold (``ask --json``'s convention)."""
    print(export.to_json(data), flush=True)


def _watch(
    library: Library, args: argparse.Namespace, changed: threading.Event, watcher: FolderWatcher
) -> int:
    """Update, then re-index whenever files change, until Ctrl+C (changes settle a second)."""
    try:
        # spawn: the watcher's threads are running (a fork would copy their locks).
        steps = library.update(
            workers=default_workers(False), start_method="spawn", retry=args.retry
        )
        # The watcher says a folder is gone (and back) once, when it happens: not each report.
        _print_report(args, run_update(steps), absent=False)
        if not args.json and watcher.watching:
            shown = ", ".join(export.one_line(f) for f in watcher.watching)
            print(f"watching {shown} (Ctrl+C to stop)", flush=True)
        while True:
            changed.wait()
            while changed.wait(1.0):  # let a burst of changes settle
                changed.clear()
            steps = library.update(workers=default_workers(False), start_method="spawn")
            report = run_update(steps)
            if report.extracted or report.removed or report.reused or report.failed:
                _print_report(args, report, absent=False)
            elif args.json and report.absent:  # a folder went away: say so in the stream too
                _print_report(args, report, absent=False)
    except KeyboardInterrupt:
        return 0
    finally:
        watcher.stop()
