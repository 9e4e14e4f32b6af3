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


def user_models_dir() -> Path:
    return data_dir() / "models"


def bundled_models_dir() -> Path:
    """``models/`` beside the package in a source tree, or inside a PyInstaller bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "models"
    return Path(__file__).resolve().parents[2] / "models"
