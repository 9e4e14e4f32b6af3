"""The question bar, and the find bar's field: Enter submits, Esc leaves, and the
window's shortcuts win over the line edit's own keys."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit

from desktop_qa.gui.compat import emit

OWN_KEYS = (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter)


def keeps_enter_and_esc(event: QEvent) -> bool:
    """Claim Enter and Esc before the window's shortcuts (Esc is its Cancel), for a
    widget whose own keys they are (the find field, the outline tree). True: claimed."""
    if event.type() == QEvent.Type.ShortcutOverride and event.key() in OWN_KEYS:  # type: ignore[attr-defined]
        event.accept()
        return True
    return False


class QuestionBar(QLineEdit):
    """The question field: Enter asks (or steps), Shift+Enter steps back, Esc cancels."""

    submitted = Signal(bool)  # shift held
    escaped = Signal()

    def event(self, event: QEvent) -> bool:
        """The window's shortcuts win over the line edit's own keys (Ctrl+E, Ctrl+Shift+C…):
        every shortcut works with the cursor in the bar, where it is after asking."""
        if event.type() == QEvent.Type.ShortcutOverride and self._window_shortcut(event):
            event.ignore()
            return True
        return super().event(event)

    def _window_shortcut(self, event: QEvent) -> bool:
        key = event.key()  # type: ignore[attr-defined]
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape) and not (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier  # type: ignore[attr-defined]
        ):
            return False  # Enter asks, Esc stops: the bar's own (keyPressEvent)
        combo = QKeySequence(event.keyCombination())  # type: ignore[attr-defined]
        window = self.window()
        return any(
            shortcut.matches(combo) == QKeySequence.SequenceMatch.ExactMatch
            for action in window.actions()
            if action.isEnabled()
            for shortcut in action.shortcuts()
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            emit(self.submitted, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            return
        if event.key() == Qt.Key.Key_Escape:
            emit(self.escaped)
            return
        super().keyPressEvent(event)
