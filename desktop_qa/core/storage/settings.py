"""User settings (recent files, window geometry, top-k, strictness, OCR): a Qt-free JSON store.

The file lives in the platformdirs config folder and is replaced atomically
(temp file + ``os.replace``), so a crash mid-write never leaves half a file.
A corrupt or unreadable file must not stop the app: ``load_settings`` falls
back to defaults and returns a one-line warning for the status bar.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_qa.core.documents.ocr.pages import MODES, OcrOptions
from desktop_qa.core.system import paths, portable

FILENAME = "settings.json"
MAX_RECENT = 10
TOP_K_RANGE = (1, 20)
# Strictness is an offset (in logits) added to the pack's null_threshold:
# positive answers less often, negative answers more often.
STRICTNESS_RANGE = (-10.0, 10.0)


@dataclass
class Settings:
    """Everything the app remembers between runs."""

    recent_files: list[str] = field(default_factory=list)
    geometry: str = ""  # base64 of QMainWindow.saveGeometry(); opaque here
    window_state: str = ""  # base64 of QMainWindow.saveState()
    top_k: int = 5
    strictness: float = 0.0
    exhaustive: bool = False  # read every passage, not only the keyword-ranked ones
    # Keep the extracted text of password-protected files in the document cache
    # (off: that text is what the password protects). Passwords are never stored.
    cache_protected: bool = False
    ocr_mode: str = "auto"  # OCR pages without a text layer: auto, never, always
    ocr_languages: str = "eng"  # Tesseract languages, "eng+deu"

    def ocr_options(self) -> OcrOptions:
        """What ``opening.open_document`` needs to OCR scans the way the user chose."""
        from desktop_qa.core.documents.ocr.pages import ocr_jobs

        # The app leaves one core for its window.
        jobs = max(1, ocr_jobs() - 1)
        return OcrOptions(mode=self.ocr_mode, languages=self.ocr_languages, jobs=jobs)

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        """Most recent first, no duplicates, at most MAX_RECENT entries."""
        text = str(Path(path).expanduser().resolve())
        self.recent_files = [text] + [p for p in self.recent_files if p != text]
        del self.recent_files[MAX_RECENT:]

    def threshold(self, pack_threshold: float) -> float:
        """The no-answer threshold to pass to the engine for a pack."""
        return float(pack_threshold) + float(self.strictness)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Settings:
        """Take the fields that are valid; a bad field falls back to its default alone."""
        out = cls()
        recent = data.get("recent_files")
        if isinstance(recent, list):
            out.recent_files = [str(p) for p in recent if isinstance(p, str)][:MAX_RECENT]
        for key in ("geometry", "window_state"):
            if isinstance(data.get(key), str):
                setattr(out, key, data[key])
        top_k = data.get("top_k")
        if isinstance(top_k, int) and not isinstance(top_k, bool):
            out.top_k = min(max(top_k, TOP_K_RANGE[0]), TOP_K_RANGE[1])
        for key in ("exhaustive", "cache_protected"):
            if isinstance(data.get(key), bool):
                setattr(out, key, data[key])
        if data.get("ocr_mode") in MODES:
            out.ocr_mode = data["ocr_mode"]
        langs = data.get("ocr_languages")
        if isinstance(langs, str) and re.fullmatch(r"[A-Za-z_]+(\+[A-Za-z_]+)*", langs):
            out.ocr_languages = langs
        strictness = data.get("strictness")
        if isinstance(strictness, int | float) and not isinstance(strictness, bool):
            lo, hi = STRICTNESS_RANGE
            out.strictness = min(max(float(strictness), lo), hi)
        return out


def settings_path() -> Path:
    return paths.config_dir() / FILENAME


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """Read the settings; return (settings, warning line or None)."""
    path = settings_path() if path is None else path
    if not path.exists():
        return Settings(), None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Settings(), (
            f"settings file {path} is unreadable ({exc.__class__.__name__}); using defaults"
        )
    if not isinstance(data, dict):
        return Settings(), f"settings file {path} is not a JSON object; using defaults"
    return Settings.from_json(data), None


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: a temp file in the same folder, then ``os.replace``."""
    path = settings_path() if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(settings), fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        portable.replace(tmp, path)  # retried while Windows has the file held
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
