"""Before Qt starts its xcb (X11) platform: are the system libraries it needs there?

Qt 6's xcb plugin links against X11/xcb libraries that a minimal Linux install
lacks (since Qt 6.5 notably ``libxcb-cursor0``). When one is missing Qt prints a
long hint and *aborts* the process. This module, which imports no Qt, loads
each library the plugin needs with ``ctypes.CDLL`` (the same dynamic-loader
search Qt's plugin gets: ``LD_LIBRARY_PATH``, the ld.so cache, the system
folders) and turns what is missing into one line naming the libraries and the
command that installs them on Debian/Ubuntu and Fedora.

A library is hidden for a test (and for Qt alike) by a folder early on
``LD_LIBRARY_PATH`` holding a file of the same name that is not a library.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable, Mapping

# soname -> (Debian/Ubuntu package, Fedora package). The xcb plugin's and
# libQt6XcbQpa's system dependencies (ldd of PySide6 6.x's libqxcb.so), plus
# what QtGui itself loads from the system (GL, fontconfig, glib).
XCB_LIBRARIES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}


def uses_xcb(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt is about to start its xcb platform (Linux, an X display, no other choice)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") or not env.get("DISPLAY"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    # Unset on a Wayland session: Qt tries the wayland plugin first.
    wayland = env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland"
    return not wayland


def missing_libraries(names: Iterable[str] = XCB_LIBRARIES) -> list[str]:
    """The sonames among ``names`` that the dynamic loader cannot load."""
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def missing_message(missing: list[str]) -> str:
    """One line: what is missing and the install commands (Debian/Ubuntu, Fedora)."""
    deb = sorted({XCB_LIBRARIES.get(n, (n, n))[0] for n in missing})
    rpm = sorted({XCB_LIBRARIES.get(n, (n, n))[1] for n in missing})
    return (
        f"the desktop window needs system libraries that are missing: {', '.join(missing)}; "
        f"install them with 'sudo apt install {' '.join(deb)}' (Debian/Ubuntu) or "
        f"'sudo dnf install {' '.join(rpm)}' (Fedora), or use 'desktop-qa ask FILE QUESTION'"
    )


def check_xcb(env: Mapping[str, str] | None = None) -> str | None:
    """The one-line message when the xcb platform would abort for lack of libraries, else None."""
    if not uses_xcb(env):
        return None
    missing = missing_libraries()
    return missing_message(missing) if missing else None


NO_DISPLAY = (
    "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
    "run it in a desktop session, or use 'desktop-qa ask FILE QUESTION'"
)


def check_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """The one-line message when Qt would find no display and abort (Linux), else None.

    An explicit non-windowing platform (``QT_QPA_PLATFORM=offscreen``, ``vnc``…)
    needs no display.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").strip().split(";")[0].split(":")[0]
    if chosen and chosen not in ("xcb", "wayland", "wayland-egl"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY
