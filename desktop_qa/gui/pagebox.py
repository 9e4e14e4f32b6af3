"""The toolbar's page box: the printed page label where the document has labels.

A book's front matter is numbered i, ii, iii and its body from 1, so a
reader says "page vii" or "page 3", not the file's page index. With
``Document.page_labels`` the box shows "vii" and the label beside it
"(7 of 352)"; typing a label goes to that page, and a number that is no
label goes to that page index (SumatraPDF's rule: labels first). Without
labels it is the plain 1-based number box it always was.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QSpinBox, QWidget

from desktop_qa.gui.compat import emit


class PageBox(QSpinBox):
    """A 1-based page number shown and typed as its label, where there are labels.

    Enter emits ``entered`` (the page typed), Esc ``escaped``: the window goes
    there and gives the keys back to the page view.
    """

    entered = Signal(int)
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.setRange(0, 0)
        self.setKeyboardTracking(False)
        self.setToolTip("Go to page (Ctrl+G): a number, or the printed page label")

    def set_pages(self, count: int, labels: Sequence[str] = ()) -> None:
        """``count`` pages (0: a text file, no pages); ``labels`` one per page, or none."""
        self.labels = list(labels) if len(labels) == count and any(labels) else []
        self.setRange(min(1, count), count)
        # Wide enough for the longest label ("xxxviii") as well as the page count.
        widest = max([len(str(count)), *(len(label) for label in self.labels)])
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("0" * (widest + 4)))
        self.lineEdit().setText(self.textFromValue(self.value()))

    def label(self, page: int) -> str:
        """The label of 1-based ``page`` ("" without labels)."""
        return self.labels[page - 1] if self.labels and 1 <= page <= len(self.labels) else ""

    def textFromValue(self, value: int) -> str:
        return self.label(value) or str(value)

    def valueFromText(self, text: str) -> int:
        text = text.strip()
        if text in self.labels:
            return self.labels.index(text) + 1
        folded = text.casefold()  # "VII" finds "vii"
        for i, label in enumerate(self.labels):
            if label.casefold() == folded:
                return i + 1
        try:
            return min(max(int(text), self.minimum()), self.maximum())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if not self.labels:
            return super().validate(text, pos)
        # Any text while typing; Enter takes a label, a number, or keeps the page.
        return QValidator.State.Acceptable, text, pos

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.interpretText()
            emit(self.entered, self.value())
            return
        if event.key() == Qt.Key.Key_Escape:
            emit(self.escaped)
            return
        super().keyPressEvent(event)
