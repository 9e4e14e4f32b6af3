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

from desktop_qa.core.documents.formats import budget
from desktop_qa.core.documents.formats.html import escape
from desktop_qa.core.documents.formats.layout import Section
from desktop_qa.core.errors import UserError

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")


# What is surely not text: control words and symbols, braces, line ends, long hex runs
# (pictures, embedded objects). The rest bounds the text from above, give or take the
# names in font and style tables, at a tenth of striprtf's cost (0.05 s a MB against 0.5).
_NOT_TEXT = re.compile(rb"\\[a-zA-Z]+-?\d* ?|\\[^a-zA-Z]|[{}\r\n]+|[0-9a-fA-F\r\n]{128,}")


def rtf(data: bytes, name: str) -> list[Section]:
    from striprtf.striprtf import rtf_to_text

    step = 1 << 20  # a megabyte at a time: the pieces of one pass never pile up
    estimate = sum(len(_NOT_TEXT.sub(b"", data[i : i + step])) for i in range(0, len(data), step))
    if estimate > budget.MAX_TEXT_CHARS * 5 // 4:  # striprtf converts it whole: refuse first
        raise budget.BudgetExceeded(
            f"{name} holds about {estimate:,} characters of text, over the "
            f"{budget.MAX_TEXT_CHARS:,} characters of text a document may expand to (the "
            "limit); split it into smaller documents"
        )

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
