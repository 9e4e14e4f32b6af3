"""RTF documents as paragraphs (striprtf: a small BSD-licensed reader, 50 KB, no dependencies).

RTF is 7-bit text with escapes; its code page (``\\ansicpgNNNN``) decodes the
``\\'xx`` escapes, ``\\uN`` gives Unicode. striprtf ends every paragraph
with a line break (each becomes one of ours) and drops pictures and other
destinations; table cells come out separated by
``|``. Formatting (headings, lists) is not kept: RTF marks them by style
numbers only.
"""

from __future__ import annotations

import codecs
import re

from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")


def rtf(data: bytes, name: str) -> list[Section]:
    from striprtf.striprtf import rtf_to_text

    match = _CODEPAGE.search(data[:4096])
    encoding = f"cp{match.group(1).decode()}" if match else "cp1252"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "cp1252"
    try:
        text = rtf_to_text(data.decode("latin-1"), encoding=encoding, errors="replace")
    except (ValueError, IndexError, RecursionError) as exc:
        raise UserError(f"{name} cannot be read as RTF ({str(exc)[:100]}); re-save it") from None
    if not text.strip():
        raise UserError(f"{name} contains no text; pass a document that contains text")
    html = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    return [Section(html, "page {page}")]
