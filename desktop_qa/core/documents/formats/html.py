"""HTML pages (and HTML e-mail bodies), reduced to safe markup before MuPDF lays them out.

A web page saved to disk names scripts, stylesheets, fonts, images and frames
by URL. None of it may be fetched (nothing leaves the machine) nor run, so the
page is parsed with lxml and rebuilt from an allow-list: text, headings,
paragraphs, lists, tables, quotes and inline emphasis. Every attribute goes
(``style`` with its ``url(...)``, ``src``, ``href``, event handlers) except a
cell's ``colspan``/``rowspan``; ``script``, ``style``, ``head``, frames,
objects, forms and media go with their content; unknown tags keep their text.
"""

from __future__ import annotations

import html as _html
import re
from typing import TYPE_CHECKING

from desktop_qa.core.documents.formats import budget
from desktop_qa.core.errors import UserError

if TYPE_CHECKING:
    from desktop_qa.core.documents.formats.layout import Section

ALLOWED = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table thead tbody tfoot tr td th caption "
    "blockquote pre code b strong i em u s sub sup small mark q cite abbr br hr div "
    "section article main header footer nav aside figure figcaption address".split()
)
DROPPED = frozenset(
    "script style head title meta link base iframe frame frameset object embed applet "
    "noscript template svg math canvas video audio source track img picture map area "
    "form input button select option textarea datalist".split()
)
_CELL_ATTRIBUTES = ("colspan", "rowspan")
_CHARSET = re.compile(rb"<meta[^>]{0,200}charset", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def page(markup: str) -> Section:
    """A web page's section: on pages wide enough for its widest table (``fit_columns``:
    a landscape page and a smaller font for the tables, a wider page past that), so no
    value of a wide table is cut at the page's edge."""
    from desktop_qa.core.documents.formats.layout import WIDE_CSS, Section, fit_columns

    fits = [fit_columns(widths, (612.0, 792.0)) for widths in table_widths(markup)]
    fits = [f for f in fits if f is not None]
    if not fits:
        return Section(markup, "page {page}")
    font = min(f[0] for f in fits)
    width = max(f[1] for f in fits)
    return Section(markup, "page {page}", size=(width, 612.0), css=WIDE_CSS.format(font=font))


def table_widths(markup: str) -> list[list[float]]:
    """Each outermost table's columns' longest words (points at 1 pt), from safe markup."""
    if "<table" not in markup:
        return []
    import lxml.html

    from desktop_qa.core.documents.formats.layout import word_width

    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    out = []
    for table in root.iter("table"):
        if any(a.tag == "table" for a in table.iterancestors()):
            continue
        widths: list[float] = []
        for row in table.iter("tr"):
            if next(row.iterancestors("table"), None) is not table:
                continue  # a nested table's row
            for i, cell in enumerate(c for c in row if c.tag in ("td", "th")):
                longest = max(cell.text_content().split(), key=len, default="")
                if i >= len(widths):
                    widths.append(0.0)
                widths[i] = max(widths[i], word_width(longest))
        out.append(widths)
    return out


def escape(text: str, counted: bool = True) -> str:
    """Text as HTML character data (control characters dropped).

    Every piece of a converted document's text passes here, so here it is counted
    against the conversion's budget (``counted=False``: text already counted where it
    was read, such as spreadsheet cells)."""
    if counted:
        budget.spend_text(len(text))
    escaped = _html.escape(_CONTROL.sub("", text), quote=True)
    return escaped if len(escaped) <= RUN_CHARS else _runs(escaped)


# MuPDF lays a paragraph out again from its start on every page: a 6 MB paragraph took
# 23 s of CPU (1 MB 0.9 s, 2 MB 2.9 s). Text longer than this is laid out as blocks of
# about this size, cut at a space (1 MB: 0.4 s, linear).
RUN_CHARS = 64 * 1024


def _runs(escaped: str) -> str:
    pieces = []
    start = 0
    while start < len(escaped):
        end = start + RUN_CHARS
        if end < len(escaped):
            space = escaped.rfind(" ", start + RUN_CHARS // 2, end)
            if space > 0:
                end = space + 1
            else:  # no space: never cut inside an entity (&amp;)
                amp = escaped.rfind("&", end - 8, end)
                end = amp if amp > start and escaped.find(";", amp, end) < 0 else end
        pieces.append(escaped[start:end])
        start = end
    return "<div>" + "</div><div>".join(pieces) + "</div>"


def paragraphs(text: str) -> str:
    """Plain text as paragraphs: blank lines separate them, line breaks stay."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        "<p>" + "<br/>".join(escape(line) for line in b.strip("\n").split("\n")) + "</p>"
        for b in blocks
        if b.strip()
    )


def decode(data: bytes) -> str | bytes:
    """What lxml should parse: the bytes when the page declares its charset, else our decoding."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _CHARSET.search(data[:4096]):
        return data
    from desktop_qa.core.documents.decoding import decode_text

    return _XML_DECL.sub("", decode_text(data))


def sanitize(data: bytes | str, name: str) -> str:
    """The body of an HTML page as safe markup (see the module docstring).

    The page is read as a stream of parser events (lxml's HTML parser with a
    target), never as a tree: libxml2 drops, in silence, whatever its tree nests
    past 256 levels (2,048 with its huge option), and a recursive walk would give up
    sooner. Any depth up to ``budget.MAX_HTML_DEPTH`` keeps its text; what nests
    past ``LAYOUT_DEPTH`` allowed elements, and a table in a table, is laid out flat
    (its text, a line break per block), since MuPDF would indent or shrink it off
    the page.
    """
    import lxml.etree

    if isinstance(data, bytes):
        data = decode(data)
    if isinstance(data, str):
        data = _XML_DECL.sub("", data)
    if not (data.strip() if isinstance(data, str) else data.strip()):
        raise UserError(f"{name} contains no text; pass a document that contains text")
    target = _Sanitizer(name)
    try:
        # huge_tree: a text node over 10 MB is kept (libxml2 drops it otherwise).
        parser = lxml.etree.HTMLParser(
            target=target, no_network=True, remove_comments=True, remove_pis=True,
            huge_tree=True,
        )  # fmt: skip
        return lxml.etree.fromstring(data, parser)
    except (lxml.etree.ParserError, ValueError, lxml.etree.XMLSyntaxError) as exc:
        raise UserError(
            f"{name} cannot be read as HTML ({str(exc)[:100]}); the file may be damaged"
        ) from None


# Allowed elements nested deeper than this are laid out flat; how many levels each needs.
LAYOUT_DEPTH = 16
_ROOM = {"table": 4, "ul": 2, "ol": 2, "dl": 2}
_BLOCKS = ALLOWED - frozenset("b strong i em u s sub sup small mark q cite abbr code".split())


class _Sanitizer:
    """lxml parser target: the allow-list applied event by event (no tree, no recursion)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.out: list[str] = []
        self.closing: list[str | None] = []  # per open element: its end tag, "" or None (dropped)
        self.dropped = 0  # open elements inside a dropped one (its content goes too)
        self.emitted = 0  # allowed elements open in the output
        self.flat = 0  # open elements at or under the first one laid out flat
        self.tables = 0  # tables open in the output (one in another is laid out flat)

    def start(self, tag: object, attrib: dict) -> None:
        self.closing.append(None)
        if len(self.closing) > budget.MAX_HTML_DEPTH:
            raise budget.too_deep(self.name, budget.MAX_HTML_DEPTH)
        tag = tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""  # XHTML
        if self.dropped or tag in DROPPED or not tag:
            self.dropped += 1
            return
        if self.flat:
            self.flat += 1
        if tag not in ALLOWED:
            self.closing[-1] = ""  # an unknown element keeps its text
            return
        if tag in ("br", "hr"):
            self.out.append(f"<{tag}/>")
            self.closing[-1] = ""
            return
        nested_table = tag == "table" and self.tables > 0  # MuPDF squeezes it a word a line
        if self.flat or nested_table or self.emitted + _ROOM.get(tag, 1) > LAYOUT_DEPTH:
            self.flat = self.flat or 1
            if tag in _BLOCKS and self.out and not self.out[-1].startswith("<"):
                self.out.append("<br/>")  # a break after text only: no run of empty lines
            self.closing[-1] = ""
            return
        attributes = ""
        if tag in ("td", "th"):
            for key in _CELL_ATTRIBUTES:
                value = attrib.get(key)
                if value and value.isdigit() and 0 < int(value) <= 64:
                    attributes += f' {key}="{int(value)}"'
        self.out.append(f"<{tag}{attributes}>")
        self.closing[-1] = f"</{tag}>"
        self.emitted += 1
        self.tables += tag == "table"

    def end(self, tag: object) -> None:
        closing = self.closing.pop()
        if closing is None:
            self.dropped = max(self.dropped - 1, 0)
            return
        if self.flat:
            self.flat -= 1
        if closing:
            self.out.append(closing)
            self.emitted -= 1
            self.tables -= closing == "</table>"

    def data(self, text: str) -> None:
        if not self.dropped:
            self.out.append(escape(text))

    def comment(self, text: str) -> None:
        pass

    def close(self) -> str:
        return "".join(self.out)
