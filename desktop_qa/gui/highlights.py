"""The painting of highlights over a drawn page: answers, find hits, the guess.

Boxes are kept in page coordinates (PDF points) and mapped to pixels at paint
time by the view's ``to_view``, so they stay on the words at every zoom. The
current box is framed, the others tinted as one merged area (no darker
overlaps), all grey for the best guess after "no answer".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from desktop_qa.core.documents.document import Box

STRONG = QColor(255, 170, 0, 110)
STRONG_EDGE = QColor(230, 110, 0, 230)
LIGHT = QColor(255, 215, 0, 60)
GUESS = QColor(150, 150, 150, 80)
GUESS_EDGE = QColor(120, 120, 120)


class Highlights:
    """The strong (current) and light (other) boxes of every page, and how they are drawn."""

    def __init__(self) -> None:
        self.strong: list[Box] = []
        self.light: list[Box] = []
        self.guess = False  # grey: the best guess, not an answer

    def set(self, strong: Sequence[Box], light: Sequence[Box], guess: bool = False) -> None:
        self.strong, self.light, self.guess = list(strong), list(light), guess

    def of_page(self, page: int | None = None) -> tuple[list[Box], list[Box]]:
        """(strong, light) boxes, of one page or (None) of all."""
        if page is None:
            return list(self.strong), list(self.light)
        return (
            [b for b in self.strong if b.page == page],
            [b for b in self.light if b.page == page],
        )

    def paint(
        self, painter: QPainter, page: int, to_view: Callable[[int, Sequence[float]], QRectF]
    ) -> None:
        """Light boxes as one merged area, minus the strong ones, which are framed."""
        strong = QPainterPath()
        strong.setFillRule(Qt.FillRule.WindingFill)  # overlaps add up, not cancel out
        strong_rects = []
        for box in self.strong:
            if box.page == page:
                r = to_view(page, _pad(box.rect))
                strong_rects.append(r)
                strong.addRect(r)
        light = QPainterPath()
        light.setFillRule(Qt.FillRule.WindingFill)
        for box in self.light:
            if box.page == page:
                light.addRect(to_view(page, _pad(box.rect)))
        painter.setPen(Qt.PenStyle.NoPen)
        if not light.isEmpty():
            light = light.simplified()
            if not strong.isEmpty():
                light = light.subtracted(strong.simplified())
            painter.fillPath(light, GUESS if self.guess else LIGHT)
        if strong_rects:
            painter.fillPath(strong.simplified(), GUESS if self.guess else STRONG)
            painter.setPen(QPen(GUESS_EDGE if self.guess else STRONG_EDGE, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for r in strong_rects:
                painter.drawRect(r)
            painter.setPen(Qt.PenStyle.NoPen)


def _pad(rect: Sequence[float], pad: float = 1.0) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = rect
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
