"""Files small on disk that expand to far more than they weigh (issues 28 and 30).

Each is written at run time, a few KB to a few MB, by hand where the format's
own writer would refuse to write it (lying zip directories, a million
repeated cells). ``CASES`` names each with what reading it must do: ``"read"``
(within the budgets: ``FACT`` must be found) or the words its one ``error:``
line must hold. The tests (``tests/test_expansion.py``) and
``benchmarks/expansion.py`` both build from here.
"""

from __future__ import annotations

import base64
import email.message
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

FACT = "Zanzibar quokka"  # what a file within the budgets must keep findable
_SSML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MIB = 1 << 20


# -- zip plumbing ----------------------------------------------------------------------------
def _zip(members: dict[str, bytes], stored: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            kind = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return out.getvalue()


def _with_zeros(data: bytes, member: str, size: int) -> bytes:
    """``data`` (a zip) plus ``member`` holding ``size`` zero bytes, deflated (~1000:1).

    Deflated once per 16 MB block and repeated: after a full flush a deflate
    stream holds no reference back, so the same block deflates to the same
    bytes (a 2 GiB member is written in about a second, not a minute)."""
    block = 16 * MIB
    chunk = bytes(block)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = piece * whole + tail.compress(chunk[:rest]) + tail.flush()
    crc = 0
    for _ in range(whole):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(chunk[:rest], crc)
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size, info.compress_size, info.CRC = size, len(raw), crc
        info.header_offset = archive.start_dir
        archive.fp.seek(archive.start_dir)
        archive.fp.write(info.FileHeader(size > 0x7FFFFFFF))
        archive.fp.write(raw)
        archive.start_dir = archive.fp.tell()
        archive.filelist.append(info)
        archive.NameToInfo[member] = info
        archive._didModify = True  # the central directory is written on close
    return out.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """``data`` (a zip) with ``member``'s uncompressed size rewritten to ``size`` in both its
    local header and the central directory: a zip directory that lies."""
    buf = bytearray(data)
    name = member.encode()
    pos = 0
    while True:
        pos = buf.find(b"PK\x03\x04", pos)
        if pos < 0:
            break
        n = struct.unpack_from("<H", buf, pos + 26)[0]
        if bytes(buf[pos + 30 : pos + 30 + n]) == name:
            struct.pack_into("<I", buf, pos + 22, size)
        pos += 4
    pos = 0
    while True:
        pos = buf.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46 : pos + 46 + n]) == name:
            struct.pack_into("<I", buf, pos + 24, size)
        pos += 4
    return bytes(buf)


# -- Word ------------------------------------------------------------------------------------
def docx_bytes(body: str = "", styles: int = 0, style_of: Callable[[int], int] | None = None,
               paragraphs: int = 0, thumbnail: bool = False) -> bytes:  # fmt: skip
    """A minimal valid .docx: ``styles`` paragraph styles, ``paragraphs`` paragraphs (the
    i-th in style ``style_of(i)``), then ``body`` (raw WordprocessingML) and the FACT;
    ``thumbnail``: its package relates a docProps/thumbnail.jpeg (to be added)."""
    style_xml = "".join(
        f'<w:style w:type="paragraph" w:styleId="S{i}"><w:name w:val="Custom style {i}"/>'
        f'<w:basedOn w:val="{"Normal" if i == 0 else f"S{i - 1}"}"/></w:style>'
        for i in range(styles)
    )
    paras = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="S{style_of(i) if style_of else 0}"/></w:pPr>'
        f"<w:r><w:t>Paragraph {i} of the report.</w:t></w:r></w:p>"
        for i in range(paragraphs)
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
        f"<w:body>{paras}{body}<w:p><w:r><w:t>The password is {FACT}.</w:t></w:r></w:p>"
        "</w:body></w:document>"
    )
    styles_part = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{_W}">'
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
        f"</w:style>{style_xml}</w:styles>"
    )
    return _zip({
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            b'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            b'ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>'
            b'<Default Extension="bin" ContentType="application/octet-stream"/>'
            b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxml'
            b'formats-officedocument.wordprocessingml.document.main+xml"/><Override PartName='
            b'"/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'wordprocessingml.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/>'
            + (
                f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/thumbnail" '
                'Target="docProps/thumbnail.jpeg"/>'
                if thumbnail
                else ""
            )
            + "</Relationships>"
        ).encode(),
        "word/_rels/document.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ).encode(),
        "word/document.xml": document.encode(),
        "word/styles.xml": styles_part.encode(),
    })  # fmt: skip


def docx_thumbnail_bomb(path: Path, size: int = 2 << 30) -> Path:
    """A valid .docx with a "thumbnail" inflating to ``size`` bytes (2 GiB: about 2 MB)."""
    path.write_bytes(_with_zeros(docx_bytes(thumbnail=True), "docProps/thumbnail.jpeg", size))
    return path


def docx_lying_document(path: Path, size: int = 2 << 30, declared: int = 4096) -> Path:
    """A .docx whose ``word/document.xml`` inflates to ``size`` bytes while its zip directory
    declares ``declared``: the XML bytes are real (a body of spaces), the sizes lie."""
    head = docx_bytes().replace(b"word/document.xml", b"word/document.old")
    data = _with_zeros(head, "word/document.xml", size)  # zeros: not XML, never parsed
    path.write_bytes(declare_size(data, "word/document.xml", declared))
    return path


def docx_styles(path: Path, styles: int, paragraphs: int) -> Path:
    """A .docx with ``styles`` chained styles, ``paragraphs`` paragraphs each in the last:
    python-docx looks every paragraph's style up by a scan of all styles."""
    path.write_bytes(docx_bytes(styles=styles, paragraphs=paragraphs,
                                style_of=lambda i: styles - 1 - (i % 7)))  # fmt: skip
    return path


def docx_big_valid(path: Path, picture_mb: int = 20) -> Path:
    """A valid ~22 MB .docx: 300 styles, 3,000 paragraphs, ``picture_mb`` MB of picture."""
    import random

    data = docx_bytes(styles=300, paragraphs=3000, style_of=lambda i: i % 300)
    noise = random.Random(7).randbytes(picture_mb * MIB)  # incompressible, like a photo
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("word/media/image1.jpeg", noise, compress_type=zipfile.ZIP_STORED)
    path.write_bytes(out.getvalue())
    return path


# -- Excel -----------------------------------------------------------------------------------
def xlsx_shared(path: Path, cells: int, string_mb: float = 1.0, pad_kb: int = 0) -> Path:
    """A workbook whose one shared string (``string_mb`` MB of words) fills ``cells`` cells
    (rows of 10), plus ``pad_kb`` KB of incompressible other strings (the 110 KB one)."""
    import random

    words = ("lorem ipsum dolor sit amet " * int(string_mb * MIB / 27 + 1))[: int(string_mb * MIB)]
    rng = random.Random(3)
    extra = [rng.randbytes(48).hex() for _ in range(pad_kb * 1024 // 96)]
    strings = [words, f"The password is {FACT}", *extra]
    sst = "".join(f"<si><t>{s}</t></si>" for s in strings)
    rows = []
    for r in range(cells // 10 + 1):
        n = min(10, cells - r * 10)
        if n <= 0 and r:
            break
        cols = "".join(f'<c r="{chr(65 + c)}{r + 1}" t="s"><v>0</v></c>' for c in range(n))
        rows.append(f'<row r="{r + 1}">{cols}</row>')
    last = len(rows) + 1
    rows.append(f'<row r="{last}"><c r="A{last}" t="s"><v>1</v></c></row>')
    for i, _ in enumerate(extra):
        r = last + 1 + i
        rows.append(f'<row r="{r}"><c r="A{r}" t="s"><v>{i + 2}</v></c></row>')
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            f'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
            f'{ct}.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            f'{ct}.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="'
            f'{ct}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_SSML}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_SSML}" count="{cells + 1}" '
            f'uniqueCount="{len(strings)}">{sst}</sst>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_SSML}"><sheetData>'
            f"{''.join(rows)}</sheetData></worksheet>"
        ),
    }
    path.write_bytes(_zip({k: v.encode() for k, v in members.items()}))
    return path


# -- OpenDocument ----------------------------------------------------------------------------
_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def _odf(path: Path, kind: str, body: str) -> Path:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS} '
        f'office:version="1.2"><office:body><office:{kind}>{body}</office:{kind}>'
        "</office:body></office:document-content>"
    )
    mimetype = {"text": "text", "spreadsheet": "spreadsheet"}[kind]
    path.write_bytes(_zip(
        {"mimetype": f"application/vnd.oasis.opendocument.{mimetype}".encode(),
         "content.xml": content.encode()},
        stored=("mimetype",),
    ))  # fmt: skip
    return path


def odt_nested_tables(path: Path, depth: int, rows: int = 2) -> Path:
    """An .odt of tables nested ``depth`` deep, ``rows`` rows each; the FACT innermost.
    (26 deep is under 1 KB: the reader used to redo each table's rows at every level.)"""
    inner = f"<text:p>The password is {FACT}.</text:p>"
    for level in range(depth):
        other = "".join(
            f"<table:table-row><table:table-cell><text:p>r{level}.{k}</text:p>"
            "</table:table-cell></table:table-row>"
            for k in range(rows - 1)
        )
        inner = (
            f'<table:table table:name="T{level}"><table:table-row><table:table-cell>{inner}'
            f"</table:table-cell></table:table-row>{other}</table:table>"
        )
    return _odf(path, "text", inner)


def odt_nested_lists(path: Path, depth: int) -> Path:
    """An .odt whose FACT sits in a list nested ``depth`` deep (outlines do this)."""
    inner = f"<text:p>The password is {FACT}.</text:p>"
    for _ in range(depth):
        inner = f"<text:list><text:list-item>{inner}</text:list-item></text:list>"
    return _odf(path, "text", "<text:p>Outline</text:p>" + inner)


def ods_repeated(path: Path, columns: int = 16_000, text_kb: int = 500) -> Path:
    """An .ods whose one cell of ``text_kb`` KB repeats across ``columns`` columns."""
    words = ("lorem ipsum dolor sit amet " * (text_kb * 1024 // 27 + 1))[: text_kb * 1024]
    body = (
        '<table:table table:name="Sheet1"><table:table-row>'
        f'<table:table-cell table:number-columns-repeated="{columns}"><text:p>{words}</text:p>'
        "</table:table-cell></table:table-row><table:table-row><table:table-cell>"
        f"<text:p>The password is {FACT}</text:p></table:table-cell></table:table-row>"
        "</table:table>"
    )
    return _odf(path, "spreadsheet", body)


# -- HTML ------------------------------------------------------------------------------------
def html_nested(path: Path, depth: int, tag: str = "div") -> Path:
    """A page whose FACT sits under ``depth`` nested ``tag`` elements (``table``: a table in a
    cell in a table ...; ``ul``: lists in list items), with text before and after."""
    opening, closing = {
        "table": ("<table><tr><td>", "</td></tr></table>"),
        "ul": ("<ul><li>", "</li></ul>"),
    }.get(tag, (f"<{tag}>", f"</{tag}>"))
    page = (
        "<!doctype html><html><head><title>Generated</title></head><body><p>Header.</p>"
        + opening * depth
        + f"<p>The password is {FACT}.</p>"
        + closing * depth
        + "<p>Footer.</p></body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def html_one_node(path: Path, megabytes: float) -> Path:
    """A page whose ``megabytes`` MB of words sit in one text node, the FACT at its end."""
    size = int(megabytes * MIB)
    words = ("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size]
    path.write_text(
        f"<html><body><p>{words} The password is {FACT}.</p></body></html>", encoding="utf-8"
    )
    return path


# -- e-mail ----------------------------------------------------------------------------------
def eml_with(path: Path, attachments: list[tuple[str, bytes]], body: str = "") -> Path:
    message = email.message.EmailMessage()
    message["Subject"] = "Report"
    message["From"] = "Alice <alice@example.org>"
    message["To"] = "bob@example.org"
    message["Date"] = "Mon, 04 Mar 2024 10:00:00 +0000"
    message.set_content(body or f"Hello,\n\nThe password is {FACT}.\n")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename=name)  # fmt: skip
    path.write_bytes(bytes(message))
    return path


def eml_many_parts(path: Path, parts: int) -> Path:
    """An e-mail of ``parts`` tiny MIME parts (no Content-Type of their own: 10 bytes each)."""
    with open(path, "wb") as fh:
        fh.write(b"From: a@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: multipart/mixed; boundary=z\r\n\r\n")  # fmt: skip
        chunk = b"--z\r\n\r\nhi\r\n" * 10_000
        for _ in range(parts // 10_000):
            fh.write(chunk)
        fh.write(b"--z--\r\n")
    return path


def eml_many_attachments(
    path: Path, count: int, attachment: bytes, name: str, named: bool = True
) -> Path:
    """An e-mail carrying ``count`` copies of one attachment (written as MIME by hand: fast);
    ``named=False``: no ``filename=`` parameter (the attachments are then all "attachment")."""
    encoded = base64.encodebytes(attachment)
    with open(path, "wb") as fh:
        fh.write(b"From: a@example.org\r\nSubject: many\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
                 b"Content-Type: text/plain\r\n\r\nThe password is " + FACT.encode()
                 + b".\r\n")  # fmt: skip
        for i in range(count):
            fh.write(
                b"--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: "
                b"base64\r\nContent-Disposition: attachment"
                + (f'; filename="{i}-{name}"'.encode() if named else b"")
                + b"\r\n\r\n"
                + encoded
            )
        fh.write(b"--zz--\r\n")
    return path


def rtf_big(path: Path, megabytes: float) -> Path:
    """An RTF of ``megabytes`` MB of plain paragraphs (RTF expands little: a check of scale)."""
    line = b"lorem ipsum dolor sit amet consectetur\\par "
    path.write_bytes(
        b"{\\rtf1\\ansi " + line * int(megabytes * MIB / len(line))
        + f"The password is {FACT}.\\par}}".encode()
    )  # fmt: skip
    return path


def pptx_thumbnail_bomb(path: Path, size: int = 2 << 30) -> Path:
    """A valid .pptx (the FACT on slide 1) with a "thumbnail" inflating to ``size`` bytes."""
    import pptx as python_pptx

    deck = python_pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Report"
    slide.placeholders[1].text = f"The password is {FACT}."
    out = io.BytesIO()
    deck.save(out)
    with zipfile.ZipFile(out) as archive:  # its own thumbnail makes way for the bomb
        members = {n: archive.read(n) for n in archive.namelist() if "thumbnail" not in n}
    path.write_bytes(_with_zeros(_zip(members), "docProps/thumbnail.jpeg", size))
    return path


def xlsx_embedding_bomb(path: Path, size: int = 2 << 30) -> Path:
    """A small valid workbook with an embedded object inflating to ``size`` bytes."""
    small = xlsx_shared(path, cells=1, string_mb=0.001).read_bytes()
    path.write_bytes(_with_zeros(small, "xl/embeddings/oleObject1.bin", size))
    return path


def docx_lying(path: Path, member: str, size: int = 2 << 30, declared: int = 4096) -> Path:
    """A valid .docx plus ``member`` inflating to ``size`` bytes, declared as ``declared``."""
    data = _with_zeros(docx_bytes(thumbnail=member.endswith(".jpeg")), member, size)
    path.write_bytes(declare_size(data, member, declared))
    return path


def epub_nested(path: Path, depth: int) -> Path:
    """An EPUB whose one chapter holds the FACT under ``depth`` nested ``div`` elements."""
    body = "<div>" * depth + f"<p>The password is {FACT}.</p>" + "</div>" * depth
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
            'opendocument:xmlns:container"><rootfiles><rootfile full-path="content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        archive.writestr(
            "content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
            '<metadata/><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"'
            '/></manifest><spine><itemref idref="c"/></spine></package>',
        )
        archive.writestr(
            "c.xhtml",
            f'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Intro.</p>{body}</body></html>',
        )
    return path


def pptx_nested_groups(path: Path, depth: int) -> Path:
    """A slide whose text box sits in groups nested ``depth`` deep (the FACT in it)."""
    import pptx as python_pptx
    from pptx.util import Inches

    deck = python_pptx.Presentation()
    shapes = deck.slides.add_slide(deck.slide_layouts[6]).shapes
    for _ in range(depth):
        shapes = shapes.add_group_shape().shapes
    box = shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
    box.text_frame.text = f"The password is {FACT}."
    deck.save(path)
    return path
