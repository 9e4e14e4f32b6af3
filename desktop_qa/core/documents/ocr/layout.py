"""Reading order of OCR'd words: columns found by their gutters, table rows kept as rows.

Tesseract's own line order (and MuPDF's line grouping of its output) runs
across the gutter of a two-column page, so ``reading_order`` finds gutters (a
vertical line through wide gaps, free in runs of rows) and reads each column
top to bottom. Rows with short cells (a table) stay rows, read left to right.
Pure geometry: no PyMuPDF, no Tesseract.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

# One word: x0, y0, x1, y1, text, block, line, word (as PyMuPDF's "words").
Word = tuple[float, float, float, float, str, int, int, int]


def reading_order(words: Sequence[tuple[float, float, float, float, str]]) -> list[Word]:
    """Words as PyMuPDF "words" tuples, in column-aware reading order.

    Rows are words whose vertical centres fall within one another's height.
    A gutter is a vertical line through gaps of at least half a text height,
    free in runs of rows (``_gutter``); the rows that cross it (a heading over both
    columns) split the region into bands, and in each band the columns on
    either side are read one after the other, if they hold running text (a
    median of 3 words a row or more). Otherwise (table cells) rows are read
    left to right. A paragraph (block) ends at a column change or a vertical
    gap larger than the text height.
    """
    if not words:
        return []
    heights = [w[3] - w[1] for w in words if w[3] > w[1]]
    h = statistics.median(heights) if heights else 10.0
    items = sorted(range(len(words)), key=lambda i: ((words[i][1] + words[i][3]) / 2, words[i][0]))
    lines: list[list[int]] = []  # ordered lines (lists of word indices, left to right)
    _order_region(words, items, h, lines)
    out: list[Word] = []
    block = 0
    prev: list[int] | None = None
    for line_no, line in enumerate(lines):
        if prev is not None:
            py1 = max(words[i][3] for i in prev)
            py0 = min(words[i][1] for i in prev)
            y0 = min(words[i][1] for i in line)
            px0 = min(words[i][0] for i in prev)
            px1 = max(words[i][2] for i in prev)
            x0 = min(words[i][0] for i in line)
            x1 = max(words[i][2] for i in line)
            gap = y0 - py1
            if gap > h or y0 < py0 or x0 > px1 or x1 < px0:
                block += 1
        for n, i in enumerate(line):
            x0_, y0_, x1_, y1_, text = words[i]
            out.append((x0_, y0_, x1_, y1_, text, block, line_no, n))
        prev = line
    return out


def _rows(words: Sequence[tuple[float, ...]], items: list[int]) -> list[list[int]]:
    rows: list[list[int]] = []
    bottom = -1e9
    for i in items:  # sorted by vertical centre
        y0, y1 = words[i][1], words[i][3]
        centre = (y0 + y1) / 2
        if rows and centre <= bottom:
            rows[-1].append(i)
            bottom = max(bottom, min(y1, centre + (y1 - y0)))
        else:
            rows.append([i])
            bottom = y1
    for row in rows:
        row.sort(key=lambda i: words[i][0])
    return rows


def _gutter(words: Sequence[tuple[float, ...]], rows: list[list[int]], h: float) -> float | None:
    """The x of the line that separates columns in the most rows, or None.

    Candidates are the middles of gaps of at least half a text height (word
    spaces are about a quarter) between neighbouring words of a row. A row is
    free of a candidate when no word straddles it; a candidate scores the
    rows that lie in runs of 3 or more consecutive free rows (a column band),
    so a heading or a table row crossing it only ends a run. The best must
    hold at least 30% of the rows, so a chance "river" of aligned spaces in a
    single column is no gutter. Table rows (``_table_row``) are never free.
    """
    cands = sorted(
        {
            round((words[a][2] + words[b][0]) / 2, 1)
            for row in rows
            for a, b in zip(row, row[1:], strict=False)
            if words[b][0] - words[a][2] >= 0.5 * h
        }
    )
    tables = {id(row): _table_row(words, row, h) for row in rows}
    best: float | None = None
    best_score = 0
    for x in cands:
        score = run = 0
        for row in rows + [[]]:
            if row and not tables[id(row)] and not any(words[i][0] < x < words[i][2] for i in row):
                run += 1
                continue
            score += run if run >= 3 else 0
            run = 0
        if score > best_score:
            best, best_score = x, score
    return best if best_score >= 0.3 * len(rows) else None


def _table_row(words: Sequence[tuple[float, ...]], row: list[int], h: float) -> bool:
    """Cells, not lines of columns: 2+ pieces split by wide gaps, none of 3+ words."""
    pieces = [1]
    for a, b in zip(row, row[1:], strict=False):
        if words[b][0] - words[a][2] >= 0.5 * h:
            pieces.append(1)
        else:
            pieces[-1] += 1
    return len(pieces) >= 2 and max(pieces) < 3


def _order_region(
    words: Sequence[tuple[float, ...]], items: list[int], h: float, out: list[list[int]]
) -> None:
    rows = _rows(words, items)
    if len(rows) < 2:
        out.extend(rows)
        return
    gutter = _gutter(words, rows, h)
    if gutter is None:
        out.extend(rows)
        return
    x = gutter
    band: list[list[int]] = []

    def flush() -> None:
        if not band:
            return
        left = [i for row in band for i in row if words[i][2] <= x]
        right = [i for row in band for i in row if words[i][2] > x]
        left_rows = _rows(words, sorted(left, key=lambda i: (words[i][1] + words[i][3]) / 2))
        right_rows = _rows(words, sorted(right, key=lambda i: (words[i][1] + words[i][3]) / 2))
        running = (
            left_rows
            and right_rows
            and statistics.median(len(r) for r in left_rows) >= 3
            and statistics.median(len(r) for r in right_rows) >= 3
        )
        if running:
            _order_region(words, [i for r in left_rows for i in r], h, out)
            _order_region(words, [i for r in right_rows for i in r], h, out)
        else:
            out.extend(band)
        band.clear()

    for row in rows:
        crosses = _table_row(words, row, h) or any(words[i][0] < x < words[i][2] for i in row)
        if crosses:
            flush()
            out.append(row)
        else:
            band.append(row)
    flush()
