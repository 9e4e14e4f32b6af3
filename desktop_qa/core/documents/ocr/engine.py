"""Running Tesseract on one page: render it, recognise the image, in a child process.

Tesseract runs inside MuPDF's C code and cannot be interrupted from Python,
so a page runs in a child process (``core.system.child``) that a time-out or a
cancel kills at once; if no child can be started, OCR runs in this process,
without the time limit. ``core.documents.ocr.pages`` decides which pages and in what order.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from desktop_qa.core.system import child

# Render resolution for Tesseract; pages too large for it are rendered at a lower
# one so that no image exceeds MAX_PIXELS (bounded time and memory per page).
DPI = 300
MAX_PIXELS = 9_000_000

CancelFn = Callable[[], bool]


class PageTimeout(child.ChildTimeout):
    """A page took longer than the per-page limit."""


def render_dpi(page: Any, dpi: int = DPI) -> int:
    """``dpi``, lowered so that the page's image stays under MAX_PIXELS."""
    w_in, h_in = page.rect.width / 72.0, page.rect.height / 72.0
    limit = (MAX_PIXELS / max(w_in * h_in, 1e-6)) ** 0.5
    return max(36, int(min(dpi, limit)))


def render(page: Any, dpi: int = DPI) -> tuple[Any, float]:
    """The page as an RGB pixmap at ``dpi`` (lowered to stay under MAX_PIXELS).

    RGB, not grey: MuPDF's Tesseract output silently finds no words in a grey pixmap.
    """
    import pymupdf

    dpi = render_dpi(page, dpi)
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB, alpha=False)
    return pix, dpi


def ocr_page_pdf(
    data: bytes, dpi: int, languages: str, tessdata: str
) -> list[tuple[float, float, float, float, str]]:
    """A page sent as a one-page PDF: rendered at ``dpi`` and recognised, here in the OCR
    child. MuPDF keeps Python's GIL while it renders a page at 300 dpi (up to a second on
    a busy machine): done in the app, that froze its window for as long."""
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    with pymupdf.open("pdf", data) as doc:
        pix, _dpi = render(doc[0], dpi)
    return ocr_pixels(pix.samples, pix.width, pix.height, dpi, languages, tessdata)


def ocr_pixels(
    samples: bytes, width: int, height: int, dpi: int, languages: str, tessdata: str
) -> list[tuple[float, float, float, float, str]]:
    """Tesseract on an RGB image: words as (x0, y0, x1, y1, text) in image pixels."""
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    pix = pymupdf.Pixmap(pymupdf.csRGB, width, height, samples, False)
    pix.set_dpi(dpi, dpi)
    data = pix.pdfocr_tobytes(compress=False, language=languages, tessdata=tessdata)
    with pymupdf.open("pdf", data) as doc:
        page = doc[0]
        scale = width / page.rect.width if page.rect.width else 1.0
        return [
            (w[0] * scale, w[1] * scale, w[2] * scale, w[3] * scale, w[4])
            for w in page.get_text("words")
            if w[4].strip()
        ]


def _ocr_job(job: tuple[Any, ...], note: Any) -> list[tuple[float, float, float, float, str]]:
    """In the OCR child (``core.system.child``): one page's (or image's) words."""
    if job and job[0] == "page":
        return ocr_page_pdf(*job[1:])
    return ocr_pixels(*job)


@contextlib.contextmanager
def quiet_c_stderr() -> Iterator[None]:
    """The C-level stderr (fd 2) to the null device meanwhile: OCR engine noise off the
    terminal when OCR runs in-process (the child process silences its own for good)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class OcrRunner:
    """Runs page OCR in a child process that is killed on time-out or cancel.

    The child's C stderr goes to the null device: Tesseract prints
    diagnostics ("Line cannot be recognized!!") there, and the CLI keeps its
    one-line error contract. It dies with its parent (a library worker killed
    past its limit cannot stop it, and Tesseract in C never looks at the pipe).
    """

    def __init__(self, *, in_process: bool = False) -> None:
        self.in_process = in_process
        self._runner = child.Runner(
            _ocr_job, start_method="spawn", daemon=True, quiet_stderr=True, name="desktop-qa-ocr"
        )

    def __enter__(self) -> OcrRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def kill(self) -> None:
        """Stop the page being read at once (a cancel); the next page starts a new child."""
        self._runner.kill()

    def close(self) -> None:
        """End the child process: OCR is done."""
        self._runner.close()

    def run(
        self, job: tuple[Any, ...], seconds: float, cancel: CancelFn | None
    ) -> list[tuple[float, float, float, float, str]]:
        """OCR one image; raise PageTimeout, Cancelled or RuntimeError (engine failed)."""
        if not self.in_process:
            try:
                return self._runner.call(job, seconds, cancel)
            except child.ChildUnavailable:  # no processes here: OCR in-process, no time limit
                self.in_process = True
            except child.ChildTimeout:
                raise PageTimeout() from None
            except child.ChildCrashed:
                raise RuntimeError("the OCR process ended unexpectedly") from None
            except child.ChildError as exc:
                raise RuntimeError(str(exc)) from None
        with quiet_c_stderr():  # Tesseract's "Line cannot be recognized!!" and such
            return _ocr_job(job, None)
