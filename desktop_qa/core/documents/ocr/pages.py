"""OCR of pages without a usable text layer: Tesseract (built into PyMuPDF), every word's box.

A scanned page gives no words to ``page.get_text``. Here the page is rendered
to an image, Tesseract (compiled into the PyMuPDF wheel) reads it, and
its words come back with their boxes in page coordinates, so
``pdf._extract_page`` puts them in the same text, page and box arrays as
native words: passages, the keyword index, the reader and highlights need no
special case.

Why each part is the way it is:

* **A child process** (``core.documents.ocr.engine``). Tesseract runs inside MuPDF's C
  code and cannot be interrupted from Python, so a page that takes longer than
  ``PAGE_SECONDS`` or a user's cancel kills its child at once (a new one starts
  for the next page).
* **Reading order by columns** (``core.documents.ocr.layout``). Tesseract's own line order
  runs across the gutter of a two-column page; ``reading_order`` reads each
  column top to bottom and keeps table rows as rows.
* **Language data from a package** (``core.documents.ocr.languages``): the one folder
  holding a request's languages is passed to PyMuPDF, never taken from
  ``TESSDATA_PREFIX``.
* **Resumable.** Each page's words are stored as soon as it is read
  (``ocr.store.PageStore``, keyed by the file's hash and ``OcrOptions.signature``), so
  a cancelled 40-page OCR resumes where it stopped on the next open.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop_qa.core.documents.ocr.engine import DPI, CancelFn, OcrRunner, render, render_dpi
from desktop_qa.core.documents.ocr.languages import DEFAULT_LANGUAGES, resolve_languages
from desktop_qa.core.documents.ocr.layout import Word, reading_order
from desktop_qa.core.documents.ocr.store import PageStore
from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.system import files

ENGINE = "tesseract"
MODES = ("auto", "never", "always")
PAGE_SECONDS = 60.0  # per-page time limit; a page over it is skipped (no text)
# A page is OCR'd in auto mode when it has no usable text: fewer than this many
# readable characters and something visible, or mostly unreadable characters.
MIN_CHARS = 30
MAX_BAD_SHARE = 0.10

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class OcrOptions:
    """How a document is OCR'd; ``signature`` is what its cache entry depends on.

    ``scanning(done, total)`` is called as the pages are checked for a usable
    text layer before any is read (the GUI shows "Looking for scanned pages");
    ``progress(i, n)`` before the i-th of the n pages that need OCR (the GUI
    shows "OCR: page i of n scanned pages"); ``resume_key`` (the file's sha256) lets finished
    pages of an interrupted OCR be reused.
    """

    mode: str = "auto"
    languages: str = DEFAULT_LANGUAGES
    page_seconds: float = PAGE_SECONDS
    dpi: int = DPI
    resume_key: str = ""
    progress: ProgressFn | None = field(default=None, compare=False, repr=False)
    scanning: ProgressFn | None = field(default=None, compare=False, repr=False)
    # Pages OCR'd at once, each in its own child process: 0 means one per physical
    # core (the CLI), the app leaves one core for its window, a library worker
    # (already one per core) uses 1. Not part of the signature: the result is the same.
    jobs: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UserError(
                f"must be one of {', '.join(MODES)} (got '{self.mode}')", setting="ocr_mode"
            )

    def with_key(self, key: str) -> OcrOptions:
        """The same options for one file (its sha256), so its finished pages are kept."""
        return replace(self, resume_key=key)

    def signature(self) -> str:
        """Engine, language data and settings: a different value must not reuse a result."""
        if self.mode == "never":
            return "never"
        try:
            folder, langs = resolve_languages(self.languages)
            data = ",".join(
                f"{lang}:{_file_digest(folder / f'{lang}.traineddata')}" for lang in langs
            )
        except UserError:
            data = f"missing:{self.languages}"  # load_mupdf reports it if a page needs OCR
        return f"{self.mode}|{ENGINE}|pymupdf {_pymupdf_version()}|{data}|dpi {self.dpi}|v1"


@functools.lru_cache(maxsize=1)
def _pymupdf_version() -> str:
    """PyMuPDF's release (it fixes MuPDF's and Tesseract's), without importing it if possible.

    A cached open must stay fast, and importing PyMuPDF takes a second or more.
    """
    import importlib.util

    # The installed dist-info folder names the release: importing importlib.metadata
    # alone (email parsers and all) took 0.05-0.3 s of a CLI start.
    spec = importlib.util.find_spec("pymupdf")
    if spec is not None and spec.origin:
        site_dir = Path(spec.origin).parent.parent
        try:
            names = os.listdir(site_dir)
        except OSError:
            names = []
        found = [
            n[len("pymupdf-") : -len(".dist-info")]
            for n in names
            if n.lower().startswith("pymupdf-") and n.endswith(".dist-info")
        ]
        if len(found) == 1:
            return found[0]
    import importlib.metadata

    try:
        return importlib.metadata.version("pymupdf")
    except importlib.metadata.PackageNotFoundError:  # a bundle without the metadata
        import pymupdf

        return str(pymupdf.VersionBind)


@functools.lru_cache(maxsize=32)
def _digest_cached(path: str, size: int, mtime: float) -> str:
    return files.sha256_file(path)[:16]


def _file_digest(path: Path) -> str:
    st = path.stat()
    return _digest_cached(str(path), st.st_size, st.st_mtime)


# -- which pages ------------------------------------------------------------------


# Characters that make a text layer unusable: U+FFFD, control characters other than
# tab and line ends, private-use glyphs. Counted in C: every page of every new document
# is checked, and a Python loop over its characters took a third of a book's extraction.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\ue000-\uf8ff]")


def needs_ocr(page: Any, words: Sequence[Word], mode: str) -> bool:
    """Whether a page's text layer is unusable (none, too little, or mostly garbage)."""
    if mode == "never":
        return False
    if mode == "always":
        return True
    chars = "".join(w[4] for w in words)
    bad = len(_BAD_CHARS.findall(chars))
    good = len(chars) - bad
    if chars and bad / len(chars) > MAX_BAD_SHARE:
        return True
    if good >= MIN_CHARS:
        return False
    if good == 0:
        return _shows_something(page)
    # A little text (a stamp, a page number) on a page-sized image: a scan.
    return _image_cover(page) >= 0.5


def _shows_something(page: Any) -> bool:
    """A coarse grey rendering is not one uniform tone (blank, or a flat fill)."""
    import pymupdf

    try:
        pix = page.get_pixmap(dpi=24, colorspace=pymupdf.csGRAY, alpha=False)
        return max(pix.samples) - min(pix.samples) >= 32 if pix.samples else False
    except Exception:
        return False


def _image_cover(page: Any) -> float:
    """Largest share of the page area one image covers."""
    try:
        area = abs(page.rect) or 1.0
        best = 0.0
        for info in page.get_image_info():
            x0, y0, x1, y1 = info["bbox"]
            best = max(best, max(0.0, x1 - x0) * max(0.0, y1 - y0) / area)
        return best
    except Exception:
        return 0.0


def ocr_page(
    page: Any,
    options: OcrOptions,
    runner: OcrRunner,
    cancel: CancelFn | None = None,
) -> list[Word]:
    """The page's words in reading order, boxes in the page's (unrotated) coordinates."""
    job, matrix = _page_job(page, options)
    return _page_words(runner.run(job, options.page_seconds, cancel), matrix)


def _page_job(page: Any, options: OcrOptions) -> tuple[tuple[Any, ...], Any]:
    """The child's job for a page and the matrix back to page points.

    Runs in the thread that owns the PyMuPDF document (MuPDF is not thread-safe). A PDF
    page goes to the child as a one-page PDF (copied, not drawn: milliseconds), which the
    child renders: rendering at 300 dpi holds Python's GIL, and here it froze the window.
    Other documents' pages are rendered here, as an image.
    """
    import pymupdf

    folder, langs = resolve_languages(options.languages)
    data = _one_page_pdf(page)
    if data is not None:
        dpi = render_dpi(page, options.dpi)
        job: tuple[Any, ...] = ("page", data, dpi, "+".join(langs), str(folder))
    else:
        pix, dpi = render(page, options.dpi)
        job = (pix.samples, pix.width, pix.height, dpi, "+".join(langs), str(folder))
    # Image pixels -> rotated page points -> the unrotated coordinates of get_text.
    return job, pymupdf.Matrix(72.0 / dpi, 72.0 / dpi) * page.derotation_matrix


def _one_page_pdf(page: Any) -> bytes | None:
    """The page alone as PDF bytes (its image streams copied as they are), or None when the
    document is no PDF or the copy fails (the page is then rendered here)."""
    import pymupdf

    doc = page.parent
    if doc is None or not getattr(doc, "is_pdf", False):
        return None
    try:
        single = pymupdf.open()
        try:
            single.insert_pdf(doc, from_page=page.number, to_page=page.number)
            return bytes(single.tobytes())
        finally:
            single.close()
    except Exception:
        return None


def _page_words(raw: list[tuple[float, float, float, float, str]], matrix: Any) -> list[Word]:
    import pymupdf

    words = []
    for x0, y0, x1, y1, text in raw:
        r = pymupdf.Rect(x0, y0, x1, y1) * matrix
        words.append((r.x0, r.y0, r.x1, r.y1, text))
    return reading_order(words)


def ocr_jobs(requested: int = 0) -> int:
    """Pages OCR'd at once: ``requested``, or one per physical core when 0."""
    if requested > 0:
        return requested
    from desktop_qa.core.system.runtime import physical_cores

    return max(1, physical_cores())


class DocumentOcr:
    """The OCR of one document's pages, as extraction reaches them.

    Starts the child process on the first page that needs it, reuses stored
    pages (``PageStore``) and counts pages that failed. A missing language is
    remembered, not raised: it matters only if the document has no text at all.
    """

    def __init__(
        self,
        options: OcrOptions,
        cancel: CancelFn | None = None,
        upcoming: Callable[[int], Iterator[tuple[int, Any]]] | None = None,
    ) -> None:
        """``upcoming(page_no)``: the pages after ``page_no`` that need OCR, as
        (number, page), in order; with it, up to ``options.jobs`` pages are OCR'd at
        once, each in its own child (rendered here, read in parallel, taken in order)."""
        self.options = options
        self.cancel = cancel
        self.pages = 0  # pages that needed OCR
        self.failed = 0  # ... and could not be read (time limit, engine error)
        self.language_error: UserError | None = None
        self._runner: OcrRunner | None = None
        self._store: PageStore | None = None
        self._upcoming = upcoming
        self._ahead: Iterator[tuple[int, Any]] | None = None
        self._jobs = ocr_jobs(options.jobs) if upcoming is not None else 1
        self._pool: Any = None  # ThreadPoolExecutor, one thread per child
        self._free: list[OcrRunner] = []
        self._runners: list[OcrRunner] = []
        self._pending: dict[int, Any] = {}  # page number -> Future of its words
        self._planned: dict[int, int] | None = None  # page number -> its rank among the scanned

    def plan(self, pages: Sequence[int]) -> None:
        """The pages that need OCR, found before any is read: ``progress`` counts out of them."""
        self._planned = {page_no: i for i, page_no in enumerate(pages)}

    def stored(self, page_no: int) -> list[Word] | None:
        """The page's words if an earlier OCR of this file stored them, else None."""
        if not self.options.resume_key:
            return None
        if self._store is None:
            self._store = PageStore(self.options.resume_key, self.options.signature())
        words = self._store.get(page_no)
        if words is not None:
            self.pages += 1
        return words

    def read(self, page: Any, page_no: int, total: int) -> list[Word] | None:
        """The page's OCR'd words, or None when it could not be read."""
        self.pages += 1
        if self.cancel is not None and self.cancel():
            raise Cancelled()
        if self.options.progress is not None:
            planned = self._planned
            if planned is not None and page_no in planned:
                self.options.progress(planned[page_no] + 1, len(planned))
            else:
                self.options.progress(page_no + 1, total)
        try:
            resolve_languages(self.options.languages)
        except UserError as exc:
            self.language_error = exc
            self.failed += 1
            return None
        if self._store is None and self.options.resume_key:
            self._store = PageStore(self.options.resume_key, self.options.signature())
        future = self._pending.pop(page_no, None)
        words = None
        if future is None:
            words = self._store.get(page_no) if self._store is not None else None
            if words is not None:
                return words
        try:
            if self._jobs > 1:
                if future is None:
                    future = self._submit(page_no, page)
                self._fill(page_no)
                words = self._result(future)
            else:
                if self._runner is None:
                    self._runner = OcrRunner()
                words = ocr_page(page, self.options, self._runner, self.cancel)
        except (UserError, Cancelled):
            raise
        except Exception:  # time limit, engine error, broken page: skip it
            self.failed += 1
            return None
        if self._store is not None:
            self._store.put(page_no, words)
        return words

    # -- pages in parallel ----------------------------------------------------------------
    def _submit(self, page_no: int, page: Any) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._jobs, thread_name_prefix="desktop-qa-ocr")
        job, matrix = _page_job(page, self.options)  # MuPDF work stays in this thread

        def work() -> list[Word]:
            runner = self._free.pop() if self._free else self._new_runner()
            try:
                raw = runner.run(job, self.options.page_seconds, self.cancel)
            finally:
                self._free.append(runner)
            return _page_words(raw, matrix)

        return self._pool.submit(work)

    def _new_runner(self) -> OcrRunner:
        runner = OcrRunner()
        self._runners.append(runner)
        return runner

    def _fill(self, page_no: int) -> None:
        """Keep ``jobs`` pages in flight: the next ones needing OCR, not stored already."""
        if self._upcoming is None:
            return
        if self._ahead is None:
            self._ahead = self._upcoming(page_no)
        while len(self._pending) < self._jobs - 1:
            nxt = next(self._ahead, None)
            if nxt is None:
                return
            number, page = nxt
            if number <= page_no or number in self._pending:
                continue
            if self._store is not None and self._store.get(number) is not None:
                continue  # resumed: read from the store when its turn comes
            try:
                self._pending[number] = self._submit(number, page)
            except (UserError, Cancelled):
                raise
            except Exception:  # a page that cannot be rendered fails on its own turn
                continue

    @staticmethod
    def _result(future: Any) -> list[Word]:
        return future.result()

    def close(self, *, finished: bool) -> None:
        """Stop the children; drop the stored pages once the whole document was read."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        for runner in self._runners:
            runner.kill()  # a page still being read when cancelled: stop it now
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for runner in self._runners:
            runner.close()
        self._runners.clear()
        self._free.clear()
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._store is not None:
            if finished and not self.failed:
                self._store.remove()  # the document's cache entry holds the result now
            else:
                self._store.close()
            self._store = None
            PageStore.prune()


def progress_text(done: int, total: int) -> str:
    """The status line the GUI shows while OCR runs: counted out of the scanned pages."""
    return f"OCR: page {done} of {total} scanned page{'s' if total != 1 else ''}"
