"""What differs by platform in file names and file operations, as pure logic where possible.

The app is built on Linux but used mostly on Windows and macOS, where

* a file name may not hold ``<>:"/\\|?*`` or control characters, may not end in a dot or a
  space (Windows drops them: ``a.`` *is* ``a``), and may not be a reserved device name
  (``CON``, ``NUL``, ``COM1``..., with any extension: ``con.txt`` opens the console);
* paths compare without case (NTFS and APFS by default: ``C:\\Docs`` and ``c:\\docs`` are
  one folder);
* a file another program holds open may refuse to be read (a *sharing violation*) or
  replaced (``os.replace`` onto it fails with PermissionError while a virus scanner or
  the search indexer has it open for a moment).

Each function takes ``platform`` (default ``sys.platform``) so the Windows and macOS
branches are tested on Linux; ``ntpath`` does the Windows path logic anywhere.
"""

from __future__ import annotations

import ntpath
import os
import re
import sys
import time
import unicodedata

from desktop_qa.core.errors import UserError

# Characters Windows forbids in a file name (besides control characters, below).
WINDOWS_FORBIDDEN = '<>:"/\\|?*'
# Device names Windows reserves, whatever the case and the extension (``nul.txt``).
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")]
)
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
# Windows error numbers: another process has the file open without sharing it.
ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION = 32, 33
# Retries of a replace refused by a file held open for a moment (scanner, indexer).
REPLACE_ATTEMPTS, REPLACE_PAUSE = 5, 0.1


def _reserved(name: str) -> bool:
    return name.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED


def windows_name_problem(name: str) -> str | None:
    """Why ``name`` (one path component) cannot be a file name on Windows, or None."""
    if not name:
        return "it is empty"
    bad = sorted({ch for ch in name if ch in WINDOWS_FORBIDDEN or ord(ch) < 32})
    if bad:
        return "it holds " + " ".join(repr(ch) for ch in bad)
    if name[-1] in ". ":
        return "it ends in a dot or a space"
    if _reserved(name):
        return f"{name.split('.')[0]} is a device name on Windows"
    return None


def portable_name(name: str, fallback: str = "file", max_chars: int = 100) -> str:
    """``name`` made a valid file name on Windows, macOS and Linux alike.

    Forbidden and control characters become ``-``, leading spaces and trailing dots and
    spaces go, a reserved device name gets a leading ``_``, and the result is at most
    ``max_chars`` long (``fallback`` if nothing is left). For names the app makes from
    outside text (a document's stem, a pack's name), so what it writes on one system
    can be copied to another.
    """
    safe = _UNSAFE.sub("-", unicodedata.normalize("NFC", name)).strip(" ")
    safe = safe[:max_chars].rstrip(". ")
    if not safe or set(safe) <= {".", "-"}:
        return fallback
    if _reserved(safe):
        safe = ("_" + safe)[:max_chars].rstrip(". ")
    return safe


def case_insensitive(platform: str | None = None) -> bool:
    """True where file names compare without case by default (Windows, macOS)."""
    platform = sys.platform if platform is None else platform
    return platform in ("win32", "darwin")


def path_key(path: str | os.PathLike[str], platform: str | None = None) -> str:
    """The form two spellings of one path share on ``platform`` (compare keys, keep paths).

    Windows: ``ntpath.normcase`` (lower case, ``\\``); macOS: Unicode NFC and casefold
    (APFS ignores both by default); elsewhere the path as it is.
    """
    platform = sys.platform if platform is None else platform
    text = os.fspath(path)
    if platform == "win32":
        return ntpath.normcase(ntpath.normpath(text))
    if platform == "darwin":
        return unicodedata.normalize("NFC", text).casefold()
    return text


def same_path(
    a: str | os.PathLike[str], b: str | os.PathLike[str], platform: str | None = None
) -> bool:
    """True when ``a`` and ``b`` name one file on ``platform`` (no disk access)."""
    return path_key(a, platform) == path_key(b, platform)


def is_under(
    path: str | os.PathLike[str], folder: str | os.PathLike[str], platform: str | None = None
) -> bool:
    """True when ``path`` is ``folder`` or inside it on ``platform`` (no disk access)."""
    platform = sys.platform if platform is None else platform
    sep = "\\" if platform == "win32" else "/"
    path, folder = path_key(path, platform), path_key(folder, platform)
    return path == folder or path.startswith(folder.rstrip(sep) + sep)


def held_elsewhere(exc: BaseException) -> bool:
    """True when ``exc`` is Windows refusing a file another program holds open."""
    return isinstance(exc, OSError) and getattr(exc, "winerror", None) in (
        ERROR_SHARING_VIOLATION,
        ERROR_LOCK_VIOLATION,
    )


def replace(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    platform: str | None = None,
    attempts: int = REPLACE_ATTEMPTS,
    pause: float = REPLACE_PAUSE,
) -> None:
    """``os.replace``, retried on Windows while another program holds ``dst`` open.

    On Windows a replace onto a file a scanner, the search indexer or another
    desktop-qa has open fails with PermissionError (POSIX replaces it at once); such
    holds mostly last milliseconds, so it is tried ``attempts`` times, a growing
    ``pause`` apart, before the error goes to the caller (which already handles it).
    """
    platform = sys.platform if platform is None else platform
    for attempt in range(attempts):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if platform != "win32" or attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))


def unreadable(path: str | os.PathLike[str], exc: OSError) -> UserError:
    """The one line for a document that could not be opened for reading.

    Windows reports a file another program holds without sharing it as EACCES, like a
    permission problem; the user's fix is different (close it there), so it is told apart.
    """
    if held_elsewhere(exc):
        return UserError(
            f"{path}: another program has the file open and does not let others read it; "
            "close it there (or wait until it is done) and try again"
        )
    return UserError(f"{path}: cannot read the file ({exc.strerror or exc}); check it")
