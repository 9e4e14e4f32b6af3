"""Install, list and remove model packs in the user's data folder.

Installs are verify -> copy -> verify -> atomic rename, so the app never sees
a half-copied pack, and a failed update leaves the old pack working. Work in
progress lives in ``models/.staging/``, a folder without a manifest, so pack
discovery never mistakes it for a pack.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import MANIFEST, ModelPack, load_pack
from desktop_qa.core.system import paths, portable
from desktop_qa.packs.write import copy_pack_file

STAGING = ".staging"


def folder_name(name: str) -> str:
    """A pack name made safe to use as a folder name on every OS (``portable_name``:
    no trailing dot, no device name such as ``CON`` or ``nul``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    if not safe:
        raise UserError(f"model pack name {name!r} cannot be used as a folder name")
    return portable.portable_name(safe[:100].rstrip(".-"))


def _staging(root: Path) -> Path:
    staging = root / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def _discard(path: Path, staging: Path) -> None:
    """Make ``path`` vanish at once (rename), then delete it at leisure."""
    trash = staging / f"old-{path.name}-{time.time_ns()}"
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def install_pack(src_dir: str | os.PathLike[str]) -> ModelPack:
    """Verify a pack folder and install a copy as ``user_models_dir()/<name>``.

    An installed pack of the same name is replaced only once the new copy has
    been verified in place; the source folder is left untouched.
    """
    pack = load_pack(src_dir)
    root = paths.user_models_dir()
    dest = root / folder_name(pack.name)
    if dest.exists() and dest.resolve() == pack.path:
        return pack  # already installed here
    root.mkdir(parents=True, exist_ok=True)
    staging = _staging(root)
    tmp = Path(tempfile.mkdtemp(prefix=f"install-{dest.name}-", dir=staging))
    try:
        # Names were checked by load_pack (plain, relative, no symlinks); the copy
        # opens each without following links, and the result is verified again.
        for name in (*pack.files, MANIFEST):
            copy_pack_file(pack.path, name, tmp)
        load_pack(tmp)  # the copy must verify too (disk full, bad media, ...)
        old = None
        if dest.exists():
            old = staging / f"old-{dest.name}-{time.time_ns()}"
            os.replace(dest, old)
        try:
            os.replace(tmp, dest)
        except OSError:
            if old is not None:
                os.replace(old, dest)  # put the previous pack back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise UserError(
            f"cannot install model pack into {dest} "
            f"({exc.__class__.__name__}: {exc.strerror or exc})"
        ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_pack(dest, verify=False)


def list_packs(*, verify: bool = True) -> list[tuple[str, Path, ModelPack | UserError]]:
    """Every pack folder in the user and bundled folders: (origin, path, pack or its error,
    for the caller to word)."""
    found: list[tuple[str, Path, ModelPack | UserError]] = []
    roots = (("user", paths.user_models_dir()), ("bundled", paths.bundled_models_dir()))
    for origin, root in roots:
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue
            if not (child / MANIFEST).is_file():
                continue
            try:
                found.append((origin, child, load_pack(child, verify=verify)))
            except UserError as exc:
                found.append((origin, child, exc))
    return found


def find_installed(name: str) -> Path | None:
    """The user pack whose folder or manifest name is ``name``."""
    root = paths.user_models_dir()
    if not root.is_dir():
        return None
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or not (child / MANIFEST).is_file():
            continue
        if child.name == name:
            return child
        try:
            if load_pack(child, verify=False).name == name:
                return child
        except UserError:
            continue
    return None


def remove_pack(name: str) -> Path:
    """Delete an installed user pack; bundled packs are part of the app and stay."""
    found = find_installed(name)
    if found is None:
        bundled = paths.bundled_models_dir() / name
        if (bundled / MANIFEST).is_file():
            raise UserError(f"model pack {name!r} is bundled with the app and cannot be removed")
        raise UserError(
            f"no installed model pack named {name!r}; run 'desktop-qa model list' to see them"
        )
    try:
        _discard(found, _staging(paths.user_models_dir()))
    except OSError as exc:
        raise UserError(f"cannot remove model pack {found} ({exc.strerror or exc})") from None
    return found
