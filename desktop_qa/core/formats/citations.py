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

# The cell rectangles of a page: (x0, y0, x1, y1, row, cell reference).
Cell = tuple[float, float, float, float, int, str]
MAX_FILES = 256  # map files kept in the cache folder (each a few KB; a big sheet ~1 MB)
VERSION = 1


@dataclass
class PageInfo:
    label: str  # the whole location of this page: "slide 3", "page 2 of attachment ..."
    sheet: str | None = None  # a spreadsheet page: the sheet's name
    suffix: str = ""
    cells: list[Cell] = field(default_factory=list)


@dataclass
class CitationMap:
    pages: list[PageInfo]

    def locate(self, page: int, boxes: list[tuple[float, float, float, float]]) -> str | None:
        """The location of an answer on 0-based ``page`` whose word boxes are ``boxes``."""
        if not 0 <= page < len(self.pages):
            return None
        info = self.pages[page]
        if info.sheet is None or not boxes or not info.cells:
            return info.label
        hits = [c for c in (_cell_at(info.cells, b) for b in boxes) if c is not None]
        if not hits:
            return info.label
        sheet = f"sheet {_quote(info.sheet)}"
        rows = sorted({c[4] for c in hits})
        refs = {c[5] for c in hits}
        if len(refs) == 1:
            where = f"{sheet}, row {rows[0]}, cell {hits[0][5]}"
        elif len(rows) == 1:
            where = f"{sheet}, row {rows[0]}"
        else:
            where = f"{sheet}, rows {rows[0]}-{rows[-1]}"
        return where + info.suffix

    def to_json(self) -> dict:
        return {
            "version": VERSION,
            "pages": [
                {"label": p.label, "sheet": p.sheet, "suffix": p.suffix, "cells": p.cells}
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
                    cells=[tuple(c) for c in p["cells"]],  # type: ignore[misc]
                )
                for p in data["pages"]
            ]
        )


def _quote(name: str) -> str:
    return f'"{name}"'


def _cell_at(cells: list[Cell], box: tuple[float, float, float, float]) -> Cell | None:
    """The cell whose rectangle holds the centre of a word box (1 pt of slack)."""
    x = (box[0] + box[2]) / 2
    y = (box[1] + box[3]) / 2
    for cell in cells:
        if cell[0] - 1 <= x <= cell[2] + 1 and cell[1] - 1 <= y <= cell[3] + 1:
            return cell
    return None


def _folder() -> Path:
    from desktop_qa.core import paths

    return paths.cache_dir() / "citations"


def store(content_hash: str, cmap: CitationMap) -> None:
    """Keep the map for these bytes (best effort: an unwritable cache only costs a re-convert)."""
    from desktop_qa.core import files, paths

    try:
        folder = paths.private_dir(_folder())
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(cmap.to_json(), fh, separators=(",", ":"))
        os.replace(tmp, folder / f"{content_hash}.json")
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
