"""Writing model packs: the manifest with its checksums, listed files copied, readable modes.

The core only reads and verifies packs (``core.reading.pack``); everything that
builds, downloads or installs one writes it through here, so a pack written by
any of them passes the same checks when it is loaded.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from desktop_qa.core.reading.pack import (
    DEFAULTS,
    FORMAT,
    MANIFEST,
    pack_error,
    pack_file,
    pack_file_digest,
    safe_name,
)
from desktop_qa.core.system.files import BLOCK, open_nofollow


def copy_pack_file(src_root: Path, name: str, dest_root: Path) -> None:
    """Copy one listed file of a pack, never through a symlink (install)."""
    target = dest_root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(open_nofollow(pack_file(src_root, name)), "rb") as src:
        with open(target, "xb") as dst:
            shutil.copyfileobj(src, dst, BLOCK)


def make_readable(path: Path) -> None:
    """Folder 0755, files 0644: packs built through temp files would otherwise be
    0600/0700, unreadable by other users once installed system-wide (/opt).

    Never follows a symbolic link: a link (to a private key, say) is left alone,
    and so is whatever it points to.
    """
    _chmod_nofollow(path, 0o755, directory=True)
    for root, dirs, files in os.walk(path, followlinks=False):
        for name in dirs:
            _chmod_nofollow(Path(root) / name, 0o755, directory=True)
        for name in files:
            _chmod_nofollow(Path(root) / name, 0o644, directory=False)


def _chmod_nofollow(path: Path, mode: int, *, directory: bool) -> None:
    """chmod through a descriptor opened without following links (no race with a swap)."""
    if path.is_symlink():
        return  # not ours to change; the descriptor below also closes the race
    nofollow = getattr(os, "O_NOFOLLOW", None)
    if nofollow is None or not hasattr(os, "fchmod"):  # Windows: modes are not Unix modes
        path.chmod(mode)
        return
    flags = os.O_RDONLY | nofollow | os.O_NONBLOCK
    if directory:
        flags |= getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO, errno.EMLINK):
            return  # a symbolic link (or something swapped in): not ours to change
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def write_manifest(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Fill in defaults and checksums of the pack's files and write model.json."""
    data = {"format": FORMAT, **DEFAULTS, **manifest}
    files = [data["onnx"], data["tokenizer"], *manifest.get("extra_files", [])]
    data.pop("extra_files", None)
    checksums: dict[str, str] = {}
    for name in files:
        if safe_name(name) is None:
            raise pack_error(path, f"file name {name!r} is not a plain file name inside the pack")
        checksums[name] = pack_file_digest(path, name)
    data["files"] = checksums
    tmp = path / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path / MANIFEST)
    make_readable(path)
    return data
