"""Walking the library's folders: supported files by their real path, links judged by
where they lead (never followed out of the library's folders).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from desktop_qa.core.documents.document import (
    MUPDF_SUFFIXES,
    TEXT_SUFFIXES,
)
from desktop_qa.core.storage.library.names import _under

SUFFIXES = TEXT_SUFFIXES | MUPDF_SUFFIXES  # the one list of supported extensions

# -- walking folders ---------------------------------------------------------------------------
LINK_OUTSIDE = "a symbolic link leading outside the library folders; not followed"


def walk(
    folder: Path,
    within: Iterable[str | os.PathLike[str]] | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[Path]:
    """Supported files under ``folder`` by their real path, each once: hidden folders and
    files skipped, no symlink loops.

    A symbolic link is judged by what it leads to, never by its name: followed
    only to a regular file of a supported type or a folder inside ``within``
    (the library's folders; ``folder`` by default), so ``notes.md ->
    ~/.ssh/id_ed25519`` or ``up -> ..`` is never read. Links leaving them are
    added to ``skipped`` as (path, reason); dangling links and links to pipes or
    devices are passed over silently.
    """
    root = Path(os.path.realpath(folder))
    inside = [os.path.realpath(f) for f in within] if within is not None else [str(root)]
    seen: set[tuple[int, int]] = set()
    found: set[str] = set()
    stack = [root]  # real paths only: every file below is reached without a link
    while stack:
        current = stack.pop()
        try:
            st = current.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:  # a symlink back up the tree, or the same folder twice
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    mode = os.stat(target).st_mode  # dangling or a loop: OSError
                    folder_link = stat.S_ISDIR(mode)
                    if not any(_under(target, f) for f in inside):
                        named = Path(entry.name).suffix.lower() in SUFFIXES
                        if skipped is not None and (folder_link or named or _supported(target)):
                            skipped.append((entry.path, f"{entry.path}: {LINK_OUTSIDE}"))
                        continue
                    if folder_link:
                        stack.append(Path(target))
                        continue
                    file = target if stat.S_ISREG(mode) and _supported(target) else None
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                    continue
                else:
                    supported = entry.is_file(follow_symlinks=False) and _supported(entry.name)
                    file = entry.path if supported else None
            except OSError:
                continue
            if file is not None and file not in found:
                found.add(file)
                yield Path(file)


def _supported(name: str) -> bool:
    return Path(name).suffix.lower() in SUFFIXES
