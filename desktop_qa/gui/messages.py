"""The app's words for what the core names by key (``core/errors.py``): menus, not flags.

The core says what is wrong; the window says what to do in its own terms.
"""

from __future__ import annotations

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.export import escape_bidi

SETTINGS = "Tools ▸ Settings"
CHOOSE_PACK = "Choose Model Pack Folder…"  # the Tools menu action for a pack folder
CHOOSE_PACK_MENU = f"Tools ▸ {CHOOSE_PACK}"
UPDATE_LIBRARY = "Library ▸ Update Library"  # or Update in the Library panel
ADD_FOLDER = "Library ▸ Add Folder…"
SETTING_NAMES = {
    "top_k": f"Answers to list ({SETTINGS})",
    "depth": "The reading depth",
    "threshold": f"Strictness ({SETTINGS})",
    "ocr_mode": f"OCR ({SETTINGS} ▸ OCR)",
}
HINTS = {
    "ocr_on": f": turn OCR on ({SETTINGS} ▸ OCR) and open it again",
    "ocr_languages": f"; or tick installed ones ({SETTINGS} ▸ OCR languages) and open it again",
    "password": "; open it again and type its password when asked",
    "other_pack": f"; reinstall the pack or choose another ({CHOOSE_PACK_MENU})",
    "pack_folder": f"; choose a pack folder ({CHOOSE_PACK_MENU})",
    "pack_missing": f"; choose a pack folder ({CHOOSE_PACK_MENU})",
    "install_pack": f"; download one (Download model…) or choose a folder ({CHOOSE_PACK_MENU})",
    # A pack from elsewhere when the hub is out of reach (packs/hub.py).
    "model_offline": (
        f"; download a pack on a computer that can reach it, copy its folder here and choose "
        f"it ({CHOOSE_PACK_MENU})"
    ),
    "model_elsewhere": (
        f", or download a pack on a computer that can reach it, copy its folder here and "
        f"choose it ({CHOOSE_PACK_MENU})"
    ),
    # A download in a build without the onnx package (packaging --without-onnx).
    "onnx_missing": (
        f"; install the full build of the app, or choose a pack folder downloaded on "
        f"another computer ({CHOOSE_PACK_MENU})"
    ),
    # The library: its menu and panel (gui/library.py).
    "library_empty": f"; add a folder ({ADD_FOLDER})",
    "library_folders": "; the Library panel lists its folders",
    "library_busy": (
        " (another desktop-qa window or command is updating it); wait for it to finish, "
        "then try again"
    ),
    "library_update": f"; update the library ({UPDATE_LIBRARY}) to rebuild it from its folders",
    "library_rebuild": f"; it is rebuilt from its folders by the next update ({UPDATE_LIBRARY})",
    # After a count of files that could not be read (``N could not be read``).
    "library_failed": ": see the Library panel (Failed only)",
    "library_retry": (
        f": fix or replace them; a changed file is read again by the next update ({UPDATE_LIBRARY})"
    ),
}


def user_message(exc: UserError) -> str:
    """A user error's one line in the app's terms (menus, never command-line flags); a
    name's bidirectional controls shown as ``\\u202e``, so it cannot display reversed."""
    return escape_bidi(exc.describe(SETTING_NAMES, HINTS))


def duration_text(seconds: float) -> str:
    """ "40 s", "75 s" or "5 min": a time as a person reads it, the same in every panel.

    Seconds up to 90 (a minute and a half is not "2 min"); whole minutes after. The
    number and its unit are joined by a no-break space: a wrapped line never starts "s)".
    """
    if seconds < 90:
        return f"{max(1, round(seconds))}\u00a0s"
    return f"{round(seconds / 60)}\u00a0min"
