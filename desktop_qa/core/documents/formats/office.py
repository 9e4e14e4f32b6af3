"""Word and PowerPoint files (and their macro-enabled twins) as HTML sections.

Workbooks are read in ``sheets``.

Readers chosen by measurement (docs/formats.md): python-docx (21 ms for a
300-paragraph file, where mammoth took 670 ms), python-pptx (speaker notes,
tables). Macros are never run: the readers only read XML; ``.docm`` and
``.pptm`` are read like their macro-free twins.
"""

from __future__ import annotations

import io

from desktop_qa.core.documents.formats import budget
from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


# -- Word ------------------------------------------------------------------------------------
def docx(data: bytes, name: str) -> list[Section]:
    """Headings, paragraphs, lists and tables in order; then footnotes and comments."""
    import docx as python_docx
    from docx.table import Table

    document = python_docx.Document(io.BytesIO(data))
    style_of = _style_names(document, name)
    parts: list[str] = []
    list_tag: str | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            parts.append(_close(list_tag))
            list_tag = None
            parts.append(_docx_table(block))
            continue
        text = block.text
        if not text.strip():
            continue
        style = style_of(block)
        tag = _list_tag(block, style)
        if tag != list_tag:
            parts.append(_close(list_tag))
            parts.append(f"<{tag}>" if tag else "")
            list_tag = tag
        if tag:
            parts.append(f"<li>{escape(text)}</li>")
        else:
            level = _heading_level(style)
            parts.append(
                f"<h{level}>{escape(text)}</h{level}>" if level else f"<p>{escape(text)}</p>"
            )
    parts.append(_close(list_tag))
    parts.append(_docx_notes(document))
    comments = getattr(document, "comments", None)
    if comments is not None:
        rows = [
            f"<p>{escape(c.author or 'comment')}: {escape(c.text)}</p>"
            for c in comments
            if c.text.strip()
        ]
        if rows:
            parts.append("<h3>Comments</h3><div class='notes'>" + "".join(rows) + "</div>")
    return [Section("".join(parts), "page {page}")]


def _style_names(document, name: str):  # noqa: ANN001, ANN202
    """A paragraph's style name, from a table of the styles read once.

    (python-docx finds a paragraph's style by scanning every style: styles times
    paragraphs; a 29 KB file of 2,000 styles and 3,000 paragraphs took 17 s.)"""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.styles import BabelFish  # "heading 1" in the XML is "Heading 1", as .name says

    element = document.styles.element
    styles = element.style_lst
    if len(styles) > budget.MAX_STYLES:
        raise budget.BudgetExceeded(
            f"{name} defines {len(styles):,} styles, over the {budget.MAX_STYLES:,} limit (a "
            "damaged or generated file); re-save it from the application that made it"
        )

    def ui(style) -> str:  # noqa: ANN001
        return BabelFish.internal2ui(style.name_val) if style.name_val else ""

    names = {s.styleId: ui(s) for s in styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    default = element.default_for(WD_STYLE_TYPE.PARAGRAPH)
    fallback = ui(default) if default is not None else ""

    def style_of(paragraph) -> str:  # noqa: ANN001
        style_id = paragraph._p.style
        return names.get(style_id, fallback) if style_id is not None else fallback

    return style_of


def _close(tag: str | None) -> str:
    return f"</{tag}>" if tag else ""


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        digits = style[8:].strip()
        if digits.isdigit():
            return min(max(int(digits), 1), 6)
    return 0


def _list_tag(paragraph, style: str) -> str | None:  # noqa: ANN001
    if style.startswith("List Number"):
        return "ol"
    if style.startswith(("List Bullet", "List Paragraph", "List")):
        return "ul"
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        return "ul"
    return None


def _docx_table(table) -> str:  # noqa: ANN001
    rows = []
    for row in table.rows:
        cells = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell repeats across the columns it spans
                continue
            previous = cell._tc
            cells.append(f"<td>{escape(cell.text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _docx_notes(document) -> str:  # noqa: ANN001
    """Footnotes and endnotes (python-docx has no API for them: their XML parts are read)."""
    out = []
    for rel in document.part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if kind not in ("footnotes", "endnotes") or rel.is_external:
            continue
        try:
            element = rel.target_part.element
        except AttributeError:  # a generic part: parse its XML safely
            from lxml import etree

            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            element = etree.fromstring(rel.target_part.blob, parser)
        for note in element.iter(f"{_W}footnote", f"{_W}endnote"):
            if note.get(f"{_W}type") in ("separator", "continuationSeparator"):
                continue
            text = "".join(t.text or "" for t in note.iter(f"{_W}t")).strip()
            if text:
                out.append(f"<p>{escape(text)}</p>")
    return ("<h3>Notes</h3><div class='notes'>" + "".join(out) + "</div>") if out else ""


# -- PowerPoint ------------------------------------------------------------------------------
def pptx(data: bytes, name: str) -> list[Section]:
    """One section per slide, on pages of the slide's size; speaker notes under the slide."""
    import pptx as python_pptx

    presentation = python_pptx.Presentation(io.BytesIO(data))
    width = (presentation.slide_width or 9144000) / 12700
    height = (presentation.slide_height or 6858000) / 12700
    size = (min(max(width, 200.0), 2000.0), min(max(height, 200.0), 2000.0))
    sections = []
    for number, slide in enumerate(presentation.slides, 1):
        parts = [_shapes(slide.shapes, title=True)]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(
                    "<div class='notes'><h4>Speaker notes</h4>"
                    + "".join(f"<p>{escape(p.text)}</p>" for p in notes.paragraphs if p.text)
                    + "</div>"
                )
        sections.append(Section("".join(parts), f"slide {number}", size=size))
    if not sections:
        raise UserError(f"{name} has no slides; open a presentation that contains text")
    return sections


def _shapes(shapes, title: bool = False, depth: int = 0) -> str:  # noqa: ANN001
    """Text of shapes in reading order (top to bottom, then left to right); groups recursed.

    Groups in groups keep their text at any depth (they used to vanish past 8): the
    recursion is bounded by python-pptx's XML parser, which stops at 256 levels."""

    def order(shape) -> tuple[int, int]:  # noqa: ANN001
        return (shape.top or 0, shape.left or 0)

    out = []
    for shape in sorted(shapes, key=order):
        if shape.shape_type is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            out.append(_shapes(shape.shapes, depth=depth + 1))
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = []
            for row in shape.table.rows:
                rows.append(
                    "<tr>" + "".join(f"<td>{escape(c.text)}</td>" for c in row.cells) + "</tr>"
                )
            out.append("<table>" + "".join(rows) + "</table>")
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            is_title = title and getattr(shape, "is_placeholder", False) and _is_title(shape)
            paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
            if is_title:
                out.append("<h2>" + escape(" ".join(p.text for p in paragraphs)) + "</h2>")
            elif any(p.level for p in paragraphs) or len(paragraphs) > 1:
                out.append(
                    "<ul>" + "".join(f"<li>{escape(p.text)}</li>" for p in paragraphs) + "</ul>"
                )
            else:
                out.extend(f"<p>{escape(p.text)}</p>" for p in paragraphs)
    return "".join(out)


def _is_title(shape) -> bool:  # noqa: ANN001
    try:
        return "TITLE" in str(shape.placeholder_format.type)
    except (ValueError, AttributeError):
        return False
