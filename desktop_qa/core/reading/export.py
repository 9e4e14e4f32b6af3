"""Answers you can keep: a query result as text, JSON, CSV or Markdown, with citations.

One module for the CLI (``ask --format``) and the app (Export answers…, Copy
answer with citation). Every renderer takes the JSON dict of a result
(``QueryResult.to_json()``) plus the model's name, so fields added to the
result flow through without changes here.

Document text is untrusted: the text, CSV and Markdown renderings drop
terminal control characters (escape sequences that would retitle or clear a
terminal), and file names that are not valid UTF-8 (surrogate-escaped by
Python) are shown with their bytes as ``\\xff``. JSON keeps every character,
escaped, and writes such names as ``\\udcff`` escapes, so the output is
always valid UTF-8 and ``os.fsencode(json.loads(...)["document"])`` gives the
original bytes back.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

FORMATS = ("text", "json", "csv", "markdown")
# What "Export answers…" writes for each file extension.
EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".json": "json"}
CSV_FIELDS = (
    "question",
    "model",
    "kind",
    "rank",
    "text",
    "score",
    "probability",
    "document",
    "page",
    "start",
    "end",
    "context",
    "page_label",  # the printed label ("xiv") where the document has labels, else empty
)

_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST (window title)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Bidirectional embeddings, overrides and isolates (U+202A-E, U+2066-9): a name holding
# U+202E (right-to-left override) displays reversed ("invoice\u202eFDP.exe"), as in
# "Trojan Source". Shown as their escapes, so what is printed is what the name holds.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Text safe for a terminal: escape sequences and control characters removed,
    bidirectional controls shown as ``\\u202e``.

    Tabs and newlines stay; surrogate-escaped bytes become ``\\xNN``.
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    return show_bytes(escape_bidi(text))


def escape_bidi(text: str) -> str:
    """Bidirectional embeddings, overrides and isolates as ``\\u202e`` (visible, inert)."""
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def show_bytes(text: str) -> str:
    """A name decoded with surrogateescape (not UTF-8 on disk) shown as ``caf\\xe9.pdf``."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def one_line(text: str) -> str:
    """Untrusted text (a file name, a message quoting one) as one safe terminal line:
    no escape sequences, no line breaks to forge another row, bytes as ``\\xNN``."""
    return _one_line(text)


def _cell(text: str, width: int) -> str:
    text = _one_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def model_name(data: Mapping[str, Any], model: str | None = None) -> str:
    """The model as it is cited: the given description, else the result's model name."""
    if model:
        return model
    m = data.get("model")
    return str(m.get("name", "")) if isinstance(m, Mapping) else str(m or "")


def _document(data: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
    """An answer's document (a result over several documents names it per answer)."""
    return str(answer.get("document") or data.get("document") or "")


def no_answer_line(data: Mapping[str, Any]) -> str:
    """What a result without an answer says, honest about how much was read.

    The wording is the result's own ``message`` (``results.no_answer_text``), so the
    terminal, the exports and the app say the same thing.
    """
    return str(data.get("message") or "No answer.")


def page_text(answer: Mapping[str, Any]) -> str:
    """The page as a reader cites it: the printed label where the document has one
    (``page_label``), else the 1-based page number; "" for a text file."""
    label = answer.get("page_label")
    if label:
        return str(label)
    return "" if answer.get("page") is None else str(answer["page"])


def rows(data: Mapping[str, Any]) -> list[tuple[str, int, Mapping[str, Any]]]:
    """(kind, rank, answer) to export: the answers, or the best guess when there is none."""
    answers = data.get("answers") or []
    if answers:
        return [("answer", i, a) for i, a in enumerate(answers, 1)]
    guess = data.get("best_guess")
    return [("best_guess", 1, guess)] if guess else []


# -- renderers ---------------------------------------------------------------------
def to_json(data: Mapping[str, Any]) -> str:
    """One JSON object on one line (the ``ask --json`` contract), always valid UTF-8."""
    text = json.dumps(data, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def to_text(
    data: Mapping[str, Any], model: str | None = None, hints: Mapping[str, str] | None = None
) -> str:
    """The terminal table: rank, candidate, score, probability, page.

    Files of a library that could not be read are counted; what to do about them
    is the front end's ``hints["library_failed"]`` (a command, a panel), as for
    a ``UserError``: the core names none.
    """
    name = PurePath(str(data.get("document", ""))).name
    lines = [f"{_one_line(name)}: {_one_line(str(data.get('question', '')))}"]
    answers = data.get("answers") or []
    if data.get("no_answer") or not answers:
        lines.append(no_answer_line(data))
        guess = data.get("best_guess")
        if guess is not None:
            lines.append(f"  (best guess, below the threshold: {_cell(guess['text'], 60)!r})")
    else:
        # Answers from a folder or the library name their document under each row.
        several = "skipped" in data or (data.get("read") or {}).get("documents", 1) > 1
        lines.append(f"{'#':>2}  {'candidate':<50}  {'score':>7}  {'prob':>6}  page")
        for i, a in enumerate(answers, 1):
            page = _one_line(page_text(a)) or "-"
            lines.append(
                f"{i:>2}  {_cell(a['text'], 50):<50}  {a['score']:7.2f}  "
                f"{a['probability']:6.1%}  {page}"
            )
            if a.get("location"):
                lines.append(f"    {_one_line(str(a['location']))}")
            if several:
                lines.append(f"    {_one_line(str(a.get('document', '')))}")
    pending = data.get("pending_pages") or []
    if pending and answers and not data.get("no_answer"):
        word = "page" if len(pending) == 1 else "pages"
        shown = ", ".join(str(p) for p in pending[:8]) + (" ..." if len(pending) > 8 else "")
        lines.append(f"(not read yet: {word} {shown}, scanned, still being OCR'd)")
    skipped = data.get("skipped") or []
    if skipped:
        files = f"{len(skipped)} file{'s' if len(skipped) != 1 else ''}"
        lines.append(f"({files} could not be read{(hints or {}).get('library_failed', '')})")
    if data.get("mode") == "keyword":
        source = "keyword matches, no model"
    else:
        source = f"model {_one_line(model_name(data, model))}"
    lines.append(f"({float(data.get('seconds', 0.0)):.2f} s, {source})")
    return "\n".join(lines) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula (OWASP CSV injection).

    Document text, names and the question are untrusted: a cell starting with
    ``= + - @`` (or tab, CR) is a formula to Excel and LibreOffice
    (``=HYPERLINK(...)``), so it gets a leading ``'``, as OWASP advises. Numbers
    the program writes (score, probability, page, offsets) stay numbers.
    """
    text = _one_line(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(data: Mapping[str, Any], model: str | None = None) -> str:
    """One row per answer (or the best guess), every field a citation needs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    question = csv_text(str(data.get("question", "")))
    name = csv_text(model_name(data, model))
    for kind, rank, a in rows(data):
        writer.writerow(
            (
                question,
                name,
                kind,
                rank,
                csv_text(a["text"]),
                a["score"],
                a["probability"],
                csv_text(_document(data, a)),
                "" if a.get("page") is None else a["page"],
                a["start"],
                a["end"],
                csv_text(a.get("context", "")),
                csv_text(a.get("page_label") or ""),
            )
        )
    return out.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md_escape(text: str) -> str:
    """Document text as literal Markdown (one line; specials backslash-escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))


def md_unescape(text: str) -> str:
    """``md_escape`` undone: a Markdown export's cell read back as its text."""
    return re.sub(r"\\(.)", r"\1", text)


def to_markdown(data: Mapping[str, Any], model: str | None = None) -> str:
    """A heading, the document and model, and a table of the answers with page and offsets."""
    lines = [
        f"## {md_escape(str(data.get('question', '')))}",
        "",
        f"- Document: {md_escape(str(data.get('document', '')))}",
        f"- Model: {md_escape(model_name(data, model))}",
    ]
    found = rows(data)
    if not data.get("answers"):
        lines.append(f"- {no_answer_line(data)}" + (" Best guess below." if found else ""))
    lines += [
        "",
        "| # | Answer | Score | Probability | Document | Page | Start | End | Context |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, rank, a in found:
        page = md_escape(page_text(a))
        label = str(rank) if kind == "answer" else "best guess"
        cells = (
            label,
            md_escape(a["text"]),
            repr(a["score"]),
            repr(a["probability"]),
            md_escape(_document(data, a)),
            page,
            str(a["start"]),
            str(a["end"]),
            md_escape(a.get("context", "")),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render(
    data: Mapping[str, Any],
    fmt: str,
    model: str | None = None,
    hints: Mapping[str, str] | None = None,
) -> str:
    """``fmt`` one of FORMATS; text ends with a newline, JSON does not.

    ``hints`` word what to do in the caller's terms (only the text table says any):
    the files, JSON, CSV and Markdown, hold what was found and say no front end's step.
    """
    if fmt == "json":
        return to_json(data)
    if fmt == "csv":
        return to_csv(data, model)
    if fmt == "markdown":
        return to_markdown(data, model)
    if fmt == "text":
        return to_text(data, model, hints)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def format_for(path: str | PurePath) -> str | None:
    """The export format a file name asks for by its extension, or None."""
    return EXTENSIONS.get(PurePath(str(path)).suffix.lower())


def citation(answer: Mapping[str, Any], document: str) -> str:
    """'“text” (document, page N)': what Copy answer with citation puts on the clipboard.

    The page is the printed label where the document has one ("page xiv").
    The answer's own document when it names one (an answer from a library or a
    folder), else ``document`` (the result's).
    """
    document = str(answer.get("document") or document)
    name = PurePath(document).name or document
    page = page_text(answer)
    where = f"{name}, page {page}" if page else name
    if answer.get("location"):
        where = f"{name}, {answer['location']}"
    return f"“{_one_line(answer['text'])}” ({_one_line(where)})"


# Closing hints worded for a document opened alone; a library lists such files, and its
# front end says once, at the end, what to do about them (its ``library_retry`` hint).
_DOCUMENT_HINTS = ("; open a document that contains text", "; open it again", ": open it with")


def listed_reason(path: str, error: str) -> str:
    """Why a library file failed, for a list that names the file already: the path that
    starts the core's line dropped, and a closing hint meant for one opened document."""
    reason = " ".join(error.split())
    if reason.startswith(path):
        reason = reason[len(path) :].lstrip(" :")
    for hint in _DOCUMENT_HINTS:
        at = reason.find(hint)
        if at > 0:
            reason = reason[:at]
    return reason
