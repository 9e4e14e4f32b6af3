"""How every worker and child process starts: the one switch, ``DESKTOP_QA_START_METHOD``.

Windows and macOS can only start children with ``spawn`` (a fresh interpreter that
imports the job function and unpickles its job); Linux forks library workers when no
other thread runs (milliseconds, PyMuPDF already imported). Code that works under
fork can still fail under spawn (an unpicklable job, module-level state the child
lacks, a test helper off ``sys.path``), so ``DESKTOP_QA_START_METHOD=spawn`` makes
every child start the Windows/macOS way on Linux too, and the suite run with it set
(the CI's spawn job) tests those platforms' path here. Read here only.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

from desktop_qa.core.errors import UserError

ENV = "DESKTOP_QA_START_METHOD"
# fork is not a choice: callers with threads running must not fork, and Windows has no fork.
FORCEABLE = ("spawn", "forkserver")


def forced() -> str | None:
    """The start method ``DESKTOP_QA_START_METHOD`` forces, or None when unset or empty.

    Raises UserError (one line: the CLI exits 2) naming the variable for a value other
    than spawn or forkserver (or forkserver on Windows), so a typo is not ignored.
    """
    value = os.environ.get(ENV, "").strip().lower()
    if not value:
        return None
    if value not in FORCEABLE or (value == "forkserver" and sys.platform == "win32"):
        raise UserError(
            f"{ENV}={value!r}: use spawn (or forkserver on Linux and macOS), or unset it"
        )
    return value


def start_method(preferred: str) -> str:
    """The start method a child asked to start with ``preferred`` gets: the forced one if
    set, else ``preferred`` where the platform has it, else spawn (fork on Windows)."""
    method = forced() or preferred
    return method if method in multiprocessing.get_all_start_methods() else "spawn"


def default_start_method() -> str:
    """fork on Linux (a worker starts in milliseconds, PyMuPDF already imported), else spawn;
    the forced method if ``DESKTOP_QA_START_METHOD`` is set.

    Callers with other threads running (the app, ``--watch``) pass "spawn":
    a forked child would inherit locks those threads hold.
    """
    return start_method("fork" if sys.platform.startswith("linux") else "spawn")
