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

from desktop_qa.core.errors import UserError

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


def escape(text: str) -> str:
    """Text as HTML character data (control characters dropped)."""
    return _html.escape(_CONTROL.sub("", text), quote=True)


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
    """The body of an HTML page as safe markup (see the module docstring)."""
    import lxml.etree
    import lxml.html

    if isinstance(data, bytes):
        data = decode(data)
    if isinstance(data, str):
        data = _XML_DECL.sub("", data)
    if not (data.strip() if isinstance(data, str) else data.strip()):
        raise UserError(f"{name} contains no text; pass a document that contains text")
    try:
        parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
        root = lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, ValueError, lxml.etree.XMLSyntaxError) as exc:
        raise UserError(
            f"{name} cannot be read as HTML ({str(exc)[:100]}); the file may be damaged"
        ) from None
    body = root.find("body")
    if body is None:
        body = root
    return "".join(_clean(child) for child in _children(body, with_text=True))


def _children(element, with_text: bool):  # noqa: ANN001, ANN202
    """Text and child elements in document order (tails included)."""
    if with_text and element.text:
        yield element.text
    for child in element:
        yield child
        if child.tail:
            yield child.tail


def _clean(node) -> str:  # noqa: ANN001
    if isinstance(node, str):
        return escape(node)
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.rsplit("}", 1)[-1].lower()  # XHTML namespaces
    if tag in DROPPED or not tag:
        return ""
    inner = "".join(_clean(c) for c in _children(node, with_text=True))
    if tag not in ALLOWED:
        # An unknown element keeps its text; a block-looking one (custom tags) a break.
        return inner
    if tag in ("br", "hr"):
        return f"<{tag}/>"
    attributes = ""
    if tag in ("td", "th"):
        for key in _CELL_ATTRIBUTES:
            value = node.get(key)
            if value and value.isdigit() and 0 < int(value) <= 64:
                attributes += f' {key}="{int(value)}"'
    return f"<{tag}{attributes}>{inner}</{tag}>"
