"""Paths as the library's database stores them, and the one test of "under this folder".

A name that is not valid UTF-8 (surrogate-escaped by Python) and names with
emoji must stay inside their folder's SQL bounds, so every query that limits
to a folder goes through ``bounds``.
"""

from __future__ import annotations

import os
import re


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _prefix(folder: str) -> str:
    return folder.rstrip(os.sep) + os.sep


# -- paths in the database ---------------------------------------------------------------------
# A name that is not valid UTF-8 reaches Python surrogate-escaped ("caf\udce9.txt"), which
# SQLite text cannot hold. Stored, each surrogate becomes NUL and its 4 hex digits: NUL is
# never part of a file name, so the form is unambiguous, and it is made character by
# character, so a folder's stored path stays the prefix of its documents' stored paths.
_SURROGATE = re.compile("[\ud800-\udfff]")
_STORED_SURROGATE = re.compile("\x00([0-9a-f]{4})")


def to_db(text: str) -> str:
    """A path (or a message quoting one) as the database stores it; ``from_db`` inverts it."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\x00{ord(m.group()):04x}", text)


def from_db(text: str) -> str:
    """The path (or message) ``to_db`` stored, surrogate-escaped bytes and all."""
    if "\x00" not in text:
        return text
    return _STORED_SURROGATE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _prefix_bounds(prefix: str) -> tuple[str, str]:
    """SQL bounds ``low <= path < high`` of the stored paths starting with ``prefix``.

    ``high`` is the prefix with its last character (the separator) incremented, so
    every name below is inside, whatever its characters (emoji above U+FFFF too).
    """
    low = to_db(prefix)
    return low, low[:-1] + chr(ord(low[-1]) + 1)


def _bounds(folder: str) -> tuple[str, str]:
    """SQL bounds of the documents under ``folder``: the one test of "in this folder"."""
    return _prefix_bounds(_prefix(folder))
