"""What is refused before a converter unpacks anything: sizes, zip directories, lying names.

Everything here reads the file's first bytes or its zip central directory
(which lists every member's uncompressed size), never a member's content:
a zip bomb is refused from what it declares. Declared sizes can lie, and
``ZipFile.read`` inflates up to 2 GiB in one call before it checks them, so
what converters read is bounded again while it is inflated (``budget``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from desktop_qa.core.errors import UserError, mb, short_reason

WORD = (".docx", ".docm", ".dotx", ".dotm")
POWERPOINT = (".pptx", ".pptm", ".ppsx", ".ppsm", ".potx", ".potm")
OOXML = {**dict.fromkeys(WORD, "Word"), **dict.fromkeys(POWERPOINT, "PowerPoint"),
         ".xlsx": "Excel", ".xlsm": "Excel", ".xltx": "Excel", ".xltm": "Excel"}  # fmt: skip
ODF = {".odt": "OpenDocument text", ".odp": "OpenDocument presentation",
       ".ods": "OpenDocument spreadsheet"}  # fmt: skip
# The member a container of each kind must hold, and the ODF mimetype it must declare.
REQUIRED = {**dict.fromkeys(WORD, "word/document.xml"),
            **dict.fromkeys(POWERPOINT, "ppt/presentation.xml"),
            ".xlsx": "xl/workbook.xml", ".xlsm": "xl/workbook.xml",
            ".xltx": "xl/workbook.xml", ".xltm": "xl/workbook.xml",
            ".odt": "content.xml", ".odp": "content.xml", ".ods": "content.xml"}  # fmt: skip
ODF_MIMETYPES = {".odt": b"application/vnd.oasis.opendocument.text",
                 ".odp": b"application/vnd.oasis.opendocument.presentation",
                 ".ods": b"application/vnd.oasis.opendocument.spreadsheet"}  # fmt: skip
HTML = frozenset({".html", ".htm", ".xhtml"})
# Old binary files (OLE compound files): Word and PowerPoint through LibreOffice (legacy.py),
# Outlook messages through extract-msg (mail.py); Excel 97-2003 through xlrd (sheets.py).
LEGACY = {**dict.fromkeys((".doc", ".dot"), "Word 97-2003"),
          **dict.fromkeys((".ppt", ".pps", ".pot"), "PowerPoint 97-2003"),
          ".msg": "Outlook message"}  # fmt: skip
SUFFIXES = frozenset(OOXML) | frozenset(ODF) | HTML | {".rtf", ".eml", ".xls"} | frozenset(LEGACY)

# File sizes (docs/formats.md "Limits"); an Office file is mostly its pictures, never read.
MAX_FILE_BYTES = {**{s: 256 * 1024 * 1024 for s in (*OOXML, *ODF, *LEGACY)},
                  **{s: 32 * 1024 * 1024 for s in HTML},
                  ".rtf": 64 * 1024 * 1024, ".eml": 64 * 1024 * 1024,
                  ".xls": 128 * 1024 * 1024}  # fmt: skip
# What the XML members of a container may unpack to in all (declared sizes), and how many
# members it may have: a long book's document.xml is ~10 MB.
MAX_XML_BYTES = 96 * 1024 * 1024
MAX_MEMBERS = 20_000
_XML_ENDINGS = (".xml", ".rels", ".vml")
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


def kind_name(suffix: str) -> str:
    """The kind a user knows a converted file by ("Word", "e-mail"), from its suffix."""
    return (
        OOXML.get(suffix)
        or ODF.get(suffix)
        or LEGACY.get(suffix)
        or {".rtf": "RTF", ".eml": "e-mail", ".xls": "Excel 97-2003"}.get(suffix, "HTML")
    )


def _what(suffix: str) -> str:
    name = kind_name(suffix)
    article = "an" if name[0] in "AEIOUe" else "a"
    return f"{article} {name} file"


def check_bytes(data: bytes, suffix: str, name: str, source: bytes | Path | None = None) -> None:
    """Refuse ``data`` (named ``name``) unless it looks like what its extension says.

    ``data`` may be a prefix (4 MB is enough) when ``source``, the whole file or
    its path, is given for the zip directory check.
    """
    head = data[:4096]
    if suffix in REQUIRED:
        if head.startswith(CFB_MAGIC):
            raise _cfb_error(data, suffix, name)
        check_zip(data if source is None else source, suffix, name)
        return
    if suffix == ".xls":
        _check_xls(head, name)
        return
    if suffix == ".rtf":
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
            raise UserError(
                f"{name} is not an RTF file (no {{\\rtf header at its start); the file may be "
                "damaged or of another type: re-save it as RTF"
            )
        return
    if suffix in LEGACY:  # OLE compound files (or RTF/HTML saved as .doc): the readers check
        return
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserError(
            f"{name} does not look like {_what(suffix)} (it holds binary data); the file may "
            "be damaged or of another type"
        )


# A binary .xls is an OLE compound file (BIFF 5-8) or, from Excel 2-4, bare BIFF records.
_BIFF_STARTS = (b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08")


def _check_xls(head: bytes, name: str) -> None:
    """A .xls must be a binary workbook; a newer workbook or a web page so named is told."""
    if head.startswith(CFB_MAGIC) or head.startswith(_BIFF_STARTS):
        return
    if head.startswith(b"PK\x03\x04"):
        raise UserError(
            f"{name} is a newer Excel workbook (.xlsx) named .xls; rename it to .xlsx and open it"
        )
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise UserError(
            f"{name} is a web page or XML file named .xls, not an Excel workbook; rename it to "
            ".html (a web page) or open it in a spreadsheet and save it as .xlsx"
        )
    raise UserError(
        f"{name} is not an Excel 97-2003 workbook (no binary workbook header); the file may "
        "be damaged or of another type: re-save it as .xlsx"
    )


def _cfb_error(data: bytes, suffix: str, name: str) -> UserError:
    """An OLE compound file named like OOXML: encrypted (a password) or an old binary file."""
    if _ENCRYPTION_INFO in data[: 4 * 1024 * 1024]:
        return UserError(
            f"{name} is a password-protected (encrypted) {kind_name(suffix)} file, which cannot "
            "be read; save an unprotected copy from the application that made it and open that"
        )
    old = {"Word": ".doc", "PowerPoint": ".ppt", "Excel": ".xls"}.get(kind_name(suffix), "")
    return UserError(
        f"{name} is an old binary Office file ({old or 'OLE'} format) named {suffix}, which "
        f"cannot be read; save it as {suffix} from the application that made it"
    )


def check_zip(source: bytes | Path, suffix: str, name: str) -> None:
    """The container's directory: readable, of the right kind, within the unpacked limits."""
    what = _what(suffix)
    try:
        with zipfile.ZipFile(
            io.BytesIO(source) if isinstance(source, bytes) else source
        ) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UserError(
                    f"{name} holds {len(infos):,} files inside, over the {MAX_MEMBERS:,} limit "
                    f"for {what} (a damaged file or a zip bomb)"
                )
            names = {i.filename for i in infos}
            xml = sum(i.file_size for i in infos if i.filename.lower().endswith(_XML_ENDINGS))
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as fh:
                    mimetype = fh.read(200)
    except UserError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, KeyError, RuntimeError) as exc:  # fmt: skip
        raise UserError(
            f"{name} cannot be opened as {what} (a damaged or truncated zip container: "
            f"{short_reason(exc)}); re-save or re-download it"
        ) from None
    required = REQUIRED[suffix]
    wrong_mimetype = suffix in ODF_MIMETYPES and not mimetype.startswith(ODF_MIMETYPES[suffix])
    if required not in names or wrong_mimetype:
        raise UserError(
            f"{name} is not {what} (a zip file without {required}"
            f"{' or with another mimetype' if suffix in ODF_MIMETYPES else ''}); its extension "
            "may not match its content: rename it or re-save it"
        )
    if xml > MAX_XML_BYTES:
        raise unpacks_too_much(
            name, xml, "XML", MAX_XML_BYTES, what, "split it into smaller documents"
        )


def unpacks_too_much(
    name: object, size: int, of_what: str, limit: int, limit_for: str, advice: str
) -> UserError:
    """A container whose members declare more than its kind may unpack to: refused from its
    zip directory (here and in ``inputs`` for EPUB and XPS), before any member is inflated."""
    return UserError(
        f"{name} unpacks to {mb(size)} of {of_what}, over the {mb(limit)} limit for "
        f"{limit_for} (a damaged file or a zip bomb); {advice}"
    )
