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
VERSION = 2  # 2: sheets on pages as wide as their columns; column names (``headers``)


@dataclass
class PageInfo:
    label: str  # the whole location of this page: "slide 3", "page 2 of attachment ..."
    sheet: str | None = None  # a spreadsheet page: the sheet's name
    suffix: str = ""
    # A spreadsheet page: the left edge of each column (x, letter) and the top of each row
    # (y, row number), from where the header and the row numbers were laid out.
    columns: list[tuple[float, str]] = field(default_factory=list)
    rows: list[tuple[float, int]] = field(default_factory=list)
    # A spreadsheet page: its column names by letter and the row they are read from (0: none).
    headers: dict[str, str] = field(default_factory=dict)
    header_row: int = 0
    # A document's tables on this page, where the layout put them: rows (x0, y0, x1, y1,
    # table, row), cells (x0, y0, x1, y1, table, row, cell), and the column names of the
    # tables whose first row reads as a header.
    table_rows: list[tuple] = field(default_factory=list)
    table_cells: list[tuple] = field(default_factory=list)
    table_headers: dict[int, list[str]] = field(default_factory=dict)
    # Rectangles of the page's header and footer (Word): furniture, kept out of passages.
    furniture: list[tuple[float, float, float, float]] = field(default_factory=list)
    # What was drawn apart from the section's flow, and where: headers, footers, an e-mail's
    # subject and header lines (``logical.page_words`` reads their words against it).
    drawn: list[tuple[tuple[float, float, float, float], str]] = field(default_factory=list)


@dataclass
class CitationMap:
    pages: list[PageInfo]
    # Per page, the words with the source's own text where MuPDF's shaping garbles them
    # (``logical.page_words``; None when it does not). Not stored: made by converting.
    words: dict[int, list[tuple]] | None = None

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

    def reading_words(self, page: int, words: list) -> list:
        """A page's words (PyMuPDF "words" tuples) in reading order for the document's text.

        On a spreadsheet page each row becomes its own block (a paragraph of the
        text: the unit a passage, a keyword answer and a highlight are made of),
        its cells in column order, a wrapped cell's lines in order; the row numbers
        and column letters are left out (the page shows them; no answer holds
        them). Other pages are returned as they are.
        """
        if not 0 <= page < len(self.pages):
            return words
        info = self.pages[page]
        if info.table_rows and info.sheet is None:
            return _rows_as_blocks(words, info.table_rows)
        if info.sheet is None or not info.columns or not info.rows:
            return words
        left = info.columns[0][0]
        first_top = info.rows[0][0] - 2.0
        letters = {letter for _, letter in info.columns}
        order = {letter: n for n, (_, letter) in enumerate(info.columns)}
        row_order = {number: n for n, (_, number) in enumerate(info.rows)}
        keyed = []
        for n, w in enumerate(words):
            x, y = (w[0] + w[2]) / 2, (w[1] + w[3]) / 2
            if y < first_top:  # above the rows: the sheet's name, then the column letters
                if not (w[4] in letters and x >= left - 1.0):
                    keyed.append(((-1, 0, w[5], w[6], n), w))
                continue
            if x < left:
                continue  # a row number
            cell = _cell_at(info, (w[0], w[1], w[2], w[3]))
            if cell is None:
                continue
            row, letter = cell
            keyed.append(((row_order.get(row, -1), order.get(letter, 0), w[5], w[6], n), w))
        keyed.sort(key=lambda item: item[0])
        lines: dict[tuple, int] = {}
        out = []
        for key, w in keyed:
            line = lines.setdefault(key[:4], len(lines))
            out.append((w[0], w[1], w[2], w[3], w[4], key[0] + 1, line, key[4]))
        return out

    def cells(self, page: int, boxes: list[tuple[float, float, float, float]]) -> list:
        """(row, column letter) of each box on a spreadsheet page; None where not in a cell."""
        if not 0 <= page < len(self.pages):
            return [None] * len(boxes)
        info = self.pages[page]
        if info.sheet is None or not info.columns or not info.rows:
            return [None] * len(boxes)
        return [_cell_at(info, b) for b in boxes]

    def row_frame(self, page: int, boxes: list[tuple]) -> tuple[list, dict] | None:
        """Where an answer's word ``boxes`` lie in one table row below a header row: each
        box's column key (None outside a cell) and the column names by key; else None.

        A spreadsheet's columns are its letters, named by its first row; a document
        table's are its cells' numbers, named by the table's first row.
        """
        if not 0 <= page < len(self.pages) or not boxes:
            return None
        info = self.pages[page]
        if info.sheet is not None:
            if not info.headers or not info.columns or not info.rows:
                return None
            found = [_cell_at(info, b) for b in boxes]
            rows = {cell[0] for cell in found if cell is not None}
            if len(rows) != 1 or info.header_row in rows:
                return None
            return [cell[1] if cell else None for cell in found], info.headers
        if not info.table_headers:
            return None
        placed = [_innermost(info.table_rows, b) for b in boxes]
        keys = {row[4:6] for row in placed if row is not None}
        if len(keys) != 1:
            return None
        table, row = keys.pop()
        if row == 0 or table not in info.table_headers:
            return None
        cells = [c for c in info.table_cells if c[4] == table and c[5] == row]
        found = [_innermost(cells, b) for b in boxes]
        names = dict(enumerate(info.table_headers[table]))
        return [cell[6] if cell else None for cell in found], names

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
                    "headers": p.headers,
                    "header_row": p.header_row,
                    "table_rows": p.table_rows,
                    "table_cells": p.table_cells,
                    "table_headers": p.table_headers,
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
                    headers={str(k): str(v) for k, v in p["headers"].items()},
                    header_row=int(p["header_row"]),
                    table_rows=[_numbers(r, 4) for r in p["table_rows"]],
                    table_cells=[_numbers(c, 4) for c in p["table_cells"]],
                    table_headers={int(k): list(v) for k, v in p["table_headers"].items()},
                )
                for p in data["pages"]
            ]
        )


def _numbers(values: list, floats: int) -> tuple:
    return tuple(float(v) if n < floats else int(v) for n, v in enumerate(values))


def _innermost(rects: list[tuple], box: tuple) -> tuple | None:
    """The smallest of ``rects`` (x0, y0, x1, y1, ...) holding the centre of ``box``."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    best, area = None, 0.0
    for rect in rects:
        x0, y0, x1, y1 = rect[:4]
        if x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1:
            size = (x1 - x0) * (y1 - y0)
            if best is None or size < area:
                best, area = rect, size
    return best


def _rows_as_blocks(words: list, rows: list[tuple]) -> list:
    """A document's words with each table row one block (a paragraph of the text), in order.

    A word belongs to the innermost row whose rectangle holds its centre (a nested
    table's row inside its outer row); the row's words follow its first word.
    """

    def row_of(w) -> tuple | None:  # noqa: ANN001
        return _innermost(rows, w[:4])

    groups: dict[tuple, list] = {}
    for w in words:
        row = row_of(w)
        key = ("row", *row[4:6]) if row is not None else ("block", w[5])
        groups.setdefault(key, []).append(w)
    out = []
    for block, (key, members) in enumerate(groups.items()):
        lines: dict[tuple, int] = {}
        for w in members:
            line = w[6] if key[0] == "block" else lines.setdefault((w[5], w[6]), len(lines))
            out.append((w[0], w[1], w[2], w[3], w[4], block, line, w[7]))
    return out


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
