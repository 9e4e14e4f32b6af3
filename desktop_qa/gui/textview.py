"""Read-only view for text files, highlighting answers by character offsets.

Answers carry offsets into the Python string; Qt counts UTF-16 code units and
turns "\\r\\n" into one paragraph break, so offsets are mapped through a table
built once per document (astral characters count 2, a CR before LF counts 0).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from desktop_qa.core.documents.document import Document
from desktop_qa.gui.compat import emit

STRONG = QColor(255, 170, 0, 150)
LIGHT = QColor(255, 215, 0, 70)
GUESS = QColor(160, 160, 160, 110)


def qt_positions(text: str) -> np.ndarray:
    """Qt document position of every Python character offset (length len(text) + 1)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    width = np.where(codes > 0xFFFF, 2, 1).astype(np.int64)
    cr_lf = (codes[:-1] == 0x0D) & (codes[1:] == 0x0A)
    width[:-1][cr_lf] = 0
    return np.concatenate(([0], np.cumsum(width)))


def display_text(text: str) -> str:
    """The text as shown: CRLF and lone CR become LF, everything else verbatim."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextView(QPlainTextEdit):
    """A read-only plain-text viewer with answer highlights (ExtraSelections)."""

    slashPressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
        font.setPointSizeF(max(font.pointSizeF(), 11.0))
        self.setFont(QFont(font))
        self.document_: Document | None = None
        self._pos = np.zeros(1, np.int64)
        self._spans: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])

    def set_document(self, doc: Document | None) -> None:
        self.document_ = doc if doc is not None and doc.kind == "text" else None
        text = self.document_.text if self.document_ is not None else ""
        self._pos = qt_positions(text)
        self.setPlainText(display_text(text))
        self.set_highlights([], [])

    def to_qt(self, offset: int) -> int:
        return int(self._pos[min(max(offset, 0), len(self._pos) - 1)])

    def set_highlights(
        self, strong: list[tuple[int, int]], light: list[tuple[int, int]], guess: bool = False
    ) -> None:
        """Highlight character spans (Python offsets into Document.text)."""
        self._spans = (list(strong), list(light))
        selections = []
        for spans, color in (
            (light, GUESS if guess else LIGHT),
            (strong, GUESS if guess else STRONG),
        ):
            for start, end in spans:
                sel = QTextEdit.ExtraSelection()
                fmt = QTextCharFormat()
                fmt.setBackground(color)
                sel.format = fmt
                cursor = QTextCursor(self.document())
                cursor.setPosition(self.to_qt(start))
                cursor.setPosition(self.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
                sel.cursor = cursor
                selections.append(sel)
        self.setExtraSelections(selections)

    def highlights(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return list(self._spans[0]), list(self._spans[1])

    def highlighted_text(self) -> list[str]:
        """The on-screen text under each highlight, strong first (tests check this)."""
        return [sel.cursor.selectedText() for sel in reversed(self.extraSelections())]

    def scroll_to(self, start: int, end: int) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.to_qt(end))
        self.setTextCursor(cursor)
        cursor.setPosition(self.to_qt(start))
        self.setTextCursor(cursor)
        self.centerCursor()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.text() == "/" and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            emit(self.slashPressed)
            return
        super().keyPressEvent(event)
