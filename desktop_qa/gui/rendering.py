"""The render thread of the page view: pages drawn by PyMuPDF off the UI thread.

Only the newest request is kept ("latest request wins"): scrolling fast asks
for the pages now in view and drops what was asked before. It runs on the
shared single-thread PyMuPDF pool (PyMuPDF is not thread-safe), and hands
back each page as a QImage in the screen's own format.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktop_qa.core import formats
from desktop_qa.core.document import MUPDF_SUFFIXES
from desktop_qa.gui.compat import emit_from


class _RenderJob(QRunnable):
    def __init__(self, renderer: PageRenderer) -> None:
        super().__init__()
        self.renderer = renderer

    def run(self) -> None:
        self.renderer.work()


class PageRenderer(QObject):
    """Renders pages on the PyMuPDF pool; only the newest request is kept.

    The PyMuPDF document is opened (read-only: nothing here ever saves) and
    closed on the pool thread only, since PyMuPDF is not thread-safe.
    """

    rendered = Signal(int, int, float, QImage)  # generation, page, scale, image

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._lock = threading.Lock()
        self._wanted: list[tuple[int, float]] = []
        self._running = False
        self._generation = 0
        self._path: Path | None = None
        self._password: str | None = None
        self._mdoc = None  # touched only on the pool thread
        self._mdoc_generation = -1
        self.renders = 0  # pages rendered so far (tests, benchmarks)

    @property
    def generation(self) -> int:
        return self._generation

    def set_path(self, path: Path | None, password: str | None = None) -> int:
        with self._lock:
            self._generation += 1
            self._path = path
            self._password = password
            self._wanted = []
            self._kick()
            return self._generation

    def request(self, items: Sequence[tuple[int, float]]) -> None:
        """Replace whatever is still waiting by ``items`` (page, scale in px per point)."""
        with self._lock:
            self._wanted = list(items)
            if self._wanted:
                self._kick()

    def pending(self) -> int:
        with self._lock:
            return len(self._wanted) + (1 if self._running else 0)

    def _kick(self) -> None:
        if not self._running:
            self._running = True
            self.pool.start(_RenderJob(self))

    def _open(self, generation: int, path: Path | None) -> None:
        if self._mdoc is not None and self._mdoc_generation == generation:
            return
        if self._mdoc is not None:
            self._mdoc.close()
            self._mdoc = None
        self._mdoc_generation = generation
        if path is None:
            return
        import pymupdf

        suffix = path.suffix.lower()
        filetype = suffix.lstrip(".") if suffix in MUPDF_SUFFIXES else "pdf"
        if suffix in formats.SUFFIXES:  # converted and laid out exactly as when it was read
            self._mdoc = formats.open_laid_out(path)
        else:
            self._mdoc = pymupdf.open(str(path), filetype=filetype)
        if self._mdoc.needs_pass and self._password is not None:
            self._mdoc.authenticate(self._password)

    def work(self) -> None:
        """The pool thread's loop: render what is wanted until nothing is (one job at a time)."""
        while True:
            with self._lock:
                generation, path = self._generation, self._path
                if not self._wanted:
                    try:
                        if path is None:
                            self._open(generation, None)  # close on the pool thread
                    finally:
                        self._running = False
                    return
                page_no, scale = self._wanted.pop(0)
            try:
                self._open(generation, path)
                if self._mdoc is None or not 0 <= page_no < self._mdoc.page_count:
                    continue
                image = self._render(page_no, scale)
            except Exception:  # a damaged page stays blank; never kill the pool
                image = QImage()
            self.renders += 1
            emit_from(self, "rendered", generation, page_no, scale, image)  # window may be gone

    def _render(self, page_no: int, scale: float) -> QImage:
        """The page in the screen's own format (RGB32), converted here on the pool thread:
        ``QPixmap.fromImage`` on the UI thread is then free instead of a per-page copy."""
        import pymupdf

        page = self._mdoc.load_page(page_no)
        pix = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
        image = QImage(pix.samples, pix.width, pix.height, pix.stride, QImage.Format.Format_RGB888)
        return image.convertToFormat(QImage.Format.Format_RGB32)  # owns its pixels
