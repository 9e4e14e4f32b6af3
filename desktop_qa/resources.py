"""App resources (icons, .desktop entry) found the same way in a source tree and a bundle.

``resources/`` sits at the repository root in a checkout and is copied to
``<bundle>/resources/`` (``sys._MEIPASS``) by packaging/desktop-qa.spec.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP_ICON = "desktop-qa.png"  # 256 px; "desktop-qa.svg" scales, the PNGs need no Qt SVG plugin


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def icon_paths() -> list[Path]:
    """Every existing PNG size of the app icon, smallest first (for a multi-size QIcon)."""
    root = resources_dir() / "icons"
    found = [p for p in root.glob("*x*/desktop-qa.png") if p.is_file()]
    return sorted(found, key=lambda p: int(p.parent.name.split("x")[0]))
