"""Word documents (.docx, .docm, .dotx, .dotm, Strict OOXML) read from their XML, in full.

python-docx's API sees plain paragraphs and top-level tables only (measured on
POI's and python-docx's test files, docs/formats.md): content controls, nested
tables, text boxes, tracked insertions and SmartArt were dropped, and it
refuses templates and macro files by their content type. So the package is
read here with ``zipfile`` and lxml (entities never resolved, no network),
following its relationships, not its content types:

- the body in document order: paragraphs (runs, hyperlinks, fields' results,
  content controls, smart tags, tracked insertions; deletions dropped: the
  changes read as accepted), tables (merged cells, nested tables), and after a
  paragraph the text boxes and SmartArt anchored in it (a text box's VML
  fallback copy is skipped: ``mc:AlternateContent`` is read once);
- each Word section on pages of its own size and orientation, its headers and
  footers (default, first page, even pages) drawn in the page margins, where
  extraction marks them as furniture (found by find, kept out of passages);
- a table too wide for its page gets a landscape page run of its own and a
  smaller font, so no column is cut;
- footnotes, endnotes and comments after the body.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field

from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import (
    LETTER,
    WIDE_CSS,
    Section,
    fit_columns,
    word_width,
)
from desktop_qa.core.errors import UserError

_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_R_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
MAX_DEPTH = 48  # nested tables, content controls and text boxes inside each other
_SKIP = frozenset(
    "pPr rPr sdtPr sdtEndPr tblPr tblGrid trPr tcPr sectPr del moveFrom delText instrText "
    "delInstrText Fallback footnoteReference endnoteReference commentReference "
    "annotationRef bookmarkStart bookmarkEnd proofErr lastRenderedPageBreak".split()
)


def local(tag: object) -> str:
    """An element's name without its namespace (transitional and Strict OOXML alike)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_xml(data: bytes):  # noqa: ANN201
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True
    )
    return etree.fromstring(data, parser)


class Package:
    """An OPC package (zip) read by its relationships; content types are not consulted."""

    def __init__(self, data: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(data))
        self.names = set(self.archive.namelist())
        self._rels: dict[str, dict[str, tuple[str, str]]] = {}

    def read(self, name: str) -> bytes | None:
        return self.archive.read(name) if name in self.names else None

    def xml(self, name: str):  # noqa: ANN201
        data = self.read(name)
        return None if data is None else parse_xml(data)

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """``{id: (type's last word, target part name)}`` of a part ("" for the package)."""
        if part in self._rels:
            return self._rels[part]
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        out: dict[str, tuple[str, str]] = {}
        root = self.xml(rels_name)
        if root is not None:
            for rel in root:
                if local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target") or ""
                target = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(folder, target))
                )
                kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
                out[rel.get("Id") or ""] = (kind, target)
        self._rels[part] = out
        return out

    def main_part(self, fallback: str) -> str:
        for kind, target in self.rels("").values():
            if kind == "officeDocument" and target in self.names:
                return target
        return fallback


def _r_attr(element, name: str) -> str | None:  # noqa: ANN001
    for ns in _R_NS:
        value = element.get(f"{{{ns}}}{name}")
        if value:
            return value
    return None


def _attr(element, name: str) -> str | None:  # noqa: ANN001
    """A w:-namespaced attribute by its local name (either namespace)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return None


def _child(element, name: str):  # noqa: ANN001, ANN202
    for c in element:
        if local(c.tag) == name:
            return c
    return None


@dataclass
class _WordSection:
    html: list[str] = field(default_factory=list)
    size: tuple[float, float] = LETTER
    headers: dict[str, str] = field(default_factory=dict)  # "default" / "first" / "even" -> html
    footers: dict[str, str] = field(default_factory=dict)
    title_page: bool = False
    wide: tuple[float, float] | None = None  # a run for one wide table: (font size, page width)
    finished: bool = False  # its w:sectPr was read


class _Reader:
    def __init__(self, package: Package, part: str, name: str) -> None:
        self.package = package
        self.part = part
        self.name = name
        self.list_styles: set[str] = set()
        self.levels = self._heading_levels()

    # -- styles ---------------------------------------------------------------------------
    def _heading_levels(self) -> dict[str, int]:
        """Style id -> heading level (Title 1, "heading N" N; outline level + 1)."""
        styles_part = next(
            (t for k, t in self.package.rels(self.part).values() if k == "styles"), None
        )
        root = self.package.xml(styles_part) if styles_part else None
        levels: dict[str, int] = {}
        if root is None:
            return levels
        based: dict[str, str] = {}
        for style in root:
            if local(style.tag) != "style":
                continue
            sid = _attr(style, "styleId") or ""
            name_el = _child(style, "name")
            name = (_attr(name_el, "val") or "").lower() if name_el is not None else ""
            level = 0
            if name == "title":
                level = 1
            elif name.startswith("heading ") and name[8:].strip().isdigit():
                level = min(max(int(name[8:].strip()), 1), 6)
            ppr = _child(style, "pPr")
            if ppr is not None:
                outline = _child(ppr, "outlineLvl")
                value = _attr(outline, "val") if outline is not None else None
                if not level and value and value.isdigit() and int(value) < 9:
                    level = min(int(value) + 1, 6)
            if name.startswith("list") or (ppr is not None and _child(ppr, "numPr") is not None):
                self.list_styles.add(sid)
            if level:
                levels[sid] = level
            base = _child(style, "basedOn")
            if base is not None and _attr(base, "val"):
                based[sid] = _attr(base, "val") or ""
        for sid, base in based.items():
            if sid not in levels and base in levels and base != "Normal":
                levels[sid] = levels[base]
        return levels

    # -- blocks ---------------------------------------------------------------------------
    def blocks(self, parent, depth: int = 0, part: str | None = None) -> str:  # noqa: ANN001
        """Paragraphs, lists and tables of a body, cell, text box or note, in order."""
        if depth > MAX_DEPTH:
            return ""
        part = part or self.part
        out: list[str] = []
        list_open = False
        for child in parent:
            name = local(child.tag)
            if name == "p":
                html, is_item = self.paragraph(child, depth, part)
                if is_item != list_open:
                    out.append("<ul>" if is_item else "</ul>")
                    list_open = is_item
                out.append(html)
                continue
            if list_open:
                out.append("</ul>")
                list_open = False
            if name == "tbl":
                out.append(self.table(child, depth, part))
            elif name in ("sdt", "customXml", "ins", "moveTo", "smartTag", "sdtContent"):
                inner = _child(child, "sdtContent") if name == "sdt" else child
                if inner is not None:
                    out.append(self.blocks(inner, depth + 1, part))
            elif name == "AlternateContent":
                out.append(self.blocks(_choice(child), depth + 1, part))
            elif name == "txbxContent":
                out.append(self.blocks(child, depth + 1, part))
        if list_open:
            out.append("</ul>")
        return "".join(out)

    def paragraph(self, p, depth: int, part: str) -> tuple[str, bool]:  # noqa: ANN001
        """A paragraph's markup and whether it is a list item; text boxes follow it."""
        pieces: list[str] = []
        floating: list[str] = []
        self._inline(p, pieces, floating, depth, part)
        text = "".join(pieces)
        level, is_item = self._style(p)
        html = ""
        if text.strip():
            body = "<br/>".join(escape(line) for line in text.split("\n"))
            if is_item:
                html = f"<li>{body}</li>"
            elif level:
                html = f"<h{level}>{body}</h{level}>"
            else:
                html = f"<p>{body}</p>"
        else:
            is_item = False
        extra = "".join(floating)
        if extra:
            if is_item:  # a list item's text box stays inside the list
                return html + f"<li>{extra}</li>", True
            html += f"<div class='box'>{extra}</div>"
        return html, is_item

    def _style(self, p) -> tuple[int, bool]:  # noqa: ANN001
        ppr = _child(p, "pPr")
        if ppr is None:
            return 0, False
        style = _child(ppr, "pStyle")
        sid = (_attr(style, "val") or "") if style is not None else ""
        level = self.levels.get(sid, 0)
        outline = _child(ppr, "outlineLvl")
        value = _attr(outline, "val") if outline is not None else None
        if not level and value and value.isdigit() and int(value) < 9:
            level = min(int(value) + 1, 6)
        is_item = not level and (_child(ppr, "numPr") is not None or sid in self.list_styles)
        return level, is_item

    def _inline(self, element, pieces, floating, depth: int, part: str) -> None:  # noqa: ANN001
        if depth > MAX_DEPTH:
            return
        for child in element:
            name = local(child.tag)
            if name in _SKIP:
                continue
            if name == "t":
                pieces.append(child.text or "")
            elif name == "tab" or name == "ptab":
                pieces.append("\t")
            elif name in ("br", "cr"):
                pieces.append("\n")
            elif name == "noBreakHyphen":
                pieces.append("-")
            elif name == "sym":
                pieces.append(_symbol(child))
            elif name == "txbxContent":
                floating.append(self.blocks(child, depth + 1, part))
            elif name == "AlternateContent":
                self._inline(_choice(child), pieces, floating, depth + 1, part)
            elif name == "relIds":  # SmartArt: its text lives in the diagram's data part
                floating.append(self._smartart(child, part))
            elif name == "chart":
                continue
            else:
                self._inline(child, pieces, floating, depth + 1, part)

    def _smartart(self, rel_ids, part: str) -> str:  # noqa: ANN001
        rid = _r_attr(rel_ids, "dm")
        target = self.package.rels(part).get(rid or "", ("", ""))[1]
        root = self.package.xml(target) if target else None
        if root is None:
            return ""
        return smartart_html(root)

    def table(self, tbl, depth: int, part: str) -> str:  # noqa: ANN001
        if depth > MAX_DEPTH:
            return ""
        rows = []
        for tr in _rows(tbl):
            cells = []
            for tc in _cells(tr):
                tcpr = _child(tc, "tcPr")
                span = 1
                if tcpr is not None:
                    merge = _child(tcpr, "vMerge")
                    grid = _child(tcpr, "gridSpan")
                    value = _attr(grid, "val") if grid is not None else None
                    span = min(max(int(value), 1), 64) if value and value.isdigit() else 1
                    if merge is not None and (_attr(merge, "val") or "continue") == "continue":
                        cells.append(f"<td{_span(span)}></td>")
                        continue
                cells.append(f"<td{_span(span)}>{self.blocks(tc, depth + 1, part)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return "<table>" + "".join(rows) + "</table>"

    # -- parts ----------------------------------------------------------------------------
    def part_blocks(self, target: str) -> str:
        root = self.package.xml(target)
        return "" if root is None else self.blocks(root, 0, target)

    def notes(self) -> str:
        """Footnotes, endnotes and comments, after the body (as a reader finds them)."""
        notes, comments = [], []
        for kind, target in self.package.rels(self.part).values():
            if kind in ("footnotes", "endnotes"):
                root = self.package.xml(target)
                for note in [] if root is None else root:
                    if local(note.tag) not in ("footnote", "endnote"):
                        continue
                    if _attr(note, "type") in ("separator", "continuationSeparator",
                                                "continuationNotice"):  # fmt: skip
                        continue
                    html = self.blocks(note, 1, target)
                    if html:
                        notes.append(html)
            elif kind == "comments":
                root = self.package.xml(target)
                for comment in [] if root is None else root:
                    if local(comment.tag) != "comment":
                        continue
                    html = self.blocks(comment, 1, target)
                    if html:
                        author = escape(_attr(comment, "author") or "comment")
                        comments.append(f"<p><b>{author}:</b></p>{html}")
        out = ""
        if notes:
            out += "<h3>Notes</h3><div class='notes'>" + "".join(notes) + "</div>"
        if comments:
            out += "<h3>Comments</h3><div class='notes'>" + "".join(comments) + "</div>"
        return out


def _span(span: int) -> str:
    return f' colspan="{span}"' if span > 1 else ""


def _rows(tbl):  # noqa: ANN001, ANN202
    """A table's rows, through row-level content controls and custom XML."""
    for child in tbl:
        name = local(child.tag)
        if name == "tr":
            yield child
        elif name in ("sdt", "customXml", "sdtContent", "ins", "moveTo"):
            yield from _rows(_child(child, "sdtContent") if name == "sdt" else child)


def _cells(tr):  # noqa: ANN001, ANN202
    for child in tr:
        name = local(child.tag)
        if name == "tc":
            yield child
        elif name in ("sdt", "customXml", "sdtContent", "ins", "moveTo"):
            inner = _child(child, "sdtContent") if name == "sdt" else child
            if inner is not None:
                yield from _cells(inner)


def _choice(alternate):  # noqa: ANN001, ANN202
    """The first ``mc:Choice`` of an ``mc:AlternateContent`` (its fallback is a copy)."""
    for child in alternate:
        if local(child.tag) == "Choice":
            return child
    for child in alternate:
        if local(child.tag) == "Fallback":
            return child
    return []


def _symbol(sym) -> str:  # noqa: ANN001
    code = _attr(sym, "char") or ""
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    if 0xF000 <= value <= 0xF0FF:  # a symbol font's private-use code: no character
        return ""
    return chr(value) if 0x20 <= value < 0x110000 and not 0xD800 <= value < 0xE000 else ""


def smartart_html(root) -> str:  # noqa: ANN001
    """The text of a SmartArt diagram's data part: each node's paragraphs, in order."""
    items = []
    for pt in root.iter():
        if local(pt.tag) != "pt" or pt.get("type") in ("parTrans", "sibTrans", "pres"):
            continue
        body = _child(pt, "t")
        if body is None:
            continue
        lines = []
        for p in body:
            if local(p.tag) != "p":
                continue
            text = "".join(
                (t.text or "") if local(t.tag) == "t" else " "
                for t in p.iter()
                if local(t.tag) in ("t", "br")
            )
            if text.strip():
                lines.append(escape(text))
        if lines:
            items.append("<li>" + "<br/>".join(lines) + "</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def _page_size(sectpr) -> tuple[float, float]:  # noqa: ANN001
    size = _child(sectpr, "pgSz") if sectpr is not None else None
    if size is None:
        return LETTER
    try:
        width = float(_attr(size, "w") or 12240) / 20
        height = float(_attr(size, "h") or 15840) / 20
    except ValueError:
        return LETTER
    if _attr(size, "orient") == "landscape" and width < height:
        width, height = height, width
    return (min(max(width, 200.0), 2000.0), min(max(height, 200.0), 2000.0))


def _fit(tbl, page: tuple[float, float]) -> tuple[float, float] | None:  # noqa: ANN001
    """(font size, page width) for a table too wide for ``page``; None when it fits there
    (``layout.fit_columns``). A form's fine grid of merged cells counts its cells."""
    return fit_columns(_min_widths(tbl), page)


def _min_widths(tbl) -> list[float]:  # noqa: ANN001
    """Each column's longest word, in points at a 1-point font (``layout.word_width``)."""
    widths: list[float] = []
    for tr in _rows(tbl):
        for i, tc in enumerate(_cells(tr)):
            text = "".join(t.text or "" for t in tc.iter() if local(t.tag) == "t")
            longest = max((len(w), w) for w in text.split())[1] if text.split() else ""
            width = word_width(longest)
            if i >= len(widths):
                widths.append(0.0)
            widths[i] = max(widths[i], width)
    return widths


def docx(data: bytes, name: str) -> list[Section]:
    """A Word file's sections (see the module docstring)."""
    package = Package(data)
    part = package.main_part("word/document.xml")
    root = package.xml(part)
    bodies = [] if root is None else [c for c in root if local(c.tag) == "body"]
    if not bodies:
        raise UserError(f"{name} holds no document body; open a Word document")
    reader = _Reader(package, part, name)
    runs: list[_WordSection] = [_WordSection()]
    for child in (c for body in bodies for c in body):  # a damaged file may hold two bodies
        kind = local(child.tag)
        if kind == "sectPr":
            _finish(reader, child, runs)
            continue
        fit = _fit(child, runs[-1].size) if kind == "tbl" else None
        if fit is not None:
            runs.append(_WordSection(wide=fit, html=[reader.table(child, 0, part)]))
            runs.append(_WordSection())
            continue
        runs[-1].html.append(reader.blocks([child], 0, part))
        ppr = _child(child, "pPr") if kind == "p" else None
        sectpr = _child(ppr, "sectPr") if ppr is not None else None
        if sectpr is not None:  # a section break: the Word section ends with this paragraph
            _finish(reader, sectpr, runs)
            runs.append(_WordSection())
    runs[-1].html.append(reader.notes())
    even = _even_and_odd(package, part)
    sections: list[Section] = []
    headers: dict[str, str] = {}
    footers: dict[str, str] = {}
    for run in runs:
        # A Word section without headers of its own keeps the previous section's.
        headers = {**headers, **run.headers}
        footers = {**footers, **run.footers}
        html = "".join(run.html)
        header = _pick(headers, run.title_page and run.wide is None, even)
        footer = _pick(footers, run.title_page and run.wide is None, even)
        if not html.strip() and not header and not footer and (sections or run is not runs[-1]):
            continue  # an empty Word section (Word still shows its page of headers: we do too)
        size, css = run.size, ""
        if run.wide is not None:
            font, width = run.wide
            size = (max(width, *run.size), min(run.size))
            css = WIDE_CSS.format(font=font)
        sections.append(
            Section(
                html,
                "page {page}",
                size=size,
                css=css,
                continues=bool(sections),
                header=header,
                footer=footer,
            )
        )
    return sections


def _pick(parts: dict[str, str], title_page: bool, even: bool) -> dict[str, str]:
    """The header (or footer) markup per kind of page: "first", "even", "default"."""
    out = {"default": parts.get("default", "")}
    if title_page:
        out["first"] = parts.get("first", "")
    if even and "even" in parts:
        out["even"] = parts["even"]
    return out if any(out.values()) else {}


def _even_and_odd(package: Package, part: str) -> bool:
    target = next((t for k, t in package.rels(part).values() if k == "settings"), None)
    root = package.xml(target) if target else None
    flag = None if root is None else _child(root, "evenAndOddHeaders")
    return flag is not None and _attr(flag, "val") not in ("0", "false", "off")


def _finish(reader: _Reader, sectpr, runs: list[_WordSection]) -> None:  # noqa: ANN001
    """Give the open Word section (and the runs cut out of it) its page size and furniture."""
    headers: dict[str, str] = {}
    footers: dict[str, str] = {}
    for ref in sectpr:
        kind = local(ref.tag)
        if kind not in ("headerReference", "footerReference"):
            continue
        target = reader.package.rels(reader.part).get(_r_attr(ref, "id") or "", ("", ""))[1]
        if target:
            which = _attr(ref, "type") or "default"
            (headers if kind == "headerReference" else footers)[which] = reader.part_blocks(target)
    title = _child(sectpr, "titlePg")
    title_page = title is not None and _attr(title, "val") not in ("0", "false", "off")
    size = _page_size(sectpr)
    open_runs = []
    for run in reversed(runs):
        if run.finished:
            break
        open_runs.append(run)
    for n, run in enumerate(reversed(open_runs)):
        run.size, run.headers, run.footers = size, headers, footers
        run.title_page = title_page and n == 0
        run.finished = True
