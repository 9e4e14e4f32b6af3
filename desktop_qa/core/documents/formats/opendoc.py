"""OpenDocument text and presentations (.odt, .odp) as HTML sections (spreadsheets: ``sheets``).

``content.xml`` is read with lxml (entities never resolved, no network), the
reader python-docx and python-pptx already bring: odfpy, the alternative,
builds a pure-Python DOM of the whole file (measured in docs/formats.md) and
is used by the tests only, to write documents.
"""

from __future__ import annotations

import io
import zipfile

from desktop_qa.core.documents.formats import budget
from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


P, H, S, TAB, BR = (_q(n) for n in ("text:p", "text:h", "text:s", "text:tab", "text:line-break"))
NOTE, NOTE_BODY = _q("text:note"), _q("text:note-body")
LIST, ITEM, HEADER = _q("text:list"), _q("text:list-item"), _q("text:list-header")
ANNOTATION, TABLE, ROW = _q("office:annotation"), _q("table:table"), _q("table:table-row")
CELL, COVERED = _q("table:table-cell"), _q("table:covered-table-cell")
PAGE, NOTES, SECTION = _q("draw:page"), _q("presentation:notes"), _q("text:section")
ROWS_REPEATED, COLS_REPEATED = _q("table:number-rows-repeated"), _q("table:number-columns-repeated")
_SKIPPED = frozenset({_q("text:tracked-changes"), _q("text:sequence-decls"), _q("office:forms"),
                      COVERED})  # fmt: skip


def _content(data: bytes, name: str):  # noqa: ANN202
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("content.xml") as fh:
        xml = fh.read()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in str(exc):  # libxml2's ceiling, even with huge_tree
            raise budget.too_deep(name, budget.XML_DEPTH) from None
        raise UserError(
            f"{name}: its content.xml is damaged ({str(exc)[:100]}); re-save the document"
        ) from None


class _Notes:
    """Footnotes and comments met while reading, shown after the body."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.comments: list[str] = []

    def html(self) -> str:
        out = ""
        if self.notes:
            out += "<h3>Notes</h3><div class='notes'>" + "".join(self.notes) + "</div>"
        if self.comments:
            out += "<h3>Comments</h3><div class='notes'>" + "".join(self.comments) + "</div>"
        return out


def _text(element, notes: _Notes | None = None) -> str:  # noqa: ANN001
    """The text of a paragraph: spaces, tabs and breaks as written; notes set aside.

    Walked with ``iterwalk`` (no recursion): spans nested any depth keep their text."""
    from lxml import etree

    out: list[str] = []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, child in walker:
        if child is element:
            if event == "start":
                out.append(element.text or "")
            continue
        if event == "end":
            out.append(child.tail or "")
            continue
        tag = child.tag
        if tag == S:
            count = child.get(_q("text:c"), "1")
            out.append(" " * min(int(count) if count.isdigit() else 1, 64))
        elif tag in (TAB, BR):
            out.append(" ")
        elif tag == NOTE:
            if notes is not None:
                body = child.find(NOTE_BODY)
                if body is not None:
                    notes.notes.append(f"<p>{escape(_plain(body))}</p>")
        elif tag == ANNOTATION:
            if notes is not None:
                notes.comments.append(f"<p>{escape(_plain(child))}</p>")
        elif isinstance(tag, str):
            out.append(child.text or "")
            continue  # its children are walked
        walker.skip_subtree()
    return "".join(out)


def _plain(element) -> str:  # noqa: ANN001
    texts = (_text(p) for p in element.iter(P, H))
    return " ".join(t for t in texts if t.strip())


# Tables and lists nested deeper than this are laid out flat (MuPDF would shrink or indent
# them off the page); the HTML each structure opens, and how many levels it needs.
LAYOUT_DEPTH = 16
_STRUCTURE = {LIST: ("ul", 2), TABLE: ("table", 3), ITEM: ("li", 1), HEADER: ("li", 1),
              ROW: ("tr", 1), CELL: ("td", 1)}  # fmt: skip


def _blocks(parent, notes: _Notes) -> str:  # noqa: ANN001
    """Headings, paragraphs, lists and tables of a text body, in order.

    One walk with ``iterwalk`` per child (no recursion: tables in tables any depth
    keep their text, each table's own rows read once); a list or table that would
    open more than ``LAYOUT_DEPTH`` HTML elements is laid out flat (its paragraphs,
    one after the other).
    """
    from lxml import etree

    out: list[str] = []
    for top in parent:
        # Per open element of the walk: (what its end emits, whether its list or table
        # is laid out as one: its items, rows and cells then are too).
        stack: list[tuple[str, bool]] = []
        emitted = 0  # HTML elements open in the output
        walker = etree.iterwalk(top, events=("start", "end"))
        for event, child in walker:
            if event == "end":
                end, _ = stack.pop()
                if end:
                    out.append(end)
                    emitted -= 1
                continue
            tag = child.tag
            live = stack[-1][1] if stack else False
            if tag == H:
                level = child.get(_q("text:outline-level"), "1")
                level = min(max(int(level) if level.isdigit() else 1, 1), 6)
                out.append(f"<h{level}>{escape(_text(child, notes))}</h{level}>")
            elif tag == P:
                text = _text(child, notes)
                if text.strip():
                    out.append(f"<p>{escape(text)}</p>")
            elif tag in _STRUCTURE:
                html, room = _STRUCTURE[tag]
                if tag in (LIST, TABLE):  # laid out flat: its paragraphs are blocks anyway
                    live = emitted + room <= LAYOUT_DEPTH
                    if tag == TABLE and any(end == "</table>" for end, _ in stack):
                        live = False  # a table in a table: MuPDF squeezes it a word a line
                if live:
                    out.append(f"<{html}>")
                    emitted += 1
                stack.append((f"</{html}>" if live else "", live))
                continue  # its children are walked
            elif isinstance(tag, str) and tag not in _SKIPPED and len(child):
                stack.append(("", live))  # row groups, sections, frames, text boxes
                continue
            stack.append(("", live))
            walker.skip_subtree()
    return "".join(out)


def odt(data: bytes, name: str) -> list[Section]:
    root = _content(data, name)
    body = root.find(f"{_q('office:body')}/{_q('office:text')}")
    if body is None:
        raise UserError(f"{name} holds no text body; open an OpenDocument text file")
    notes = _Notes()
    html = _blocks(body, notes)
    header, footer = _furniture(data)
    return [Section(html + notes.html(), "page {page}", header=header, footer=footer)]


_STYLE_NS = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
# A master page's header and footer elements, by the pages they are on (formats.layout).
_KINDS = {"header": "default", "header-first": "first", "header-left": "even",
          "footer": "default", "footer-first": "first", "footer-left": "even"}  # fmt: skip


def _furniture(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """The first master page's headers and footers (styles.xml), as Word's are: furniture."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("styles.xml") as fh:
            xml = fh.read()
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        root = etree.fromstring(xml, parser)
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, OSError):
        return {}, {}
    master = root.find(f"{_q('office:master-styles')}/{{{_STYLE_NS}}}master-page")
    header: dict[str, str] = {}
    footer: dict[str, str] = {}
    for child in [] if master is None else master:
        local = child.tag.rsplit("}", 1)[-1]
        if local in _KINDS and child.get(f"{{{_STYLE_NS}}}display") != "false":
            html = _blocks(child, _Notes())
            if html.strip():
                (header if local.startswith("header") else footer)[_KINDS[local]] = html
    return header, footer


def odp(data: bytes, name: str) -> list[Section]:
    root = _content(data, name)
    body = root.find(f"{_q('office:body')}/{_q('office:presentation')}")
    pages = [] if body is None else body.findall(PAGE)
    sections = []
    for number, page in enumerate(pages, 1):
        notes = _Notes()
        parts = []
        speaker = ""
        for child in page:
            if child.tag == NOTES:
                speaker = _plain(child)
            else:
                parts.append(_blocks([child], notes))
        if speaker.strip():
            parts.append(f"<div class='notes'><h4>Speaker notes</h4><p>{escape(speaker)}</p></div>")
        sections.append(
            Section("".join(parts) + notes.html(), f"slide {number}", size=(792.0, 446.0))
        )
    if not sections:
        raise UserError(f"{name} has no slides; open a presentation that contains text")
    return sections
