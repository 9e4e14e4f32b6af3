"""Where settings, cache and installed model packs live (platformdirs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "desktop-qa"


def data_dir() -> Path:
    """User data folder; ``DESKTOP_QA_DATA_DIR`` overrides it (tests, portable installs)."""
    override = os.environ.get("DESKTOP_QA_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, False))


def config_dir() -> Path:
    override = os.environ.get("DESKTOP_QA_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME, False))


def cache_dir() -> Path:
    override = os.environ.get("DESKTOP_QA_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, False))


def private_dir(path: Path) -> Path:
    """Make ``path`` (and missing parents) and keep it 0700: the owner's documents' text lives
    there (cache entries, the library), so no other local user may list or read it.

    Set explicitly, not through the umask; a folder of another owner is left alone.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _restrict(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Create ``path`` 0600 if missing (before SQLite opens it), else take group and other
    bits off it: a store holding document text is the owner's alone.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        if not path.exists():
            raise
    else:
        os.close(fd)
    _restrict(path, 0o600)


def _restrict(path: Path, mode: int) -> None:
    """chmod to ``mode`` when group or other bits are set (POSIX; owner only; best effort)."""
    if os.name != "posix":
        return
    try:
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(path, mode)
    except OSError:  # a read-only file system: nothing to change there
        pass


def user_models_dir() -> Path:
    return data_dir() / "models"


def bundled_models_dir() -> Path:
    """``models/`` beside the package in a source tree, or inside a PyInstaller bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "models"
    return Path(__file__).resolve().parents[2] / "models"
