"""Word, PowerPoint and Outlook test files with every structure the readers must see.

The Word package is written part by part (as Word writes them), so each
structure is exactly where Word puts it: a content control, a nested table, a
text box with its VML fallback copy, tracked changes, a field, notes, SmartArt,
headers and footers. ``WORDS`` names the words each structure holds: they must
all be read, and ``HIDDEN`` the words that must not (a deletion, a field's
code, a text box's fallback copy).
The .msg writer builds the smallest OLE compound file Outlook's format needs
(no library writes one).
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.formatgen import zip_with

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ".docm": "application/vnd.ms-word.document.macroEnabled.main+xml",
    ".dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
}
WORDS = {
    "content control": "Zephyrine",
    "nested table": "Quillback",
    "text box": "Marrowfat",
    "tracked insertion": "Inserted",
    "field result": "Fieldresult",
    "footnote": "Footnoted",
    "endnote": "Endnoted",
    "SmartArt": "Smartnode",
    "table row control": "Rowcontrol",
    "header": "Headerword",
    "footer": "Footerword",
}
HIDDEN = {"deletion": "Deleteddd", "field code": "MERGEFIELD", "fallback copy": "Fallbackcopy"}


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _p(*runs: str, style: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}{''.join(runs)}</w:p>"


def _cell(*blocks: str) -> str:
    return f"<w:tc>{''.join(blocks)}</w:tc>"


def word_body(extra: str = "") -> str:
    """The document body: one paragraph or table per structure, in this order."""
    w = WORDS
    textbox = (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor>'
        "<a:graphic><a:graphicData><wps:wsp><wps:txbx><w:txbxContent>"
        + _p(_run(f"{w['text box']} in a text box."))
        + "</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor>"
        "</w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
        + _p(_run(f"{w['text box']} {HIDDEN['fallback copy']}."))
        + "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    smartart = (
        "<w:r><w:drawing><wp:inline><a:graphic><a:graphicData>"
        '<dgm:relIds r:dm="rIdData" r:lo="rIdLo" r:qs="rIdQs" r:cs="rIdCs"/>'
        "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )
    return "".join(
        [
            _p(_run("Structures of a Word file"), style="Heading1"),
            "<w:sdt><w:sdtPr><w:alias w:val='Client'/></w:sdtPr><w:sdtContent>"
            + _p(_run(f"The client is {w['content control']}."))
            + "</w:sdtContent></w:sdt>",
            "<w:tbl><w:tr>"
            + _cell(_p(_run("Outer cell")))
            + _cell(
                "<w:tbl><w:tr>"
                + _cell(_p(_run(f"Inner {w['nested table']} cell")))
                + "</w:tr></w:tbl>",
                _p(),
            )
            + "</w:tr><w:sdt><w:sdtContent><w:tr>"
            + _cell(_p(_run(f"{w['table row control']} row")))
            + "</w:tr></w:sdtContent></w:sdt></w:tbl>",
            _p(_run("Anchor of a box."), textbox),
            _p(
                _run("Changes: "),
                f'<w:ins w:id="1" w:author="a">{_run(w["tracked insertion"] + " words")}</w:ins>',
                f'<w:del w:id="2" w:author="a"><w:r><w:delText>{HIDDEN["deletion"]}</w:delText>'
                "</w:r></w:del>",
                _run(" stay."),
            ),
            _p(
                _run("Merged: "),
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
                f"<w:r><w:instrText> {HIDDEN['field code']} Name </w:instrText></w:r>",
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
                _run(w["field result"]),
                '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
                _run(" here."),
                '<w:r><w:footnoteReference w:id="1"/></w:r>',
            ),
            _p(_run("A diagram:"), smartart),
            extra,
            '<w:sectPr><w:headerReference w:type="default" r:id="rIdH"/>'
            '<w:footerReference w:type="default" r:id="rIdF"/>'
            '<w:pgSz w:w="12240" w:h="15840"/></w:sectPr>',
        ]
    )


_NAMESPACES = (
    f'xmlns:w="{W_NS}" xmlns:r="{R_NS}" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram"'
)


def _xml(root: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{root} {_NAMESPACES}>'
        f"{body}</{root}>"
    ).encode()


def _rels(*rels: tuple[str, str, str]) -> bytes:
    items = "".join(
        f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">{items}'
        "</Relationships>"
    ).encode()


STRICT = {  # Strict OOXML (ISO 29500 strict) names the same parts in other namespaces
    W_NS: "http://purl.oclc.org/ooxml/wordprocessingml/main",
    R_NS: "http://purl.oclc.org/ooxml/officeDocument/relationships",
    DOC_REL: "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
    "http://schemas.openxmlformats.org/drawingml/2006/diagram": "http://purl.oclc.org/ooxml/drawingml/diagram",
}


def word_file(path: Path, body: str | None = None, strict: bool = False) -> Path:
    """A Word package (.docx, .docm or .dotx by ``path``'s suffix) of ``word_body()``;
    ``strict``: in Strict OOXML's namespaces."""
    main = MAIN_TYPES.get(path.suffix.lower(), MAIN_TYPES[".docx"])
    w = WORDS
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        f'"application/xml"/><Override PartName="/word/document.xml" ContentType="{main}"/>'
        "</Types>"
    ).encode()
    note = (
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        f'</w:footnote><w:footnote w:id="1">{_p(_run(w["footnote"] + " note text."))}</w:footnote>'
    )
    endnote = f'<w:endnote w:id="1">{_p(_run(w["endnote"] + " closing text."))}</w:endnote>'
    diagram = (
        '<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst>'
        '<dgm:pt modelId="0" type="doc"><dgm:t><a:p><a:r><a:t></a:t></a:r></a:p></dgm:t></dgm:pt>'
        f'<dgm:pt modelId="1"><dgm:t><a:p><a:r><a:t>{w["SmartArt"]} one</a:t></a:r></a:p>'
        "</dgm:t></dgm:pt>"
        '<dgm:pt modelId="2" type="parTrans"><dgm:t><a:p><a:r><a:t></a:t></a:r></a:p></dgm:t>'
        "</dgm:pt></dgm:ptLst></dgm:dataModel>"
    ).encode()
    members = {
        "[Content_Types].xml": types,
        "_rels/.rels": _rels(("rId1", f"{DOC_REL}/officeDocument", "word/document.xml")),
        "word/document.xml": _xml("w:document", f"<w:body>{body or word_body()}</w:body>"),
        "word/_rels/document.xml.rels": _rels(
            ("rIdN", f"{DOC_REL}/footnotes", "footnotes.xml"),
            ("rIdE", f"{DOC_REL}/endnotes", "endnotes.xml"),
            ("rIdH", f"{DOC_REL}/header", "header1.xml"),
            ("rIdF", f"{DOC_REL}/footer", "footer1.xml"),
            ("rIdData", f"{DOC_REL}/diagramData", "diagrams/data1.xml"),
        ),
        "word/footnotes.xml": _xml("w:footnotes", note),
        "word/endnotes.xml": _xml("w:endnotes", endnote),
        "word/header1.xml": _xml("w:hdr", _p(_run(f"{w['header']} Holdings annual report"))),
        "word/footer1.xml": _xml("w:ftr", _p(_run(f"{w['footer']} confidential"))),
        "word/diagrams/data1.xml": diagram,
    }
    if strict:
        for name, data in members.items():
            for transitional, strict_ns in STRICT.items():
                data = data.replace(transitional.encode(), strict_ns.encode())
            members[name] = data
    path.write_bytes(zip_with(members))
    return path


def paragraphs(*texts: str) -> str:
    """Body paragraphs (for ``word_file(path, body=...)``), with the usual section."""
    return (
        "".join(_p(_run(t)) for t in texts)
        + '<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr>'
    )


def table(rows: list[list[str]]) -> str:
    return (
        "<w:tbl>"
        + "".join("<w:tr>" + "".join(_cell(_p(_run(c))) for c in row) + "</w:tr>" for row in rows)
        + "</w:tbl>"
    )


def tall_row_table(lines: int) -> str:
    """A table whose one row is far taller than a page (a form's long cell)."""
    cell = "".join(_p(_run(f"Line {i} of the long cell")) for i in range(lines))
    return "<w:tbl><w:tr>" + _cell(_p(_run("Label"))) + _cell(cell) + "</w:tr></w:tbl>"


# -- Outlook .msg: the smallest OLE compound file extract-msg reads ---------------------------
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def msg_file(path: Path, subject: str, sender: str, body: str) -> Path:
    """An Outlook message (MS-OXMSG): subject, sender and a plain-text body, no attachment.

    Every stream is under 4,096 bytes, so it lives in the mini stream (64-byte
    sectors) as the format requires; the directory is a right-leaning chain.
    """
    streams = {
        "__substg1.0_001A001F": "IPM.Note".encode("utf-16-le"),
        "__substg1.0_0037001F": subject.encode("utf-16-le"),
        "__substg1.0_0C1A001F": sender.encode("utf-16-le"),
        "__substg1.0_1000001F": body.encode("utf-16-le"),
        "__properties_version1.0": bytes(32),  # the header of an empty property list
    }
    mini = bytearray()
    minifat: list[int] = []
    starts = {}
    for name, data in streams.items():
        count = max(1, -(-len(data) // 64))
        starts[name] = len(minifat)
        minifat.extend(range(len(minifat) + 1, len(minifat) + count))
        minifat.append(_END)
        mini += data + bytes(count * 64 - len(data))
    # Regular sectors: [FAT][directory][mini FAT][mini stream...]
    entries = 1 + len(streams)
    dir_sectors = -(-entries * 128 // 512)
    minifat_sectors = -(-len(minifat) * 4 // 512)
    mini_sectors = -(-len(mini) // 512)
    total = 1 + dir_sectors + minifat_sectors + mini_sectors
    assert total <= 128, "one FAT sector holds 128 entries"
    fat = [_FAT]
    for first, count in ((1, dir_sectors), (1 + dir_sectors, minifat_sectors),
                         (1 + dir_sectors + minifat_sectors, mini_sectors)):  # fmt: skip
        fat.extend(range(first + 1, first + count))
        fat.append(_END)
    fat += [_FREE] * (128 - len(fat))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(raw), kind, 1, 0xFFFFFFFF, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    directory = entry("Root Entry", 5, _FREE, 1, 1 + dir_sectors + minifat_sectors, len(mini))
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else _FREE
        directory += entry(name, 2, right, _FREE, starts[name], len(streams[name]))
    directory += b"".join(
        (bytes(64) + struct.pack("<HBB3I", 0, 0, 1, _FREE, _FREE, _FREE) + bytes(48))
        for _ in range(dir_sectors * 4 - entries)
    )
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 1 + dir_sectors, minifat_sectors, _END, 0)
        + struct.pack("<109I", 0, *([_FREE] * 108))
    )
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    minifat_bytes += struct.pack("<I", _FREE) * (minifat_sectors * 128 - len(minifat))
    body_bytes = (
        struct.pack("<128I", *fat)
        + directory
        + minifat_bytes
        + bytes(mini) + bytes(mini_sectors * 512 - len(mini))
    )  # fmt: skip
    path.write_bytes(header + body_bytes)
    return path
