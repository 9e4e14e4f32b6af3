"""``desktop-qa gui [FILE]``: the desktop window (also ``desktop-qa`` and ``desktop-qa FILE``).

PySide6 is imported only inside ``run`` so the CLI and ``--help`` start fast
and work where Qt is missing. Before Qt starts its X11 (xcb) platform, the
system libraries it needs are checked (``gui.syslibs``): Qt aborts the process
when one is missing, so say which, and how to install them, in one line.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from desktop_qa.commands.options import add_model_option
from desktop_qa.core.errors import UserError, short_reason
from desktop_qa.core.reading.export import one_line


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop window (the default)")
    p.add_argument("file", nargs="?", help="PDF, EPUB, XPS or text file to open")
    add_model_option(p)
    p.add_argument("--page", type=int, metavar="N", help="show page N of the document (1-based)")
    p.add_argument("--ask", metavar="QUESTION", help="ask this once the document is open")
    p.add_argument(
        "--screenshot",
        metavar="PNG",
        help="save the window once the answer (or document) is shown, then exit "
        "(0 on success, 1 if the document or question failed)",
    )
    p.add_argument(
        "--state-file",
        metavar="JSON",
        help="write the window's state (page, answers, current answer, highlight) to this "
        "file after every change (for scripted checks; see docs/gui.md)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.ask is not None and not args.ask.strip():
        raise UserError("the question is empty; ask something such as 'When does the lease end?'")
    if args.ask and not args.file:
        raise UserError("--ask needs a document: desktop-qa gui FILE --ask QUESTION")
    if args.page is not None and (args.page < 1 or not args.file):
        raise UserError(
            "--page needs a document and a page number of 1 or more: desktop-qa FILE --page N"
        )
    if args.state_file:
        check_state_path(args.state_file)
    from desktop_qa.gui.syslibs import check_display, check_xcb

    # Qt aborts the process (exit 134) without a display or an xcb library: say so first.
    problem = check_display() or check_xcb()
    if problem:
        raise UserError(problem)
    try:
        from desktop_qa.gui.app import run_app
    except ImportError as exc:
        raise UserError(
            f"the desktop window needs PySide6 ({exc}); install it with "
            "'pip install PySide6-Essentials', or use 'desktop-qa ask FILE QUESTION'"
        ) from None
    return run_app(
        args.file,
        model=args.model,
        ask=args.ask,
        screenshot=args.screenshot,
        page=args.page,
        state_file=args.state_file,
    )


def check_state_path(path: str | os.PathLike[str]) -> Path:
    """The state file's path, checked before the window opens: UserError in one line when
    it is a folder or its folder cannot be written (a probe file, removed at once)."""
    target = Path(path)
    shown = one_line(os.fsdecode(target))
    if target.is_dir():
        raise UserError(
            f"the state file {shown} is a folder; give a file path such as {shown}/state.json"
        )
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(
            f"cannot write the state file {shown} ({short_reason(exc)}); give a path in a "
            "folder you can write"
        ) from None
    if target.exists() and not os.access(target, os.W_OK):
        raise UserError(f"cannot write the state file {shown} (read-only); give another path")
    return target
