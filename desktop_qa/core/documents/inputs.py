"""Input checks and limits: a file is refused from its metadata and a prefix, before it is read.

Every check runs before a document is opened, cached or not (the cache must
never answer for a file that would be refused cold), and the library fails a
file from its size alone. Each failure is one line naming the file and what
is wrong (docs/performance.md "Limits" has the figures behind each limit).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from collections.abc import Callable
from pathlib import Path

from desktop_qa.core.documents import formats
from desktop_qa.core.documents.decoding import decode_text, looks_binary
from desktop_qa.core.documents.formats import budget
from desktop_qa.core.documents.formats.checks import unpacks_too_much
from desktop_qa.core.errors import UserError, mb, short_reason
from desktop_qa.core.system.portable import held_elsewhere, unreadable

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text", ".rst"})
# What PyMuPDF opens that can hold a text layer.
# Office, OpenDocument, HTML, RTF and e-mail are converted and laid out first
# (core/formats: the hook is marked "formats hook").
MUPDF_SUFFIXES = frozenset({".pdf", ".epub", ".xps", ".oxps", ".fb2", ".mobi"}) | formats.SUFFIXES
SUPPORTED = ", ".join(sorted(TEXT_SUFFIXES | MUPDF_SUFFIXES))
_FAMILIES = {".pdf": "PDF", ".epub": "EPUB", ".xps": "XPS", ".oxps": "XPS", ".fb2": "FB2",
             ".mobi": "MOBI", ".md": "Markdown", ".markdown": "Markdown"}  # fmt: skip


def supported_kinds() -> str:
    """What is read, by kind a user knows, each with its extensions: "Word (.doc, .docx, ...)"."""
    families: dict[str, list[str]] = {}
    for suffix in sorted(TEXT_SUFFIXES | MUPDF_SUFFIXES):
        if suffix in _FAMILIES:
            family = _FAMILIES[suffix]
        elif suffix in TEXT_SUFFIXES:
            family = "text"
        else:
            family = formats.kind_name(suffix).split()[0]
            family = {"Outlook": "e-mail"}.get(family, family)
        families.setdefault(family, []).append(suffix)
    order = ["PDF", "Word", "PowerPoint", "Excel", "OpenDocument", "e-mail", "HTML", "RTF",
             "EPUB", "XPS", "FB2", "MOBI", "text", "Markdown"]  # fmt: skip
    ranked = sorted(families, key=lambda f: order.index(f) if f in order else len(order))
    return ", ".join(f"{family} ({' '.join(families[family])})" for family in ranked)


PDF_MAGIC = re.compile(rb"%PDF-")

# Input limits (docs/performance.md "Limits"): the checks below run on the file's
# metadata and a prefix, so a huge or hostile file is refused before it is read.
MAX_TEXT_BYTES = 128 * 1024 * 1024  # text files; larger ones are refused, never read
PREFIX_BYTES = 64 * 1024  # what type checks read
# Zip-based formats: MuPDF lays out all of an EPUB's markup to count its pages,
# using about 25 bytes of memory per byte of markup; a zip bomb would take all
# memory. The declared (uncompressed) size of the non-media entries is capped.
MAX_MARKUP_BYTES = 16 * 1024 * 1024
_ZIP_FORMATS = frozenset({".epub", ".xps", ".oxps"})
_MEDIA_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".jxr", ".wdp",
    ".ttf", ".otf", ".odttf", ".woff", ".woff2", ".mp3", ".mp4", ".m4a", ".ogg", ".icc",
)  # fmt: skip
# Extracted text of PDF-like documents: every character carries its page, box
# and position (about 150 bytes a character while extracting), so 8 million
# characters (~3,000 dense pages) peak near 1.3 GB; more is refused.
MAX_DOCUMENT_CHARS = 8_000_000
# Formats MuPDF converts to HTML whole (FB2 is XML, MOBI compressed HTML).
MAX_CONVERTED_BYTES = {".fb2": 32 * 1024 * 1024, ".mobi": 32 * 1024 * 1024}
MAX_CONVERTED_BYTES |= formats.MAX_FILE_BYTES  # formats hook: Office, HTML, RTF, e-mail
# Any other document (PDF, EPUB, XPS): past this, hashing alone takes many seconds and
# MuPDF may scan it all (a 1 TiB sparse "%PDF" file kept it busy for half an hour).
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024 * 1024
# The overall time one read of a document may take (conversion, layout, extraction), OCR
# pages apart (each has its own limit and shows progress: each one started extends this),
# plus ``PAGE_ALLOWANCE`` a page once the page count is known. A 352-page book reads in
# 6 s of CPU (23 s on a loaded 2-core machine: 65 ms a page), a 4 MB Office file converts
# in 5-20 s; a file that keeps a reader busy longer is hostile or damaged.
# ``DESKTOP_QA_READ_SECONDS`` changes READ_SECONDS.
READ_SECONDS = 120.0
PAGE_ALLOWANCE = 0.5


def read_seconds() -> float:
    """``READ_SECONDS``, or ``DESKTOP_QA_READ_SECONDS`` where it is set to a number."""
    try:
        value = float(os.environ.get("DESKTOP_QA_READ_SECONDS", ""))
    except ValueError:
        return READ_SECONDS
    return value if value > 0 else READ_SECONDS


class Deadline:
    """The time limit of one read, as a cancel function: True once the caller cancels or
    the time is up. ``expired`` tells the two apart; ``extend`` gives more time for
    progress that has its own limit (an OCR page)."""

    def __init__(self, seconds: float, cancel: Callable[[], bool] | None = None) -> None:
        self.seconds = seconds
        self.cancel = cancel
        self.due = time.monotonic() + seconds
        self._paged = False

    @property
    def expired(self) -> bool:
        return time.monotonic() > self.due

    def extend(self, seconds: float) -> None:
        self.due = max(self.due, time.monotonic() + seconds)

    def allow_pages(self, pages: int) -> None:
        """A document of ``pages`` pages: ``PAGE_ALLOWANCE`` more for each (set once)."""
        if not self._paged:
            self._paged = True
            self.due += pages * PAGE_ALLOWANCE

    def __call__(self) -> bool:
        return bool(self.cancel is not None and self.cancel()) or self.expired

    def error(self, path: Path) -> UserError:
        """The one line past the limit."""
        return UserError(
            f"{path} took longer than {self.seconds:g} s to read, the limit for one "
            "document (a damaged or hostile file?); re-save it in another format or split it"
        )


def size_limit(path: str | os.PathLike[str]) -> tuple[int, str, str]:
    """(bytes, what, advice) for a file of this name: the one table of input sizes."""
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return MAX_TEXT_BYTES, "text files", "split it into smaller files"
    limit = MAX_CONVERTED_BYTES.get(suffix)
    if limit is not None:
        return limit, f"{suffix[1:].upper()} files", "convert it to PDF and open that"
    return MAX_DOCUMENT_BYTES, "documents", "split it into smaller documents"


def check_size(path: str | os.PathLike[str], size: int) -> None:
    """Refuse a file over its size limit from its metadata alone (it is never read)."""
    limit, what, advice = size_limit(path)
    if size > limit:
        raise UserError(f"{path} is {mb(size)}, over the {mb(limit)} limit for {what}; {advice}")


def too_much_text(path: Path, pages: int, total: int) -> UserError:
    """The line for a document past the text limit: found while reading, so it names the page."""
    return UserError(
        f"{path} holds more than {MAX_DOCUMENT_CHARS:,} characters of text "
        f"(the limit, reached on page {pages} of {total}); split it into smaller documents"
    )


def _check_path(path: Path) -> os.stat_result:
    """stat the path once; every failure is one line naming the file and what to do."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if held_elsewhere(exc):  # Windows: errno EACCES, but no permission is missing
            raise unreadable(path, exc) from None
        if exc.errno == errno.ENAMETOOLONG:
            raise UserError(
                f"{_short_name(path)}: the file name or path is too long for this system; "
                "rename the file or move it to a shorter path"
            ) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise UserError(f"{path}: file not found; check the path and try again") from None
        if exc.errno == errno.EACCES:
            raise UserError(
                f"{path}: permission denied; make the file readable and try again"
            ) from None
        if exc.errno == errno.ELOOP:
            raise UserError(f"{path}: too many levels of symbolic links; check the path") from None
        raise UserError(f"{path}: cannot read the file ({exc.strerror or exc}); check it") from None
    except ValueError:  # embedded NUL
        raise UserError(f"{path!r}: not a valid file name; check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{path} is a folder; pass a PDF or text file ({SUPPORTED})")
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: permission denied; make the file readable and try again")
    if st.st_size == 0:
        raise UserError(f"{path} is empty; pass a document that contains text")
    return st


def _short_name(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """Read-only (user documents are never written); at most ``limit`` bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read() if limit is None else fh.read(limit)
    except OSError as exc:
        raise unreadable(path, exc) from None


def check_input(path: str | os.PathLike[str]) -> str:
    """The path and type checks of ``load_document``, on metadata and a prefix only.

    Returns the kind (``"text"`` or the PyMuPDF file type). Cheap, so it runs
    before every open, cached or not: the cache must never answer for a file
    that would be refused cold (``simple.txt`` copied as ``fake.docx``).
    """
    path = Path(path).expanduser()
    st = _check_path(path)
    suffix = path.suffix.lower()
    if stat.S_ISREG(st.st_mode):
        check_size(path, st.st_size)
    _check_disguise(path, suffix, read_bytes(path, 1024))
    if suffix in TEXT_SUFFIXES:
        if looks_binary(decode_text(read_bytes(path, PREFIX_BYTES))):
            raise UserError(f"{path} does not look like a text file; pass a PDF or text file")
        return "text"
    if suffix in formats.SUFFIXES:  # formats hook: converted before MuPDF lays them out
        return formats.check(path)
    head = read_bytes(path, 1024)
    if suffix in MUPDF_SUFFIXES:
        kind = suffix.lstrip(".")
        if suffix == ".pdf" and not PDF_MAGIC.search(head):
            raise UserError(
                f"{path} is not a PDF (no %PDF header at its start); the file may be damaged "
                "or of another type: re-export or re-download it"
            )
        if suffix in _ZIP_FORMATS:
            _check_zip(path, kind.upper())
        return kind
    if PDF_MAGIC.search(head):
        return "pdf"
    raise UserError(
        f"{path}: unsupported file type '{suffix or 'none'}'; save or export it as one of the "
        f"kinds read here (most applications can print to PDF): {supported_kinds()}"
    )


# What a file is, from its first bytes, where a name says otherwise: (what, its suffix).
_MAGIC = (
    (b"%PDF-", "a PDF", ".pdf"),
    (b"PK\x03\x04", "a zip archive (an Office, OpenDocument or EPUB file?)", ""),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Office file", ""),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", ".png"),
    (b"\xff\xd8\xff", "a JPEG image", ".jpg"),
    (b"GIF8", "a GIF image", ".gif"),
    (b"{\\rtf", "an RTF document", ".rtf"),
)
_MARKUP_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".eml"})


def _check_disguise(path: Path, suffix: str, head: bytes) -> None:
    """Content is read by what it is, not by its name: a file whose first bytes say it is
    something else than its suffix promises (a PDF named ``.html``, a zip named ``.txt``)
    is refused in one line saying what it is, instead of being read as what it is not
    (a PDF read as a web page had "no answer", read in full). Container and PDF suffixes
    have their own checks; this guards the text-like ones, whose readers take anything."""
    if suffix not in TEXT_SUFFIXES and suffix not in _MARKUP_SUFFIXES:
        return
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, what, real in _MAGIC:
        if start.startswith(magic) and real != suffix:
            fix = f"rename it to end in {real}" if real else "open it with the app that made it"
            raise UserError(
                f"{path} is {what}, not {_named(suffix)} as its name says; {fix} and try again"
            )


def _named(suffix: str) -> str:
    if suffix in TEXT_SUFFIXES:
        return "a text file"
    return "an e-mail" if suffix == ".eml" else "a web page"


def _check_zip(path: Path, what: str) -> None:
    """EPUB/XPS are zip files: refuse a bomb from the central directory, before MuPDF."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            markup = sum(
                info.file_size
                for info in archive.infolist()
                if not info.filename.lower().endswith(_MEDIA_SUFFIXES)
            )
            if markup <= MAX_MARKUP_BYTES and what == "EPUB":
                budget.check_epub_nesting(archive, str(path))  # MuPDF drops deep text
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise UserError(
            f"{path} cannot be opened as {what} ({short_reason(exc)}); the file may be damaged or "
            f"not a {what}: re-export or re-download it"
        ) from None
    if markup > MAX_MARKUP_BYTES:
        raise unpacks_too_much(
            path,
            markup,
            "text and markup",
            MAX_MARKUP_BYTES,
            f"{what} files",
            "split it or convert it to PDF",
        )


def is_pdf(path: Path) -> bool:
    """Only PDFs carry passwords; EPUB and friends are never opened twice (layout is costly)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return True
    if suffix in MUPDF_SUFFIXES or suffix in TEXT_SUFFIXES:
        return False
    try:
        with open(path, "rb") as fh:  # read-only
            return bool(PDF_MAGIC.search(fh.read(1024)))
    except OSError:
        return False
