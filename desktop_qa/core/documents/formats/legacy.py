"""Old binary Word and PowerPoint files (.doc, .dot, .ppt, .pps, .pot) through LibreOffice.

No maintained Python reader with an AGPL-compatible licence reads these
formats' text in full, and LibreOffice does. When it is installed
(``soffice`` on PATH, or in its usual place on Linux, macOS or Windows),
a copy of the file's bytes is converted in a private temporary folder
(``soffice --headless --convert-to docx|pptx``, with a profile of its own in
that folder, so a LibreOffice the user has open is neither used nor
disturbed), within ``SECONDS`` (then stopped with its whole process group), and a
cancelled open stops it at once; the result is read like any .docx or .pptx.
The user's file is never given to LibreOffice, let alone written. Without
LibreOffice the refusal is one line saying how to save the file in a format
read here.

A ".doc" that is really RTF or HTML (Word saves both under that name) is read
as what it is, without LibreOffice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop_qa.core.errors import Cancelled, UserError

# One conversion (a 300-page .doc takes about 10 s, LibreOffice's start 3-5 s of it); under
# the library's 60 s a file may go without progress (library/workers.py FILE_TIME_LIMIT), so
# LibreOffice is stopped here, its process group with it, before a worker would be killed.
SECONDS = 50.0
WORD = (".doc", ".dot")
POWERPOINT = (".ppt", ".pps", ".pot")
SUFFIXES = WORD + POWERPOINT
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Where LibreOffice installs itself when it is not on PATH.
_PLACES = {
    "linux": (
        "/usr/bin/soffice",
        "/usr/local/bin/soffice",
        "/usr/lib/libreoffice/program/soffice",
        "/opt/libreoffice/program/soffice",
        "/snap/bin/libreoffice",
    ),
    "darwin": ("/Applications/LibreOffice.app/Contents/MacOS/soffice",),
    "win32": (
        r"%ProgramFiles%\LibreOffice\program\soffice.exe",
        r"%ProgramFiles(x86)%\LibreOffice\program\soffice.exe",
    ),
}


_local = threading.local()  # the open's cancel check, polled while LibreOffice runs


@contextlib.contextmanager
def cancelled_by(cancel: Callable[[], bool] | None) -> Iterator[None]:
    """Conversions in this thread stop (``Cancelled``) when ``cancel()`` turns true."""
    previous = getattr(_local, "cancel", None)
    _local.cancel = cancel
    try:
        yield
    finally:
        _local.cancel = previous


def find_soffice() -> str | None:
    """LibreOffice's ``soffice``: ``DESKTOP_QA_SOFFICE``, PATH, then its usual places."""
    named = os.environ.get("DESKTOP_QA_SOFFICE")
    if named:
        return named if Path(named).is_file() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    for place in _PLACES.get(platform, ()):
        path = Path(os.path.expandvars(place))
        if path.is_file():
            return str(path)
    if platform == "linux":
        for path in sorted(Path("/opt").glob("libreoffice*/program/soffice"), reverse=True):
            return str(path)
    return None


def kind(suffix: str) -> tuple[str, str]:
    """(what a user calls the file, the format it is converted to)."""
    if suffix in WORD:
        return "Word 97-2003", "docx"
    return "PowerPoint 97-2003", "pptx"


def _save_as(suffix: str) -> str:
    what, target = kind(suffix)
    app = "Word" if suffix in WORD else "PowerPoint"
    return f"open it in {app} or LibreOffice and save it as .{target} (or PDF)"


def convert(data: bytes, suffix: str, name: str) -> bytes:
    """The .docx or .pptx bytes of an old binary file, converted by LibreOffice."""
    what, target = kind(suffix)
    if not data.startswith(CFB_MAGIC):
        raise UserError(
            f"{name} is not a {what} file (it does not start like one); the file may be "
            f"damaged or of another type: {_save_as(suffix)}"
        )
    soffice = find_soffice()
    if soffice is None:
        raise UserError(
            f"{name} is an old {what} file ({suffix}), which is read through LibreOffice, "
            f"not installed here; install LibreOffice, or {_save_as(suffix)}"
        )
    # ignore_cleanup_errors: on Windows a LibreOffice still closing may hold a file there.
    with tempfile.TemporaryDirectory(
        prefix="desktop-qa-soffice-", ignore_cleanup_errors=True
    ) as folder:
        work = Path(folder)
        source = work / f"document{suffix}"
        source.write_bytes(data)  # our copy: LibreOffice never sees the user's file
        out = work / "out"
        profile = (work / "profile").as_uri()
        command = [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault",
            "--nologo", "--convert-to", target, "--outdir", str(out), str(source),
        ]  # fmt: skip
        _run(command, work, name, what)
        result = out / f"document.{target}"
        if not result.is_file() or result.stat().st_size == 0:
            raise UserError(
                f"{name}: LibreOffice could not convert this {what} file (damaged, or "
                f"password-protected?); {_save_as(suffix)}"
            )
        return result.read_bytes()


def _run(command: list[str], work: Path, name: str, what: str) -> None:
    """Run LibreOffice quietly in ``work``, within ``SECONDS``; its whole process group ends."""
    env = {**os.environ, "HOME": str(work), "TMPDIR": str(work), "SAL_USE_VCLPLUGIN": "svp"}
    posix = os.name == "posix"
    try:
        process = subprocess.Popen(  # noqa: S603 - a fixed program and arguments, no shell
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=posix,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except OSError as exc:
        raise UserError(
            f"{name}: LibreOffice could not be started to read this {what} file "
            f"({exc.strerror}); check its installation"
        ) from None
    cancel = getattr(_local, "cancel", None)
    deadline = time.monotonic() + SECONDS
    try:
        while True:  # in short waits, so a cancelled open stops LibreOffice at once
            try:
                process.wait(timeout=max(0.0, min(0.25, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel():
                    raise Cancelled() from None
                if time.monotonic() >= deadline:
                    raise UserError(
                        f"{name}: LibreOffice took over {SECONDS:.0f} s to convert this {what} "
                        "file and was stopped; save it as a current format from the application "
                        "that made it"
                    ) from None
    finally:
        if process.poll() is None:
            _kill(process, posix)


def _kill(process: subprocess.Popen, posix: bool) -> None:
    try:
        if posix:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
