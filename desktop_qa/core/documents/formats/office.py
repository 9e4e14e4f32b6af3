"""PowerPoint files (and their macro-enabled twins, slide shows and templates) as HTML sections.

Readers chosen by measurement (docs/formats.md): python-pptx (speaker notes,
tables; slide shows and templates read as decks). Word files are read from
their XML (``word.py``), workbooks in ``sheets.py``. Macros are never run: the
readers only read XML; ``.pptm`` is read like its macro-free twin.
"""

from __future__ import annotations

import io

from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

# PowerPoint files whose main part python-pptx refuses by its content type (a slide show, a
# template, their macro twins): read as the presentation they are.
_PRESENTATION = (
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
)
_OTHER_PRESENTATIONS = (
    b"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    b"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    b"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    b"application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
)


# Word: see word.py (read from its XML, in full).


# -- PowerPoint ------------------------------------------------------------------------------
def pptx(data: bytes, name: str) -> list[Section]:
    """One section per slide, on pages of the slide's size; speaker notes under the slide."""
    import pptx as python_pptx

    presentation = python_pptx.Presentation(io.BytesIO(_as_presentation(data)))
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
                    + "".join(f"<p>{_lines(p.text)}</p>" for p in notes.paragraphs if p.text)
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
                    "<tr>" + "".join(f"<td>{_lines(c.text)}</td>" for c in row.cells) + "</tr>"
                )
            out.append("<table>" + "".join(rows) + "</table>")
        elif _is_frame(shape):  # SmartArt (a chart or an embedded object: no text here)
            out.append(_smartart(shape))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            is_title = title and getattr(shape, "is_placeholder", False) and _is_title(shape)
            paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
            if is_title:
                out.append("<h2>" + _lines(" ".join(p.text for p in paragraphs)) + "</h2>")
            elif any(p.level for p in paragraphs) or len(paragraphs) > 1:
                out.append(
                    "<ul>" + "".join(f"<li>{_lines(p.text)}</li>" for p in paragraphs) + "</ul>"
                )
            else:
                out.extend(f"<p>{_lines(p.text)}</p>" for p in paragraphs)
    return "".join(out)


def _is_title(shape) -> bool:  # noqa: ANN001
    try:
        return "TITLE" in str(shape.placeholder_format.type)
    except (ValueError, AttributeError):
        return False


def _lines(text: str) -> str:
    """A paragraph's text as markup: python-pptx gives a line break (``a:br``) as a vertical
    tab, which must stay a break ("commissioning" was glued to the next line's word)."""
    return "<br/>".join(escape(line) for line in text.replace("\v", "\n").split("\n"))


def _as_presentation(data: bytes) -> bytes:
    """The package with a slide show's or template's main content type read as a deck's."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml")
        if not any(t in types for t in _OTHER_PRESENTATIONS):
            return data
        for other in _OTHER_PRESENTATIONS:
            types = types.replace(other, _PRESENTATION)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in archive.infolist():
                body = types if info.filename == "[Content_Types].xml" else archive.read(info)
                copy.writestr(info, body)
    return out.getvalue()


def _is_frame(shape) -> bool:  # noqa: ANN001
    element = getattr(shape, "_element", None)
    return element is not None and str(element.tag).endswith("}graphicFrame")


def _smartart(frame) -> str:  # noqa: ANN001
    """A SmartArt graphic's text, from its diagram data part."""
    from desktop_qa.core.documents.formats.word import local, parse_xml, smartart_html

    for element in frame._element.iter():
        if local(element.tag) != "relIds":
            continue
        for key, rid in element.attrib.items():
            if local(key) == "dm":
                try:
                    part = frame.part.related_part(rid)
                except (KeyError, AttributeError):
                    return ""
                return smartart_html(parse_xml(part.blob))
    return ""
