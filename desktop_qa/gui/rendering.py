"""The render thread of the page view: pages drawn by MuPDF off the UI thread.

Only the newest request is kept ("latest request wins"): scrolling fast asks
for the pages (at high zoom, the tiles of pages: ``core.documents.render.tiles``)
now in view and drops what was asked before. A piece already being drawn is
never asked again (one draw per request), and a piece once drawn is kept by
the view, so a view left alone asks for nothing and costs no CPU. The loop runs on
the shared single-thread PyMuPDF pool; the drawing itself is done in a child
process (``core.documents.render``: MuPDF keeps the GIL while it draws, and a page it
never finishes must not hang the window), and each page comes back as a
QImage in the screen's own format. A page that cannot be drawn is reported
once as a null image and not asked for again.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktop_qa.core.documents.render import Clip, DrawJob, PageDrawer, PageImage
from desktop_qa.gui.compat import emit_from

Piece = tuple[int, float, Clip | None]  # page, scale, tile (None: the whole page)


class _RenderJob(QRunnable):
    def __init__(self, renderer: PageRenderer) -> None:
        super().__init__()
        self.renderer = renderer

    def run(self) -> None:
        self.renderer.work()


def to_qimage(page: PageImage) -> QImage:
    """The page in the screen's own format (RGB32), converted here on the pool thread:
    ``QPixmap.fromImage`` on the UI thread is then free instead of a per-page copy."""
    image = QImage(page.samples, page.width, page.height, page.stride, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)  # owns its pixels


class PageRenderer(QObject):
    """Renders pages on the PyMuPDF pool (drawn in a child); only the newest request is kept.

    The ``PageDrawer`` (its child process, and the document the warm-up opens
    here, read-only) is used and closed on the pool thread only.
    """

    # generation, page, scale, clip (the tile: a Clip, or None for the whole page), image
    # (a null image: the page could not be drawn)
    rendered = Signal(int, int, float, object, QImage)

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._lock = threading.Lock()
        self._wanted: list[Piece] = []
        self._drawing: Piece | None = None  # in hand on the pool thread: never asked twice
        self._sent: set[Piece] = set()  # drawn, on its way to the view: not asked again
        self._running = False
        self._closing = False
        self._generation = 0
        self._path: Path | None = None
        self._password: str | None = None
        self._failed: set[int] = set()  # pages of this generation that could not be drawn
        self.drawer = PageDrawer()  # touched only on the pool thread
        self.renders = 0  # pages (tiles) rendered so far (tests, benchmarks)
        self.draws: Counter[tuple[int, Piece]] = Counter()  # (generation, piece): times drawn

    @property
    def generation(self) -> int:
        return self._generation

    def set_path(self, path: Path | None, password: str | None = None) -> int:
        with self._lock:
            self._generation += 1
            self._path = path
            self._password = password
            self._wanted = []
            self._sent = set()
            self._failed = set()
            self._kick()
            return self._generation

    def request(self, items: Sequence[Piece | tuple[int, float]]) -> None:
        """Replace whatever is still waiting by ``items``: (page, scale in px per point, clip)
        (a clip of None, or a (page, scale) pair: the whole page). Pages that could not be
        drawn, the piece being drawn now and pieces on their way to the view are not
        asked again (one draw per request)."""
        with self._lock:
            wanted = [(it[0], it[1], it[2] if len(it) > 2 else None) for it in items]
            busy = self._sent | {self._drawing}
            self._wanted = [it for it in wanted if it[0] not in self._failed and it not in busy]
            if self._wanted:
                self._kick()

    def delivered(self, page: int, scale: float, clip: Clip | None) -> None:
        """The view has what was drawn for (page, scale, clip): it may be asked for again
        (once the view has let it go)."""
        with self._lock:
            self._sent.discard((page, scale, clip))

    def pending(self) -> int:
        with self._lock:
            return len(self._wanted) + (1 if self._running else 0)

    def close(self) -> None:
        """Stop the drawing child: at once when idle, else after the page in hand."""
        with self._lock:
            self._closing = True
            self._wanted = []
            if self._running:
                return  # the loop closes the drawer when it ends
            self._running = True  # nobody else touches the drawer now
        self.drawer.close()

    def _kick(self) -> None:
        if not self._running and not self._closing:
            self._running = True
            self.pool.start(_RenderJob(self))

    def work(self) -> None:
        """The pool thread's loop: render what is wanted until nothing is (one job at a time)."""
        while True:
            with self._lock:
                generation, path, password = self._generation, self._path, self._password
                if self._closing or not self._wanted:
                    try:
                        if self._closing:
                            self.drawer.close()
                        elif path is None:
                            self.drawer.close_document()  # no file kept open once closed
                        else:
                            self.drawer.start()  # a document: its child warms up meanwhile
                    finally:
                        self._running = False
                    return
                piece = self._wanted.pop(0)
                if path is None:
                    continue
                self._drawing = piece
            page_no, scale, clip = piece
            job = DrawJob(generation, str(path), password, page_no, scale, clip)
            try:
                page = self.drawer.draw(job, cancel=lambda g=generation: self._generation != g)
                image = QImage() if page is None else to_qimage(page)
            except Exception:  # never kill the pool
                image = QImage()
            with self._lock:
                self._drawing = None
                if generation == self._generation:
                    if image.isNull():
                        self._failed.add(page_no)
                    else:
                        self._sent.add(piece)
            self.renders += 1
            self.draws[(generation, piece)] += 1
            # The window may be gone (emit_from); the view keeps what it asked for.
            emit_from(self, "rendered", generation, page_no, scale, clip, image)

    def failed(self) -> set[int]:
        """The pages of the current document that could not be drawn (left blank)."""
        with self._lock:
            return set(self._failed)
