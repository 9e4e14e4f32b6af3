"""Command-line entry point: ``desktop-qa [FILE] | ask | gui | model | eval``.

Every user-facing failure becomes one ``error: ...`` line on stderr and exit
code 2; a traceback is always a bug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from desktop_qa import __version__
from desktop_qa.core.errors import Cancelled, UserError

COMMANDS = ("ask", "gui", "model", "eval", "library")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desktop-qa",
        description="Ask a PDF or text file a question, offline.",
    )
    parser.add_argument("--version", action="version", version=f"desktop-qa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"desktop_qa.commands.{name}")
        except ImportError:  # a sub-command still being built must not break the others
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `desktop-qa` alone or `desktop-qa FILE` opens the window.
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("error: cancelled", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory; try a smaller document", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
