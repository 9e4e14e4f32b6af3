"""Command-line entry point: ``desktop-qa [FILE]`` or a command (``ask``, ``find``, ``text``...).

Every user-facing failure becomes one ``error: ...`` line on stderr and exit
code 2 (usage errors too). Anything unexpected is a bug: one ``error:`` line
saying so, exit 3, the traceback in ``crash.log`` in the cache folder. Every
``error:`` line goes through ``_error``: messages quote file names, which may
hold terminal escapes or line breaks, shown as ``ask`` shows them.
"""

from __future__ import annotations

import argparse
import importlib
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from desktop_qa import __version__
from desktop_qa.commands.messages import user_message  # the CLI's words for the core's keys
from desktop_qa.core.errors import Cancelled, UserError

COMMANDS = ("ask", "find", "text", "gui", "model", "eval", "library")
TOP_LEVEL_OPTIONS = ("-h", "--help", "--version")
EXIT_BUG = 3  # an unexpected exception: a bug in the app, not the user's input


_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|nan)$", re.I)


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one ``error:`` line, exit 2.

    It also reads ``--threshold -1e9`` as a value: argparse takes any token
    starting with ``-`` that is not a plain decimal for an option.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        hint = f"run '{self.prog} --help'"
        _error(f"{self.prog}: {message}; {hint}")
        raise SystemExit(2)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``only`` builds just that command's sub-parser.

    Each command module imports what its options need; importing all five to
    run one cost about 0.1-0.3 s of every start. ``desktop-qa --help`` and an
    unknown command still build them all, so their listing is unchanged.
    """
    parser = _Parser(
        prog="desktop-qa",
        description="Ask a PDF or text file a question, offline.",
    )
    parser.add_argument("--version", action="version", version=f"desktop-qa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f"desktop_qa.commands.{name}")
        except ImportError:  # a sub-command still being built must not break the others
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `desktop-qa` alone, `desktop-qa FILE` or `desktop-qa --state-file X FILE` (the
    # window's options before any command) opens the window.
    if not argv or (argv[0] not in COMMANDS and argv[0] not in TOP_LEVEL_OPTIONS):
        argv = ["gui", *argv]
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        _error(f"choose a command ({', '.join(COMMANDS)}); run 'desktop-qa --help'")
        return 2
    interrupted = _watch_ctrl_c()
    try:
        return int(func(args) or 0)
    except (Cancelled, KeyboardInterrupt):
        _error("cancelled")
        return 130
    except Exception:
        # Ctrl+C reaches every process of the terminal's group: while the interrupt
        # unwinds, a worker thread or a child's pipe can fail on the way ("Bad file
        # descriptor"); the user asked to stop, and that is what is said.
        if interrupted.is_set():
            _error("cancelled")
            return 130
        return _failed()
    finally:
        _restore_ctrl_c()


def _failed() -> int:
    """The error line and exit code of the exception being handled (not an interrupt)."""
    try:
        raise
    except UserError as exc:
        _error(user_message(exc))
        return 2
    except MemoryError:
        _error("out of memory; try a smaller document")
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the user gave that the system refuses
        where = exc.filename if exc.filename is not None else "a file"
        what = exc.strerror or exc.__class__.__name__
        _error(f"{_clip(str(where))}: {what}; check the path and try again")
        return 2
    except Exception as exc:  # noqa: BLE001 - the last resort: never a traceback
        log = _log_traceback()
        where = f"; details in {log}" if log else ""
        _error(
            f"internal error ({exc.__class__.__name__}: {_clip(str(exc))}); this is a "
            f"bug, please report it{where}"
        )
        return EXIT_BUG


_previous_handler: Any = None


def _watch_ctrl_c() -> threading.Event:
    """A flag set by Ctrl+C (SIGINT), which still raises KeyboardInterrupt as by default."""
    global _previous_handler
    flag = threading.Event()

    def on_interrupt(signum: int, frame: Any) -> None:
        flag.set()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.default_int_handler:  # not when a caller set its own
            _previous_handler = previous
            signal.signal(signal.SIGINT, on_interrupt)
    return flag


def _restore_ctrl_c() -> None:
    global _previous_handler
    if _previous_handler is not None:
        signal.signal(signal.SIGINT, _previous_handler)
        _previous_handler = None


def _error(message: str) -> None:
    """The one ``error:`` line: no terminal escapes, no line break, bytes as ``\\xNN``."""
    from desktop_qa.core.reading.export import one_line

    print(f"error: {one_line(message)}", file=sys.stderr, flush=True)


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _log_traceback() -> str | None:
    """Append the current traceback to ``crash.log`` in the cache folder (not the terminal)."""
    import time
    import traceback

    try:
        from desktop_qa.core.system import paths

        log = paths.cache_dir() / "crash.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.exists() and log.stat().st_size > 1_000_000:
            log.unlink()
        with open(log, "a", encoding="utf-8", errors="replace") as fh:
            fh.write(f"--- desktop-qa {__version__} {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            fh.write(traceback.format_exc())
        return str(log)
    except Exception:  # noqa: BLE001 - a read-only cache folder must not hide the error line
        return None
