"""Files on disk: the app's one sha256 loop and its one "delete the oldest" routine.

Documents, pack files and OCR language data are hashed here (documents by
their bytes: a renamed or moved file keeps its hash), and every cache folder
that keeps the most recently used few (document cache, OCR page store,
optimized graphs) is trimmed here, so a fix to either reaches them all.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

BLOCK = 1 << 20  # bytes read at a time: flat memory for files of any size


def open_nofollow(path: Path) -> int:
    """A read-only descriptor that refuses a symlink as the last component."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    return os.open(path, flags)


def sha256_stream(fh: BinaryIO, each: Callable[[bytes], None] | None = None) -> str:
    """sha256 of a binary stream read to its end, a block at a time.

    ``each`` sees every block as it is hashed, then ``b""`` at the end (a pack
    graph is scanned for external-data names in the same single pass).
    """
    digest = hashlib.sha256()
    while True:
        block = fh.read(BLOCK)
        digest.update(block)
        if each is not None:
            each(block)
        if not block:
            return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> str:
    """sha256 of a file's bytes, streamed (raises OSError): the app's one file digest."""
    if follow_symlinks:
        with open(path, "rb") as fh:
            return sha256_stream(fh)
    with os.fdopen(open_nofollow(Path(path)), "rb") as fh:
        return sha256_stream(fh)


def remove(*files: Path) -> None:
    """Delete files if they exist; a file open elsewhere (Windows) is left for next time."""
    for f in files:
        try:
            f.unlink(missing_ok=True)
        except OSError:
            pass


def delete_oldest(
    files: Iterable[Path],
    *,
    max_files: int,
    max_bytes: float = math.inf,
    keep: Path | None = None,
    companions: Callable[[Path], Iterable[Path]] | None = None,
) -> None:
    """Keep the most recently modified ``max_files`` files (and ``max_bytes`` in all).

    Older ones are deleted with their ``companions`` (a graph's checksum
    file). ``keep`` (the entry just written) counts but is never deleted.
    Files that vanish meanwhile are skipped: caches are shared by processes.
    """
    entries: list[tuple[float, int, Path]] = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, f))
    entries.sort(key=lambda e: e[0], reverse=True)
    kept = total = 0
    for _, size, f in entries:
        if f != keep and (kept >= max_files or total + size > max_bytes):
            remove(f, *(companions(f) if companions is not None else ()))
            continue
        kept += 1
        total += size
