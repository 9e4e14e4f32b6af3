"""Saved e-mail (.eml, RFC 5322 / MIME): headers, the body, and attachments we can read.

The standard library's ``email`` parser (compat32 policy: header values are
kept raw and decoded here, one by one). Before parsing, the raw message is
bounded: header blocks, the number of MIME parts and of multipart boundaries
(a deeply nested tree), so a hostile message is refused in one line rather
than exhausting the parser. Encoded words (``=?utf-8?b?...?=``) are decoded
and then stripped of control and bidirectional-override characters, so a
subject cannot forge lines or reorder what the citation shows.

The body shown is the HTML part when there is one (sanitised like any HTML
page: nothing remote is fetched), else the plain text. Attachments that are
documents we read (Word, PowerPoint, Excel, OpenDocument, HTML, RTF, e-mail,
text) follow the message, each cited as "attachment NAME of e-mail ...".
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.utils
import re
from collections.abc import Callable

from desktop_qa.core.documents.formats.html import escape, paragraphs, sanitize
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

MAX_DEPTH = 8  # multiparts and attached messages inside each other
MAX_PARTS = 500
MAX_HEADER_BYTES = 256 * 1024  # the header block of one part
MAX_ATTACHMENT_DEPTH = 2  # a message attached to a message attached to a message
_BOUNDARY = re.compile(rb"boundary\s*=", re.I)
_CONTENT_TYPE = re.compile(rb"^content-type\s*:", re.I | re.M)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
TEXT_ATTACHMENTS = (".txt", ".md", ".markdown", ".text", ".rst", ".csv")

Convert = Callable[[bytes, str, str, int], list[Section]]


def header_text(value: object, limit: int = 200) -> str:
    """A header value decoded from its encoded words, one safe line of at most ``limit``."""
    if value is None:
        return ""
    raw = str(value)
    try:
        decoded = str(email.header.make_header(email.header.decode_header(raw)))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        decoded = raw
    text = " ".join(_UNSAFE.sub(" ", decoded).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_raw(data: bytes, name: str) -> None:
    """Refuse a hostile message from its raw bytes, before the parser sees it."""
    end = re.search(rb"\r?\n\r?\n", data[: MAX_HEADER_BYTES + 4])
    if end is None and len(data) > MAX_HEADER_BYTES:
        raise _hostile(name, f"its headers are over {MAX_HEADER_BYTES // 1024} KB")
    if len(_BOUNDARY.findall(data)) > MAX_PARTS or len(_CONTENT_TYPE.findall(data)) > MAX_PARTS:
        raise _hostile(name, f"it declares more than {MAX_PARTS} MIME parts")


def _hostile(name: str, why: str) -> UserError:
    return UserError(f"{name} cannot be read as an e-mail: {why} (a damaged or hostile message)")


def eml(data: bytes, name: str, convert: Convert, depth: int = 0) -> list[Section]:
    check_raw(data, name)
    try:
        message = email.message_from_bytes(data)
    except (RecursionError, ValueError, IndexError, LookupError) as exc:
        raise _hostile(
            name, f"its MIME structure cannot be parsed ({type(exc).__name__})"
        ) from None
    if not message.keys():
        raise UserError(f"{name} is not an e-mail (no headers at its start); pass a .eml file")
    return _message(message, name, convert, depth, suffix="")


def _message(message, name: str, convert: Convert, depth: int, suffix: str) -> list[Section]:  # noqa: ANN001
    subject = header_text(message.get("Subject")) or "(no subject)"
    sender = header_text(message.get("From")) or "(unknown sender)"
    date = header_text(message.get("Date"))
    to = header_text(message.get("To"), 300)
    cite = f'e-mail "{subject}" from {sender}' + (f", {date}" if date else "")
    bodies: list[tuple[str, str]] = []  # (kind, html)
    attachments: list[tuple[str, bytes | email.message.Message]] = []
    _walk(message, name, bodies, attachments, [0], 0)
    meta = [f"<b>From:</b> {escape(sender)}"]
    if to:
        meta.append(f"<b>To:</b> {escape(to)}")
    if date:
        meta.append(f"<b>Date:</b> {escape(date)}")
    if attachments:
        meta.append("<b>Attachments:</b> " + escape(", ".join(n for n, _ in attachments)))
    head = f"<h2>{escape(subject)}</h2><p class='meta'>{'<br/>'.join(meta)}</p><hr/>"
    html = [h for kind, h in bodies if kind == "html"] or [h for _, h in bodies]
    sections = [Section(head + "".join(html), f"page {{page}} of {cite}", suffix=suffix)]
    for filename, content in attachments:
        where = f" of attachment {filename} of {cite}{suffix}"
        sections.extend(_attachment(filename, content, convert, depth, where, name))
    return sections


def _walk(part, name, bodies, attachments, count, depth) -> None:  # noqa: ANN001
    count[0] += 1
    if count[0] > MAX_PARTS:
        raise _hostile(name, f"it has more than {MAX_PARTS} MIME parts")
    if depth > MAX_DEPTH:
        raise _hostile(name, f"its parts are nested more than {MAX_DEPTH} levels deep")
    if sum(len(k) + len(str(v)) for k, v in part.items()) > MAX_HEADER_BYTES:
        raise _hostile(name, f"a part's headers are over {MAX_HEADER_BYTES // 1024} KB")
    ctype = part.get_content_type()
    filename = header_text(part.get_filename(), 120)
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if part.is_multipart():
        payload = part.get_payload()
        if ctype == "message/rfc822" and payload:
            attachments.append((filename or "message.eml", payload[0]))
            return
        for child in payload if isinstance(payload, list) else []:
            _walk(child, name, bodies, attachments, count, depth + 1)
        return
    if filename or disposition == "attachment":
        data = part.get_payload(decode=True) or b""
        attachments.append((filename or "attachment", data))
        return
    if ctype in ("text/plain", "text/html"):
        data = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            text = data.decode(charset, errors="replace")
        except LookupError:
            text = data.decode("utf-8", errors="replace")
        if ctype == "text/html":
            try:
                bodies.append(("html", sanitize(text, name)))
            except UserError:
                pass
        elif text.strip():
            bodies.append(("plain", paragraphs(text)))


def _attachment(filename, content, convert, depth, where, name) -> list[Section]:  # noqa: ANN001
    """An attachment's sections, labels extended; one we cannot read is a line in the list."""
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()
    try:
        if isinstance(content, email.message.Message):
            if depth >= MAX_ATTACHMENT_DEPTH:
                return []
            sections = _message(content, name, convert, depth + 1, suffix=where)
            return sections
        if suffix in TEXT_ATTACHMENTS:
            from desktop_qa.core.documents.decoding import decode_text

            sections = [Section(paragraphs(decode_text(content)), "page {page}")]
        else:
            sections = convert(content, suffix, f"attachment {filename} of {name}", depth + 1)
    except (UserError, LookupError, ValueError):
        return []
    for section in sections:
        section.suffix = where + section.suffix
    return sections
