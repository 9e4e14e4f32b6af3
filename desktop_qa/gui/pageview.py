"""The page view: PDF/EPUB/XPS pages in one continuous scroll, a word selection on top.

Pages are laid out from the Document's page sizes (PDF points), so scrolling
and highlighting work before any pixel is rendered. What is in view (plus
half a view above and below) is asked of the render thread (``rendering``),
at zoom x devicePixelRatio so text stays sharp on HiDPI, in tiles of at most
``render.TILE_MAX`` pixels a side: at any zoom only the tiles in view are
drawn and kept, so memory and drawing follow the window's size, not the
page's size at that zoom. Tiles are kept in a pixmap cache whose byte count
is exact and which never evicts what is in view (no draw-evict-draw loop);
until a tile comes, the page's tiles at another zoom stand in, scaled.
Highlights are painted by ``highlights`` in page coordinates mapped to
pixels at paint time, so they stay on the words at every zoom level.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from desktop_qa.core.documents.document import Box, Document
from desktop_qa.core.documents.render import Clip, tiles
from desktop_qa.gui.compat import emit
from desktop_qa.gui.highlights import Highlights
from desktop_qa.gui.rendering import PageRenderer

MARGIN = 16  # logical pixels around the pages
GAP = 12  # between pages
MIN_ZOOM, MAX_ZOOM = 0.25, 6.0
ZOOM_STEP = 1.2
CACHE_BYTES = 256 * 1024 * 1024
AHEAD = 0.5  # views above and below the one shown whose tiles are drawn ahead (within budget)

TileKey = tuple[int, float, Clip]  # page, scale (device px per point), tile
SELECTION = QColor(60, 120, 230, 70)
CANNOT_DRAW = (
    "This page could not be drawn"  # damaged, or past core.documents.render.RENDER_SECONDS
)


@dataclass(frozen=True)
class Anchor:
    """A point on a page (PDF points) and the viewport point it must stay under."""

    page: int
    x: float
    y: float
    at: QPointF


class PdfView(QAbstractScrollArea):
    """Pages in one vertical scroll, answer highlights and a word selection on top."""

    pageChanged = Signal(int, int)  # current page (1-based), page count
    zoomChanged = Signal(float)
    slashPressed = Signal()

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.setMouseTracking(False)
        self.renderer = PageRenderer(pool, self)
        self.renderer.rendered.connect(self._on_rendered)
        self.document: Document | None = None
        self._generation = 0
        self.zoom = 1.0  # logical pixels per PDF point
        self.fit_width = True
        self._tops: list[float] = []
        self._height = 0.0
        self._width = 0.0
        self._cache: OrderedDict[TileKey, QPixmap] = OrderedDict()
        self._cache_bytes = 0
        self._keep: set[TileKey] = set()  # in view (or just ahead) now: never evicted
        self._tiles: dict[tuple[int, float], list[Clip]] = {}
        self._highlights = Highlights()
        self._page_boxes: dict[int, np.ndarray] = {}
        self._anchor: tuple[int, QPointF] | None = None
        self._selection: tuple[int, QRectF] | None = None
        self._selected_ids: np.ndarray = np.zeros(0, np.int64)
        self._last_page = -1
        # The page of the last jump (an answer, outline entry, find hit, typed page): the
        # page box shows it until the user scrolls, even where the view cannot bring it
        # to the top (the last pages) or centres it below the page before.
        self._jumped: int | None = None
        self._moving = False  # the scroll is the view's own (a jump, a relayout)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.viewport().update())

    # -- document & layout ------------------------------------------------------
    def set_document(self, doc: Document | None, password: str | None = None) -> None:
        """Show ``doc``; ``password`` unlocks a protected PDF for rendering (kept in memory)."""
        self.document = doc if doc is not None and doc.kind == "pdf" else None
        self._generation = self.renderer.set_path(
            self.document.path if self.document is not None else None, password
        )
        self._cache.clear()
        self._cache_bytes = 0
        self._keep = set()
        self._tiles = {}
        self._highlights.set([], [])
        self._page_boxes = {}
        self.clear_selection()
        self._last_page = -1
        self._jumped = None
        self.fit_width = True
        self._tops = []  # the old layout must not anchor the new document (fewer pages)
        self._relayout()
        self.verticalScrollBar().setValue(0)
        self._scrolled()

    @property
    def page_count(self) -> int:
        return self.document.page_count if self.document is not None else 0

    def _dpr(self) -> float:
        return float(self.devicePixelRatioF()) or 1.0

    def _fit_zoom(self) -> float:
        """The zoom at which the current page fills the view's width (not the widest page:
        a book's wide cover would leave grey bands beside every other page)."""
        if self.document is None or not self.document.page_sizes:
            return 1.0
        page = self.current_page() - 1 if self._tops else 0
        width = self.document.page_sizes[max(page, 0)][0] or 612.0
        room = self.viewport().width() - 2 * MARGIN
        return min(max(room / width, MIN_ZOOM), MAX_ZOOM)

    def _relayout(self, keep: Anchor | None = None) -> None:
        """Recompute page positions for the zoom, keeping the same spot in view.

        ``keep``: the page point to hold under its viewport point (a zoom: taken
        before the zoom changed); without it the spot at the top stays (a resize).
        """
        anchor = self._view_anchor() if keep is None else None
        if self.fit_width:
            self.zoom = self._fit_zoom()
        tops: list[float] = []
        y = float(MARGIN)
        widest = 0.0
        sizes = self.document.page_sizes if self.document is not None else []
        for w, h in sizes:
            tops.append(y)
            y += h * self.zoom + GAP
            widest = max(widest, w * self.zoom)
        self._tops = tops
        self._height = y - GAP + MARGIN if sizes else 0.0
        self._width = widest + 2 * MARGIN
        vbar, hbar = self.verticalScrollBar(), self.horizontalScrollBar()
        vh, vw = self.viewport().height(), self.viewport().width()
        vbar.setPageStep(max(1, vh))
        vbar.setSingleStep(40)
        hbar.setRange(0, max(0, int(self._width - vw)))
        hbar.setPageStep(max(1, vw))
        hbar.setSingleStep(40)
        self._moving = True  # the same spot stays in view: a jump stays the page shown
        try:
            vbar.setRange(0, max(0, int(self._height - vh)))
            if anchor is not None:
                page, frac = anchor
                vbar.setValue(int(self._tops[page] + frac * self._page_h(page)))
            elif keep is not None and keep.page < len(self._tops):
                z, page = self.zoom, keep.page
                vbar.setValue(round(self._tops[page] + keep.y * z - keep.at.y()))
                w = self.document.page_sizes[page][0] * z if self.document is not None else 0.0
                hbar.setValue(round((self._width - w) / 2 + keep.x * z - keep.at.x()))
            self._scrolled()  # other pages in view at the new zoom, even at the same value
        finally:
            self._moving = False
        emit(self.zoomChanged, self.zoom)
        self.viewport().update()

    def _page_h(self, page: int) -> float:
        assert self.document is not None
        return self.document.page_sizes[page][1] * self.zoom

    def _anchor_at(self, at: QPointF | None = None) -> Anchor | None:
        """The page point under ``at`` (default: the viewport's centre), before a zoom."""
        if not self._tops:
            return None
        if at is None:
            at = QPointF(self.viewport().width() / 2, self.viewport().height() / 2)
        hit = self.view_to_page(at)
        if hit is None:
            return None
        page, point = hit
        return Anchor(page, point.x(), point.y(), QPointF(at))

    def _view_anchor(self) -> tuple[int, float] | None:
        """(page, fraction) at the top of the viewport, to keep it in place on zoom."""
        if not self._tops:
            return None
        y = self.verticalScrollBar().value()
        page = self._page_at_y(y)
        return page, (y - self._tops[page]) / max(1.0, self._page_h(page))

    def _page_at_y(self, y: float) -> int:
        i = int(np.searchsorted(np.asarray(self._tops), y, side="right")) - 1
        return min(max(i, 0), len(self._tops) - 1)

    def page_rect(self, page: int) -> QRectF:
        """The page's rectangle in viewport (logical pixel) coordinates."""
        assert self.document is not None
        w, h = self.document.page_sizes[page]
        w, h = w * self.zoom, h * self.zoom
        vw = self.viewport().width()
        if self._width <= vw:
            x = (vw - w) / 2
        else:
            x = (self._width - w) / 2 - self.horizontalScrollBar().value()
        y = self._tops[page] - self.verticalScrollBar().value()
        return QRectF(x, y, w, h)

    def box_to_view(self, page: int, rect: Sequence[float]) -> QRectF:
        """A rectangle in PDF points on ``page`` -> viewport pixels, at the current zoom."""
        origin = self.page_rect(page).topLeft()
        x0, y0, x1, y1 = rect
        z = self.zoom
        return QRectF(origin.x() + x0 * z, origin.y() + y0 * z, (x1 - x0) * z, (y1 - y0) * z)

    def view_to_page(self, pos: QPointF) -> tuple[int, QPointF] | None:
        """Viewport pixels -> (page, point in PDF points), or None between pages."""
        if not self._tops:
            return None
        y = pos.y() + self.verticalScrollBar().value()
        page = self._page_at_y(y)
        rect = self.page_rect(page)
        return page, QPointF((pos.x() - rect.x()) / self.zoom, (pos.y() - rect.y()) / self.zoom)

    def visible_pages(self) -> list[int]:
        if not self._tops:
            return []
        top = self.verticalScrollBar().value()
        bottom = top + self.viewport().height()
        first = self._page_at_y(top)
        last = self._page_at_y(bottom)
        return list(range(first, last + 1))

    def current_page(self) -> int:
        """1-based page the user jumped to, else the one filling most of the view (0: empty)."""
        if not self._tops:
            return 0
        if self._jumped is not None:
            return self._jumped + 1
        top = self.verticalScrollBar().value()
        bottom = top + self.viewport().height()

        def shown(page: int) -> int:  # whole pixel rows: equal pages are equal
            start = self._tops[page]
            return round(min(bottom, start + self._page_h(page)) - max(top, start))

        return max(self.visible_pages(), key=shown) + 1  # the first of equals: the top one

    # -- zoom & navigation ------------------------------------------------------
    def set_zoom(self, zoom: float, at: QPointF | None = None) -> None:
        """Zoom keeping the spot under ``at`` (the mouse; default the view's centre) in place."""
        keep = self._anchor_at(at)
        self.fit_width = False
        self.zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._relayout(keep)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def zoom_fit_width(self) -> None:
        keep = self._anchor_at()
        self.fit_width = True
        self._relayout(keep)

    def go_to_page(self, page: int) -> None:
        """Scroll so 1-based ``page`` starts at the top."""
        if not self._tops:
            return
        page = min(max(page, 1), len(self._tops)) - 1
        y = int(self._tops[page] - MARGIN / 2)
        self._jump(page, lambda: self.verticalScrollBar().setValue(y))

    def scroll_to_box(self, box: Box) -> None:
        """Bring a highlight into view, vertically centred, unless it is already well inside."""
        if self.document is None or not 0 <= box.page < len(self._tops):
            return
        rect = self.box_to_view(box.page, box.rect)
        vh, vw = self.viewport().height(), self.viewport().width()

        def move() -> None:
            if rect.top() < vh * 0.15 or rect.bottom() > vh * 0.85:
                vbar = self.verticalScrollBar()
                vbar.setValue(int(vbar.value() + rect.center().y() - vh / 2))
            if rect.left() < 0 or rect.right() > vw:
                hbar = self.horizontalScrollBar()
                hbar.setValue(int(hbar.value() + rect.center().x() - vw / 2))

        self._jump(box.page, move)

    def _jump(self, page: int, move: Callable[[], None]) -> None:
        """Scroll by ``move`` to 0-based ``page``: the page shown until the user scrolls."""
        self._jumped = page
        self._moving = True
        try:
            move()
            self._scrolled()  # the page box follows even when nothing had to scroll
        finally:
            self._moving = False

    # -- highlights & selection -------------------------------------------------
    def set_highlights(
        self, strong: Sequence[Box], light: Sequence[Box], guess: bool = False
    ) -> None:
        self._highlights.set(strong, light, guess)
        self.viewport().update()

    def highlights(self, page: int | None = None) -> tuple[list[Box], list[Box]]:
        """(strong, light) highlight boxes in page coordinates, optionally of one page."""
        return self._highlights.of_page(page)

    def _boxes_of(self, page: int) -> np.ndarray:
        """Indices of the word boxes on ``page`` (cached)."""
        assert self.document is not None
        ids = self._page_boxes.get(page)
        if ids is None:
            ids = np.nonzero(self.document.box_page == page)[0]
            self._page_boxes[page] = ids
        return ids

    def clear_selection(self) -> None:
        self._anchor = None
        self._selection = None
        self._selected_ids = np.zeros(0, np.int64)
        self.viewport().update()

    def select_rect(self, page: int, rect: QRectF) -> None:
        """Select the words on ``page`` whose boxes meet ``rect`` (PDF points)."""
        if self.document is None:
            return
        ids = self._boxes_of(page)
        b = self.document.boxes[ids]
        r = rect.normalized()
        hit = (b[:, 2] >= r.left()) & (b[:, 0] <= r.right())
        hit &= (b[:, 3] >= r.top()) & (b[:, 1] <= r.bottom())
        self._selection = (page, r)
        self._selected_ids = ids[hit]
        self.viewport().update()

    def selected_text(self) -> str:
        """The document text from the first to the last selected word."""
        if self.document is None or not len(self._selected_ids):
            return ""
        chars = np.nonzero(np.isin(self.document.char_box, self._selected_ids))[0]
        if not len(chars):
            return ""
        return self.document.text[int(chars[0]) : int(chars[-1]) + 1]

    def copy_selection(self) -> bool:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return bool(text)

    # -- events -----------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def _scrolled(self, _value: int | None = None) -> None:
        if not self._moving:
            self._jumped = None  # the user scrolled: the page filling the view now
        page = self.current_page()
        if page != self._last_page:
            self._last_page = page
            emit(self.pageChanged, page, self.page_count)
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if event.angleDelta().y() > 0:
                self.set_zoom(self.zoom * ZOOM_STEP, event.position())
            elif event.angleDelta().y() < 0:
                self.set_zoom(self.zoom / ZOOM_STEP, event.position())
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            return
        if event.text() == "/" and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            emit(self.slashPressed)
            return
        key = event.key()
        if key == Qt.Key.Key_Home:
            self.verticalScrollBar().setValue(0)
            return
        if key == Qt.Key.Key_End:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
            return
        if key == Qt.Key.Key_Space:
            bar = self.verticalScrollBar()
            shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            bar.setValue(bar.value() + (-1 if shift else 1) * bar.pageStep())
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        if event.button() == Qt.MouseButton.LeftButton and self.document is not None:
            hit = self.view_to_page(event.position())
            self.clear_selection()
            self._anchor = hit
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._anchor is not None and event.buttons() & Qt.MouseButton.LeftButton:
            page, start = self._anchor
            origin = self.page_rect(page).topLeft()
            end = (event.position() - origin) / self.zoom
            self.select_rect(page, QRectF(start, end))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._anchor = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.view_to_page(event.position())
        if hit is not None:
            page, point = hit
            self.select_rect(page, QRectF(point, point))

    # -- painting ---------------------------------------------------------------
    def _on_rendered(
        self, generation: int, page: int, scale: float, clip: Clip | None, image: QImage
    ) -> None:
        if generation != self._generation:
            return
        self.renderer.delivered(page, scale, clip)
        if image.isNull() or clip is None:  # could not be drawn: the page says so (paintEvent)
            self.viewport().update()
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self._dpr())
        key = (page, scale, clip)
        old = self._cache.pop(key, None)
        if old is not None:  # drawn again: its old pixels no longer count
            self._cache_bytes -= _bytes(old)
        self._cache[key] = pixmap
        self._cache_bytes += _bytes(pixmap)
        self._evict()
        self.viewport().update()

    def _evict(self) -> None:
        """Oldest first down to CACHE_BYTES, but never a tile in view (or just ahead)."""
        if self._cache_bytes <= CACHE_BYTES:
            return
        for key in list(self._cache):
            if self._cache_bytes <= CACHE_BYTES:
                break
            if key not in self._keep:
                self._cache_bytes -= _bytes(self._cache.pop(key))

    def cache_bytes(self) -> int:
        """Bytes of the pixmaps kept (tests, benchmarks)."""
        return self._cache_bytes

    def _scale(self) -> float:
        return round(self.zoom * self._dpr(), 4)

    def _tiles_of(self, page: int, scale: float) -> list[Clip]:
        assert self.document is not None
        found = self._tiles.get((page, scale))
        if found is None:
            w, h = self.document.page_sizes[page]
            found = self._tiles[(page, scale)] = tiles(w, h, scale)
        return found

    def _page_origin(self, page: int) -> QPointF:
        """The page's top left, on the device pixel grid (tiles join without a seam)."""
        dpr, corner = self._dpr(), self.page_rect(page).topLeft()
        return QPointF(round(corner.x() * dpr) / dpr, round(corner.y() * dpr) / dpr)

    def _tiles_in(self, page: int, scale: float, area: QRectF) -> list[Clip]:
        """The tiles of ``page`` that meet ``area`` (viewport coordinates)."""
        origin, dpr = self._page_origin(page), self._dpr()
        x0, x1 = (area.left() - origin.x()) * dpr, (area.right() - origin.x()) * dpr
        y0, y1 = (area.top() - origin.y()) * dpr, (area.bottom() - origin.y()) * dpr
        return [
            t
            for t in self._tiles_of(page, scale)
            if t[0] < x1 and t[2] > x0 and t[1] < y1 and t[3] > y0
        ]

    def _pages_in(self, top: float, bottom: float) -> list[int]:
        """Pages that meet the rows ``top``..``bottom`` of the viewport."""
        if not self._tops:
            return []
        value = self.verticalScrollBar().value()
        first, last = self._page_at_y(value + top), self._page_at_y(value + bottom)
        return list(range(first, last + 1))

    def _wanted_tiles(self) -> tuple[list[TileKey], list[TileKey]]:
        """(in view, just ahead): the tiles to draw at the current zoom, nearest first."""
        scale = self._scale()
        view = QRectF(self.viewport().rect())
        shown = [
            (p, scale, t) for p in self.visible_pages() for t in self._tiles_in(p, scale, view)
        ]
        ahead_h = view.height() * AHEAD
        wide = view.adjusted(0, -ahead_h, 0, ahead_h)
        near = [
            (p, scale, t)
            for p in self._pages_in(wide.top(), wide.bottom())
            for t in self._tiles_in(p, scale, wide)
        ]
        seen = set(shown)
        ahead = [k for k in near if k not in seen]
        # Ahead only within budget: what is drawn ahead must never push out what is shown.
        size = sum((k[2][2] - k[2][0]) * (k[2][3] - k[2][1]) * 4 for k in shown + ahead)
        return shown, ahead if size <= CACHE_BYTES // 2 else []

    def missing_pages(self) -> list[int]:
        """Visible pages with a tile in view not drawn at the current zoom yet (screenshots
        wait on these); pages that could not be drawn are not missing."""
        if self.document is None:
            return []
        failed, shown = self.renderer.failed(), self._wanted_tiles()[0]
        return sorted({k[0] for k in shown if k not in self._cache and k[0] not in failed})

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        painter.fillRect(self.viewport().rect(), QColor(0x52, 0x56, 0x59))
        if self.document is None:
            return
        scale = self._scale()
        shown, ahead = self._wanted_tiles()
        self._keep = set(shown) | set(ahead)
        failed = self.renderer.failed()
        by_page: dict[int, list[QPixmap | None]] = {}
        for key in shown:
            by_page.setdefault(key[0], []).append(self._cache.get(key))
            if key in self._cache:
                self._cache.move_to_end(key)  # recently seen: evicted last
        dpr = self._dpr()
        for page in self.visible_pages():
            rect = self.page_rect(page)
            painter.fillRect(rect.translated(2, 2), QColor(0, 0, 0, 60))
            painter.fillRect(rect, Qt.GlobalColor.white)
            origin = self._page_origin(page)
            exact = by_page.get(page, [])
            drawn = bool(exact) and all(pm is not None for pm in exact)
            if not drawn:  # tiles of another zoom stand in, scaled, until these come
                drawn = self._paint_stand_ins(painter, page, scale, rect) or drawn
            for key in shown:
                pixmap = self._cache.get(key) if key[0] == page else None
                if pixmap is not None:
                    x0, y0, x1, y1 = key[2]
                    target = QRectF(
                        origin.x() + x0 / dpr,
                        origin.y() + y0 / dpr,
                        (x1 - x0) / dpr,
                        (y1 - y0) / dpr,
                    )
                    painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
                    drawn = True
            if drawn:  # highlights only over a drawn page: never boxes over a blank one
                self._paint_overlays(painter, page)
            elif page in failed:
                painter.setPen(QColor(0x70, 0x70, 0x70))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, CANNOT_DRAW)
        painter.end()
        # Ask for what is missing, in view first; a view with all it needs asks for nothing.
        self.renderer.request([k for k in shown + ahead if k not in self._cache])

    def _paint_stand_ins(self, painter: QPainter, page: int, scale: float, rect: QRectF) -> bool:
        """The page's tiles drawn at other zooms, scaled into place (the nearest zoom last)."""
        others = [k for k in self._cache if k[0] == page and k[1] != scale]
        others.sort(key=lambda k: -abs(k[1] - scale))
        for _page, other, (x0, y0, x1, y1) in others:
            pixmap = self._cache[(_page, other, (x0, y0, x1, y1))]
            f = rect.width() / (self.document.page_sizes[page][0] * other) if self.document else 0
            target = QRectF(rect.x() + x0 * f, rect.y() + y0 * f, (x1 - x0) * f, (y1 - y0) * f)
            painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        return bool(others)

    def _paint_overlays(self, painter: QPainter, page: int) -> None:
        """The highlights, then the word selection, over a drawn page."""
        self._highlights.paint(painter, page, self.box_to_view)
        if self._selection is not None and self._selection[0] == page and self.document:
            for i in self._selected_ids.tolist():
                painter.fillRect(self.box_to_view(page, self.document.boxes[i]), SELECTION)


def _bytes(pixmap: QPixmap) -> int:
    """What a pixmap holds (32 bits a pixel)."""
    return pixmap.width() * pixmap.height() * 4
