"""What a converted document may expand to: counted while it is built, refused at a budget.

Limits on bytes (a file's size on disk, the sizes a zip directory declares) do
not bound what a reader builds from them: one 1 MB shared string can fill
20,000 cells, one cell repeat across 40,000 columns, a "thumbnail" or a lying
directory inflate to gigabytes, a 1 KB file nest tables 26 deep. So each
conversion runs under one ``Budget`` (an e-mail and its attachments share it),
which counts what is built as it is built and stops at the first budget
passed, with one line naming the file and what to do, before memory grows:

* characters of text (every piece of text goes through ``html.escape``, which
  counts it; spreadsheet cells are counted as they are read, repeats included);
* bytes inflated from a zip container, per part and in all, counted chunk by
  chunk whatever the directory declares (``package``: only XML parts are
  inflated; pictures, embeddings and thumbnails are never unpacked);
* nesting depth (HTML is walked as a stream: any depth up to the budget);
* e-mail attachments, styles, cells laid out in a sheet's grid.

The figures and why: docs/formats.md "Limits". A file within the budgets is
read whatever its size on disk.
"""

from __future__ import annotations

import contextvars
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from desktop_qa.core.errors import UserError, mb, short_reason

# Characters of text one document (an e-mail with its attachments) may expand to: the
# limit of every document's extracted text (``inputs.MAX_DOCUMENT_CHARS``): more is never
# read anyway, and 8 M characters lay out to about 24 MB of markup, MuPDF's limit here.
MAX_TEXT_CHARS = 8_000_000
# Bytes inflated from a container's XML parts, in all and per part (a long book's
# document.xml is ~10 MB; the largest real sheet XML measured ~60 MB for 50,000 cells).
MAX_INFLATED_BYTES = 96 * 1024 * 1024
# Nesting depth of an HTML page (walked as a stream: a generated page nests a few hundred
# levels; past this the file is refused). XML formats stop at their parser's own ceiling:
# 2,048 levels for OpenDocument (libxml2 with its huge option), 256 for Word/PowerPoint/Excel.
MAX_HTML_DEPTH = 100_000
XML_DEPTH = 2048
OOXML_DEPTH = 256
# EPUB is laid out by MuPDF itself, which drops (in silence) text nested about 100 elements
# deep (measured: 98 nested <div> keep a paragraph, 99 lose it); a chapter nested past
# this is refused instead (real books nest under 20).
EPUB_DEPTH = 96
# Attachments of one e-mail (all levels): each is converted and laid out.
MAX_ATTACHMENTS = 100
# Styles of a Word file (real templates: a few hundred; 2,672 is an outlier that reads).
MAX_STYLES = 20_000
# Cells laid out in one sheet's grid (rows with a filled cell x columns with one): empty
# cells between sparse ones become table cells too.
MAX_GRID_CELLS = 400_000
_CHUNK = 1024 * 1024
XML_ENDINGS = (".xml", ".rels", ".vml")


class BudgetExceeded(UserError):
    """A document past one of its budgets: never skipped as "an attachment we cannot read"."""


class Budget:
    """What one conversion has built so far, against the budgets above."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.text = 0
        self.inflated = 0
        self.attachments = 0

    def spend_text(self, chars: int, where: str = "") -> None:
        """Count ``chars`` characters of text about to be built; refuse past the budget."""
        self.text += chars
        if self.text > MAX_TEXT_CHARS:
            raise BudgetExceeded(
                f"{self.name} expands to more than {MAX_TEXT_CHARS:,} characters of text "
                f"(the limit{', reached in ' + where if where else ''}); split it into "
                "smaller documents, or save the part you need as its own file"
            )

    def inflate(self, chars: int, part: str) -> None:
        self.inflated += chars
        if self.inflated > MAX_INFLATED_BYTES:
            raise BudgetExceeded(
                f"{self.name} inflates to more than {mb(MAX_INFLATED_BYTES)} of XML (the "
                f"limit, reached in its part {part}; a damaged file or a zip bomb); re-save it "
                "or split it into smaller documents"
            )

    def attachment(self, filename: str) -> None:
        self.attachments += 1
        if self.attachments > MAX_ATTACHMENTS:
            raise too_many_attachments(self.name)

    def depth(self, levels: int, limit: int) -> None:
        if levels > limit:
            raise too_deep(self.name, limit)


def grid(rows: int, columns: int, sheet: str) -> None:
    """Refuse a sheet whose grid (rows with a filled cell x such columns) is over budget."""
    if rows * columns > MAX_GRID_CELLS:
        budget = _current.get()
        raise BudgetExceeded(
            f'{budget.name if budget else "the workbook"}: sheet "{sheet}" lays out as '
            f"{rows:,} rows by {columns:,} columns, over the {MAX_GRID_CELLS:,} cells of a "
            "sheet's grid (the limit); split it into smaller sheets"
        )


def too_many_attachments(name: str) -> BudgetExceeded:
    return BudgetExceeded(
        f"{name} carries more than {MAX_ATTACHMENTS} attachments (the limit); "
        "save the attachments you need and open them on their own"
    )


def too_deep(name: str, limit: int) -> BudgetExceeded:
    return BudgetExceeded(
        f"{name} is nested more than {limit:,} levels deep (the limit for its kind; a "
        "damaged or generated file); re-save it from the application that made it"
    )


_current: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("budget", default=None)


def current() -> Budget | None:
    """The budget of the conversion running in this thread, if any."""
    return _current.get()


def spend_text(chars: int, where: str = "") -> None:
    """Count text against the running conversion's budget (nothing outside a conversion)."""
    budget = _current.get()
    if budget is not None:
        budget.spend_text(chars, where)


@contextmanager
def scope(name: str) -> Iterator[Budget]:
    """The budget of one conversion; nested conversions (attachments) share the outer one."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    budget = Budget(name)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """One member, inflated chunk by chunk and counted: bounded whatever its header says.

    (``ZipFile.read`` inflates in one call of up to 2 GiB before it checks the
    declared size; reading in chunks never holds more than a chunk past it.)"""
    budget = _current.get() or Budget(name)
    out = bytearray()
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                budget.inflate(len(chunk), info.filename)
                out += chunk
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as exc:  # fmt: skip
        raise UserError(
            f"{name} is a damaged zip container (its part {info.filename}: "
            f"{short_reason(exc)}); re-save or re-download it"
        ) from None
    return bytes(out)


def _xml_types(archive: zipfile.ZipFile, name: str) -> tuple[set[str], set[str]]:
    """Part names and extensions [Content_Types].xml declares as XML (OOXML only)."""
    from lxml import etree

    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return set(), set()
    data = read_member(archive, info, name)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return set(), set()
    parts, extensions = set(), set()
    for element in root:
        ctype = element.get("ContentType", "")
        if "xml" not in ctype.lower():
            continue
        if element.get("PartName"):
            parts.add(element.get("PartName", "").lstrip("/").lower())
        elif element.get("Extension"):
            extensions.add("." + element.get("Extension", "").lower())
    return parts, extensions


def package(data: bytes, name: str) -> bytes:
    """A container rebuilt with only its XML parts, inflated within the budget.

    The readers (python-docx and python-pptx above all) read every part of a
    package whole, pictures and thumbnails included; none of those is text.
    Other parts keep their names with no content, so the package stays whole.
    Stored, not deflated: the copy costs a memory copy, not a compression.
    """
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml_parts, xml_extensions = _xml_types(archive, name)
            # A name listed twice is read as zipfile reads it (its last entry), once.
            members = {i.filename: i for i in archive.infolist() if not i.is_dir()}
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
                for info in members.values():
                    lower = info.filename.lower()
                    is_xml = (
                        lower.endswith(XML_ENDINGS)
                        or lower == "mimetype"
                        or lower in xml_parts
                        or any(lower.endswith(e) for e in xml_extensions)
                    )
                    rebuilt.writestr(
                        info.filename, read_member(archive, info, name) if is_xml else b""
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise UserError(
            f"{name} cannot be opened (a damaged or truncated zip container: "
            f"{short_reason(exc)}); re-save or re-download it"
        ) from None
    return out.getvalue()


class _Depth:
    """lxml parser target: the deepest element nesting of a page, refused past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.level = 0

    def start(self, tag: object, attrib: object) -> None:
        self.level += 1
        if self.level > self.limit:
            raise _TooDeep

    def end(self, tag: object) -> None:
        self.level -= 1

    def close(self) -> None:
        return None


class _TooDeep(Exception):  # noqa: N818 (a signal, caught below)
    pass


def check_epub_nesting(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse an EPUB whose chapters nest deeper than MuPDF lays out (``EPUB_DEPTH``).

    Each chapter is inflated in counted chunks and read as a stream of parser
    events (no tree); its markup was already bounded from the zip directory."""
    from lxml import etree

    budget = Budget(name)
    token = _current.set(budget)
    try:
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xhtml", ".html", ".htm")):
                continue
            data = read_member(archive, info, name)
            parser = etree.HTMLParser(target=_Depth(EPUB_DEPTH), huge_tree=True, no_network=True)
            try:
                etree.fromstring(data, parser)
            except _TooDeep:
                raise BudgetExceeded(
                    f"{name} nests the text of its chapter {info.filename} more than "
                    f"{EPUB_DEPTH} levels deep, deeper than the EPUB reader lays out (that text "
                    "would be lost); convert it to PDF and open that"
                ) from None
            except (etree.XMLSyntaxError, etree.ParserError, ValueError):
                continue  # MuPDF says what it makes of a damaged chapter
    finally:
        _current.reset(token)
