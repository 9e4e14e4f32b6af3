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
from dataclasses import dataclass

from desktop_qa.core.documents.formats import budget
from desktop_qa.core.documents.formats.html import escape, paragraphs, sanitize
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

MAX_DEPTH = 8  # multiparts and attached messages inside each other
MAX_PARTS = 500
MAX_HEADER_BYTES = 256 * 1024  # the header block of one part
MAX_ATTACHMENT_DEPTH = 2  # a message attached to a message attached to a message
_BOUNDARY = re.compile(rb"boundary\s*=", re.I)
_CONTENT_TYPE = re.compile(rb"^content-type\s*:", re.I | re.M)
_FILENAME = re.compile(rb"filename\*?\s*=", re.I)  # an attachment's name parameter
_DECLARED = re.compile(rb'boundary\s*=\s*"?([^";\r\n]{1,200})', re.I)
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
    if _delimiters(data, 2 * MAX_PARTS) > 2 * MAX_PARTS:
        raise _hostile(name, f"it has more than {MAX_PARTS} MIME parts")
    if len(_FILENAME.findall(data)) > budget.MAX_ATTACHMENTS:  # before parsing or decoding
        raise budget.too_many_attachments(name)


def _delimiters(data: bytes, stop: int) -> int:
    """Lines that open or close a part of a declared multipart, counted up to ``stop`` + 1.

    Parts need no headers of their own (``--z`` and a blank line make one), so
    counting Content-Type lines misses them: a 60 MB message of 6 million parts
    took 53 s and 2.1 GB to parse. n parts take at most 2n delimiter lines (one
    opening each, one closing per multipart); counting stops past that.
    """
    declared = {m.group(1).strip() for m in _DECLARED.finditer(data)}
    declared.discard(b"")
    if not declared:
        return 0
    alternatives = b"|".join(re.escape(b) for b in sorted(declared, key=len, reverse=True))
    count = 0
    for count, _ in enumerate(re.finditer(rb"^--(?:" + alternatives + rb")", data, re.M), 1):
        if count > stop:
            break
    return count


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
    bodies: list[tuple[str, str]] = []  # (kind, html)
    attachments: list[tuple[str, object]] = []
    _walk(message, name, bodies, attachments, [0], 0)
    spent = budget.current()
    for filename, _ in attachments if spent is not None else ():
        spent.attachment(filename)  # refused before any is converted
    return compose(
        Envelope(
            subject=header_text(message.get("Subject")),
            sender=header_text(message.get("From")),
            date=header_text(message.get("Date")),
            to=header_text(message.get("To"), 300),
        ),
        bodies,
        attachments,
        name,
        convert,
        depth,
        suffix,
    )


@dataclass
class Envelope:
    """What a message's header block shows (each value one safe line, ``header_text``)."""

    subject: str
    sender: str
    date: str = ""
    to: str = ""


def compose(
    envelope: Envelope,
    bodies: list[tuple[str, str]],
    attachments: list[tuple[str, object]],
    name: str,
    convert: Convert,
    depth: int,
    suffix: str,
) -> list[Section]:
    """A message's sections: its header block and body, then each readable attachment.

    The header block (subject, sender, recipients, date, attachment list) is
    drawn at the top of the first page but is context for the body, not a rival
    to it (issue 27.5): the subject, which restates the topic a question asks
    about in other words ("Move of the server room"), is furniture (shown,
    found by find, and in every answer's citation, but in no passage), and the
    header lines come after the body in the text, so a question the body
    answers gets the body's sentence.
    """
    subject = envelope.subject or "(no subject)"
    sender = envelope.sender or "(unknown sender)"
    cite = f'e-mail "{subject}" from {sender}' + (f", {envelope.date}" if envelope.date else "")
    meta = [f"<b>From:</b> {escape(sender)}"]
    if envelope.to:
        meta.append(f"<b>To:</b> {escape(envelope.to)}")
    if envelope.date:
        meta.append(f"<b>Date:</b> {escape(envelope.date)}")
    if attachments:
        meta.append("<b>Attachments:</b> " + escape(", ".join(n for n, _ in attachments)))
    title = f"<h2>{escape(subject)}</h2>"
    head = f"<p class='meta'>{'<br/>'.join(meta)}</p><hr/>"
    html = [h for kind, h in bodies if kind == "html"] or [h for _, h in bodies]
    body = "".join(html)
    label = f"page {{page}} of {cite}"
    if body.strip():
        first = Section(body, label, suffix=suffix, heading=title, lead=head)
    else:  # nothing but the header block: that is the text
        first = Section(title + head, label, suffix=suffix)
    sections = [first]
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
            except budget.BudgetExceeded:
                raise
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
        if not isinstance(content, bytes):  # an Outlook message inside an Outlook message
            if depth >= MAX_ATTACHMENT_DEPTH:
                return []
            return _outlook(content, name, convert, depth + 1, suffix=where)
        if suffix in TEXT_ATTACHMENTS:
            from desktop_qa.core.documents.decoding import decode_text

            sections = [Section(paragraphs(decode_text(content)), "page {page}")]
        else:
            sections = convert(content, suffix, f"attachment {filename} of {name}", depth + 1)
    except budget.BudgetExceeded:
        raise  # the budget is the whole message's: never skipped as unreadable
    except (UserError, LookupError, ValueError):
        return []
    for section in sections:
        section.suffix = where + section.suffix
    return sections


# -- Outlook .msg ----------------------------------------------------------------------------
def msg(data: bytes, name: str, convert: Convert, depth: int = 0) -> list[Section]:
    """An Outlook message (.msg, an OLE compound file) read with extract-msg (GPL-3.0)."""
    import logging

    from desktop_qa.core.documents.formats.checks import CFB_MAGIC

    if not data.startswith(CFB_MAGIC):
        raise UserError(
            f"{name} is not an Outlook message (.msg files are OLE compound files); the file "
            "may be damaged or of another type: save the message again from Outlook"
        )
    for logger in ("extract_msg", "olefile", "RTFDE", "compressed_rtf"):
        logging.getLogger(logger).addHandler(logging.NullHandler())  # never to stderr
        logging.getLogger(logger).propagate = False
    import extract_msg

    try:
        message = extract_msg.openMsg(data, strict=False)
    except Exception as exc:  # noqa: BLE001 - the reader raises many types for damaged files
        raise UserError(
            f"{name} cannot be read as an Outlook message ({type(exc).__name__}); the file "
            "may be damaged: save the message again from Outlook"
        ) from None
    try:
        return _outlook(message, name, convert, depth, suffix="")
    finally:
        message.close()


def _outlook(message, name: str, convert: Convert, depth: int, suffix: str) -> list[Section]:  # noqa: ANN001
    def field(attribute: str) -> object:
        try:
            return getattr(message, attribute, None)
        except Exception:  # noqa: BLE001 - a damaged property is an absent one
            return None

    date = field("date")
    if date is not None and hasattr(date, "strftime"):
        date = email.utils.format_datetime(date) if date.tzinfo else date.strftime("%d %b %Y %H:%M")
    bodies: list[tuple[str, str]] = []
    html_body = field("htmlBody")
    if isinstance(html_body, bytes) and html_body.strip():
        try:
            bodies.append(("html", sanitize(html_body, name)))
        except UserError:
            pass
    plain = field("body")
    if not bodies and isinstance(plain, str) and plain.strip():
        bodies.append(("plain", paragraphs(plain)))
    attachments: list[tuple[str, object]] = []
    for attachment in field("attachments") or []:
        try:
            data = attachment.data
            filename = header_text(
                attachment.longFilename or attachment.shortFilename or "attachment", 120
            )
        except Exception:  # noqa: BLE001 - an unreadable attachment is skipped
            continue
        if isinstance(data, bytes) or data is not None and hasattr(data, "subject"):
            attachments.append((filename, data))
        if len(attachments) >= MAX_PARTS:
            break
    return compose(
        Envelope(
            subject=header_text(field("subject")),
            sender=header_text(field("sender")),
            date=header_text(date),
            to=header_text(field("to"), 300),
        ),
        bodies,
        attachments,
        name,
        convert,
        depth,
        suffix,
    )
