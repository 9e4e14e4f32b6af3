"""Where an answer is, in the document's own terms: slide 3; sheet "Budget", row 7, cell B7.

Laying out (``layout.render``) records, for every page of the laid-out PDF,
its label and, on spreadsheets, the rectangle of every filled cell. An answer
has its page and boxes (``Document.boxes_for``), so its location is the label
of its page, narrowed to the cell or row its boxes fall in.

The map lives beside the document's text in memory, and in a small JSON file
in the cache folder keyed by the file's sha256 (``store``/``load``), so an
answer from the cache or the library is cited without converting the file
again; without that file the document is converted again (the layout is
deterministic) and the map rebuilt.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILES = 256  # map files kept in the cache folder (each a few KB; a big sheet ~1 MB)
VERSION = 1


@dataclass
class PageInfo:
    label: str  # the whole location of this page: "slide 3", "page 2 of attachment ..."
    sheet: str | None = None  # a spreadsheet page: the sheet's name
    suffix: str = ""
    # A spreadsheet page: the left edge of each column (x, letter) and the top of each row
    # (y, row number), from where the header and the row numbers were laid out.
    columns: list[tuple[float, str]] = field(default_factory=list)
    rows: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class CitationMap:
    pages: list[PageInfo]

    def locate(self, page: int, boxes: list[tuple[float, float, float, float]]) -> str | None:
        """The location of an answer on 0-based ``page`` whose word boxes are ``boxes``."""
        if not 0 <= page < len(self.pages):
            return None
        info = self.pages[page]
        if info.sheet is None or not boxes or not info.columns or not info.rows:
            return info.label
        hits = [c for c in (_cell_at(info, b) for b in boxes) if c is not None]
        if not hits:
            return info.label
        sheet = f"sheet {_quote(info.sheet)}"
        rows = sorted({row for row, _ in hits})
        refs = {f"{letter}{row}" for row, letter in hits if letter}
        if len(refs) == 1 and all(letter for _, letter in hits):
            where = f"{sheet}, row {rows[0]}, cell {refs.pop()}"
        elif len(rows) == 1:
            where = f"{sheet}, row {rows[0]}"
        else:
            where = f"{sheet}, rows {rows[0]}-{rows[-1]}"
        return where + info.suffix

    def to_json(self) -> dict:
        return {
            "version": VERSION,
            "pages": [
                {
                    "label": p.label,
                    "sheet": p.sheet,
                    "suffix": p.suffix,
                    "columns": p.columns,
                    "rows": p.rows,
                }
                for p in self.pages
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> CitationMap:
        if data.get("version") != VERSION:
            raise ValueError("another version")
        return cls(
            [
                PageInfo(
                    label=str(p["label"]),
                    sheet=p["sheet"],
                    suffix=str(p["suffix"]),
                    columns=[(float(x), str(letter)) for x, letter in p["columns"]],
                    rows=[(float(y), int(row)) for y, row in p["rows"]],
                )
                for p in data["pages"]
            ]
        )


def _quote(name: str) -> str:
    return f'"{name}"'


def _cell_at(info: PageInfo, box: tuple[float, float, float, float]) -> tuple[int, str] | None:
    """(row, column letter) of the word box's centre; the letter is "" left of column A."""
    x = (box[0] + box[2]) / 2
    y = (box[1] + box[3]) / 2
    row = None
    for top, number in info.rows:  # in layout order: top to bottom
        if y >= top - 2.0:
            row = number
    if row is None:
        return None
    letter = ""
    for left, name in info.columns:
        if x >= left:
            letter = name
    return row, letter


def _folder() -> Path:
    from desktop_qa.core.system import paths

    return paths.cache_dir() / "citations"


def store(content_hash: str, cmap: CitationMap) -> None:
    """Keep the map for these bytes (best effort: an unwritable cache only costs a re-convert)."""
    from desktop_qa.core.system import files, paths, portable

    try:
        folder = paths.private_dir(_folder())
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(cmap.to_json(), fh, separators=(",", ":"))
        portable.replace(tmp, folder / f"{content_hash}.json")
        entries = [p for p in folder.iterdir() if p.suffix == ".json" and p.name[0] != "."]
        files.delete_oldest(entries, max_files=MAX_FILES, max_bytes=64 * 1024 * 1024)
    except OSError:
        pass


def load(content_hash: str) -> CitationMap | None:
    try:
        with open(_folder() / f"{content_hash}.json", encoding="utf-8") as fh:
            return CitationMap.from_json(json.load(fh))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
