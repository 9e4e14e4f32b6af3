"""``desktop-qa gui [FILE]``: the desktop window (also ``desktop-qa`` and ``desktop-qa FILE``).

PySide6 is imported only inside ``run`` so the CLI and ``--help`` start fast
and work where Qt is missing.
"""

from __future__ import annotations

import argparse

from desktop_qa.core.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop window (the default)")
    p.add_argument("file", nargs="?", help="PDF, EPUB, XPS or text file to open")
    p.add_argument("--model", metavar="DIR", help="model pack folder")
    p.add_argument("--ask", metavar="QUESTION", help="ask this once the document is open")
    p.add_argument(
        "--screenshot",
        metavar="PNG",
        help="save the window once the answer (or document) is shown, then exit "
        "(0 on success, 1 if the document or question failed)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.ask is not None and not args.ask.strip():
        raise UserError("the question is empty; ask something such as 'When does the lease end?'")
    if args.ask and not args.file:
        raise UserError("--ask needs a document: desktop-qa gui FILE --ask QUESTION")
    try:
        from desktop_qa.gui.app import run_app
    except ImportError as exc:
        raise UserError(
            f"the desktop window needs PySide6 ({exc}); install it with "
            "'pip install PySide6-Essentials', or use 'desktop-qa ask FILE QUESTION'"
        ) from None
    return run_app(args.file, model=args.model, ask=args.ask, screenshot=args.screenshot)
