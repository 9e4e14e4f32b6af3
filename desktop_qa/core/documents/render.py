"""Pages drawn by MuPDF in a child process, so the window never waits on MuPDF.

MuPDF keeps Python's GIL while it draws: every other thread, the UI thread
too, stops for as long as a page takes (the book's cover at 2.5x: 70-120 ms;
``benchmarks/render_stall.py``), and a page MuPDF never finishes would
freeze the window for good. In a child (``core.system.child``) a page costs the
window nothing, one that runs past ``RENDER_SECONDS`` or crashes MuPDF is
given up (the child is replaced), and the next pages still come.

A child needs its first half second or so to import MuPDF. Until it says it
is ready the pages are drawn here, as before, so the first page is not
later than it was; once a child has been ready, pages are only drawn in a
child. Where no process can be started (a sandbox) they are drawn here.

A child that ends (killed from outside, a crash) is started again and the
page asked again of the new one; only a page that ends a child twice, or
raises in MuPDF, is given up. At high zoom a page is drawn in tiles
(``tiles``: at most ``TILE_MAX`` device pixels a side), so memory and time
follow what is in view, not the size of the page at that zoom.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_qa.core.system import child

RENDER_SECONDS = 20.0  # a page past this is given up (blank) and its child replaced
START_SECONDS = 30.0  # a replacement child that is not up by then: pages stay blank
CANCEL_AFTER = 1.0  # a page still drawing this long after its document was left is stopped
TILE_MAX = 1600  # device pixels a side of one drawn piece of a page (qpageview: 2400x1600)
KEPT_PAGES = 4  # pages whose display lists a drawer keeps (their tiles come quicker)

Clip = tuple[int, int, int, int]  # x0, y0, x1, y1 in device pixels of the page at its scale


@dataclass(frozen=True)
class PageImage:
    """A drawn page: RGB, 8 bits a channel, ``stride`` bytes a row."""

    width: int
    height: int
    stride: int
    samples: bytes


@dataclass(frozen=True)
class DrawJob:
    """One page of one opened document (``key`` changes when the document is opened anew)."""

    key: int
    path: str
    password: str | None
    page: int
    scale: float
    clip: Clip | None = None  # one tile of the page (``tiles``); None: the whole page


def page_pixels(width: float, height: float, scale: float) -> tuple[int, int]:
    """The pixel size MuPDF gives a ``width`` x ``height`` point page at ``scale``."""
    return math.ceil(width * scale - 0.001), math.ceil(height * scale - 0.001)


def tiles(width: float, height: float, scale: float, most: int = TILE_MAX) -> list[Clip]:
    """The page at ``scale`` cut into the fewest equal tiles of at most ``most`` pixels a side.

    Row by row; together they cover the page's pixels exactly once, so tiles
    drawn apart join without a seam. A page that fits is one tile, the whole page.
    """
    w, h = page_pixels(width, height, scale)
    cols, rows = max(1, math.ceil(w / most)), max(1, math.ceil(h / most))
    xs = [round(w * i / cols) for i in range(cols + 1)]
    ys = [round(h * j / rows) for j in range(rows + 1)]
    return [(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(cols)]


def open_for_drawing(path: Path, password: str | None) -> Any:
    """The PyMuPDF document to draw ``path`` from: read-only, converted formats laid out as read."""
    import pymupdf

    from desktop_qa.core.documents import formats
    from desktop_qa.core.documents.document import MUPDF_SUFFIXES

    suffix = path.suffix.lower()
    if suffix in formats.SUFFIXES:  # converted and laid out exactly as when it was read
        mdoc = formats.open_laid_out(path)
    else:
        filetype = suffix.lstrip(".") if suffix in MUPDF_SUFFIXES else "pdf"
        mdoc = pymupdf.open(str(path), filetype=filetype)
    if mdoc.needs_pass and password is not None:
        mdoc.authenticate(password)
    return mdoc


def draw(
    mdoc: Any, page_no: int, scale: float, clip: Clip | None = None, source: Any = None
) -> PageImage | None:
    """Page ``page_no`` at ``scale`` pixels per point (only ``clip`` of it, in those pixels),
    or None when there is no such page. ``source``: the page's display list, if kept."""
    import pymupdf

    if not 0 <= page_no < mdoc.page_count:
        return None
    matrix = pymupdf.Matrix(scale, scale)
    if clip is None:
        pix = mdoc.load_page(page_no).get_pixmap(matrix=matrix, alpha=False)
    else:
        if source is None:
            source = mdoc.load_page(page_no)
        x0, y0, x1, y1 = clip
        area = pymupdf.Rect(x0 / scale, y0 / scale, x1 / scale, y1 / scale)
        pix = source.get_pixmap(matrix=matrix, clip=area, alpha=False)
    return PageImage(pix.width, pix.height, pix.stride, pix.samples)


class OpenDocument:
    """The one document a drawer holds open, opened anew when a job names another."""

    def __init__(self) -> None:
        self._key: tuple[int, str] | None = None
        self._mdoc: Any = None
        # The last pages' display lists: a page's tiles are drawn from one reading of it.
        self._lists: OrderedDict[int, Any] = OrderedDict()

    def draw(self, job: DrawJob) -> PageImage | None:
        key = (job.key, job.path)
        if self._mdoc is None or self._key != key:
            self.close()
            self._mdoc, self._key = open_for_drawing(Path(job.path), job.password), key
        if job.clip is None or not 0 <= job.page < self._mdoc.page_count:
            return draw(self._mdoc, job.page, job.scale, job.clip)
        listed = self._lists.pop(job.page, None)
        if listed is None:
            listed = self._mdoc.load_page(job.page).get_displaylist()
        self._lists[job.page] = listed
        while len(self._lists) > KEPT_PAGES:
            self._lists.popitem(last=False)
        return draw(self._mdoc, job.page, job.scale, job.clip, listed)

    def close(self) -> None:
        self._lists.clear()
        mdoc, self._mdoc, self._key = self._mdoc, None, None
        if mdoc is not None:
            mdoc.close()


# -- in the child ------------------------------------------------------------------------------
_opened = OpenDocument()  # this child's one open document


def _draw_job(job: DrawJob | str, _note: child.Note) -> PageImage | str | None:
    if job == "ready":  # the warm-up: MuPDF imported, the child can draw
        import pymupdf  # noqa: F401

        return "ready"
    if job == "close":  # the window closed its document: keep no file open
        _opened.close()
        return None
    assert isinstance(job, DrawJob)
    return _opened.draw(job)


# -- in the parent -----------------------------------------------------------------------------
class PageDrawer:
    """Draws pages in a child process; used from one thread (the page renderer's).

    ``draw`` returns None for a page that could not be drawn (no such page, a
    damaged page, one past ``seconds``, a crash); the caller keeps it blank.
    ``job_fn`` is what the child runs (tests give one that hangs or crashes).
    """

    def __init__(self, seconds: float = RENDER_SECONDS, job_fn: child.JobFn = _draw_job) -> None:
        self.seconds = seconds
        self.job_fn = job_fn
        self._child: child.Child | None = None
        self._ready = False
        self._was_ready = False  # a child has drawn: never fall back to drawing here
        self._unavailable = False
        self._local = OpenDocument()  # the warm-up's (or, without processes, every page's)
        self.in_child = 0  # pages drawn in a child (tests, benchmarks)
        self.restarts = 0  # children found dead or ended by a page, replaced
        self.here = 0  # pages drawn in this process (the warm-up, no child possible)

    def start(self) -> None:
        """Start a child if none runs (it warms up while the caller goes on)."""
        if self._child is not None or self._unavailable:
            return
        try:
            self._child = child.Child(
                self.job_fn,
                start_method="spawn",  # the window has threads: fork is not safe
                daemon=True,
                quiet_stderr=True,
                name="desktop-qa-render",
            )
            self._child.send("ready")
        except (child.ChildUnavailable, OSError, ValueError):
            self._child = None
            self._unavailable = True  # no processes here: pages are drawn in this one
        self._ready = False

    def ready(self, wait: bool = False) -> bool:
        """A child is up and can draw (``wait``: up to ``START_SECONDS`` for its warm-up)."""
        self.start()
        if self._child is None or self._ready:
            return self._ready
        try:
            if self._child.conn.poll(START_SECONDS if wait else 0):
                kind, value = self._child.receive()
                self._ready = self._was_ready = kind == "ok" and value == "ready"
                if not self._ready:
                    self._drop()
            elif wait:
                self._drop()
        except (child.ChildCrashed, OSError, EOFError):
            self._drop()
        return self._ready

    def _drop(self) -> None:
        if self._child is not None:
            self._child.kill()
        self._child, self._ready = None, False

    def draw(self, job: DrawJob, cancel: Callable[[], bool] | None = None) -> PageImage | None:
        """The page (or tile) drawn, or None when it cannot be: it stays blank.

        A child found dead, or that dies on the page, is replaced and the page
        asked again of the new one, once: only a page that ends two children
        (or raises in MuPDF, or runs past ``seconds``) is given up.
        """
        started = time.monotonic()
        stop = None
        if cancel is not None:
            stop = lambda: cancel() and time.monotonic() - started > CANCEL_AFTER  # noqa: E731
        for attempt in (1, 2):
            # Once a child has drawn, pages wait for its replacement rather than risk the
            # window here (a page that hung a child would hang this process too).
            if not self.ready(wait=self._was_ready):
                if self._was_ready and not self._unavailable:
                    return None  # the replacement did not come up: this page stays blank
                return self._draw_here(job)
            assert self._child is not None
            try:
                image = self._child.call(job, self.seconds, stop)
            except child.ChildGone:  # ended while idle (killed from outside): not the page's fault
                self._child, self._ready = None, False
                self.restarts += 1
                continue
            except child.ChildCrashed:  # ended on this page: once more in a new child
                self._child, self._ready = None, False
                self.restarts += 1
                if attempt == 2 or (cancel is not None and cancel()):
                    return None
                continue
            except (child.ChildTimeout, child.Cancelled):
                self._child, self._ready = None, False  # killed: the next page starts one
                return None
            except child.ChildError:  # the page raised in MuPDF (damaged): the child goes on
                return None
            self.in_child += 1
            return image
        return None

    def _draw_here(self, job: DrawJob) -> PageImage | None:
        try:
            image = self._local.draw(job)
        except Exception:  # a damaged page stays blank
            return None
        self.here += 1
        return image

    def close_document(self) -> None:
        """Close the open document, here and in the child (which stays, ready for the next)."""
        self.close_here()
        if self._child is not None and self._ready:
            try:
                self._child.call("close", self.seconds)
            except (child.ChildError, child.ChildTimeout, child.Cancelled):
                # Whatever went wrong, no child is dropped alive (still holding the file):
                # it is ended here, and the next page starts a new one.
                self._drop()

    def close_here(self) -> None:
        """Close the document opened in this process (the warm-up's), on the drawing thread."""
        self._local.close()

    def close(self) -> None:
        """Stop the child and close what is open here (quitting never waits on a warm-up)."""
        self.close_here()
        c, ready = self._child, self._ready
        self._child, self._ready = None, False
        if c is not None and ready:
            c.stop()
        elif c is not None:
            c.kill()  # still importing MuPDF: nothing to finish, nothing to wait for
