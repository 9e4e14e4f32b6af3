"""Help ▸ Keyboard Shortcuts: the list is read from the window's own actions.

So it cannot drift from the keys that work; the keys that belong to one field
(the question bar's Enter, the find bar's and the outline's) are added here.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

# Keys of one field or panel, not window actions.
FIELD_ROWS = [
    ("Enter", "Ask the question (the same question again: next answer)"),
    ("Shift+Enter", "Previous answer (the same question)"),
    ("/", "Type a question (from the page)"),
]
PANEL_ROWS = [
    ("F3 / Shift+F3 (find bar open)", "Next / previous match of the words, across pages"),
    ("Enter / Shift+Enter (find bar)", "Find the words; again: next / previous match"),
    ("Esc (find bar)", "Close the find bar, the answers' highlights back"),
    ("Up / Down, Enter (outline)", "Move in the outline; go to the entry's page"),
    ("Esc (outline)", "Back to the page"),
]


def rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what they do) of every shortcut, from the actions themselves, plus the
    fields' own keys: Help ▸ Keyboard Shortcuts and docs/gui.md list these."""
    out = list(FIELD_ROWS)
    seen: set[str] = set()
    for action in window.actions():
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        keys = [k for k in keys if k]
        if not keys:
            continue
        what = action.text().replace("&", "").rstrip("…").strip()
        if what in seen:
            continue
        seen.add(what)
        out.append((" / ".join(keys), what))
    return out + PANEL_ROWS


def show(window: QMainWindow) -> QMessageBox:
    """Open the list (non-blocking); the box is returned so the window can close it."""
    body = "".join(
        f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(w)}</td></tr>"
        for k, w in rows(window)
    )
    box = QMessageBox(window)
    box.setWindowTitle("Keyboard Shortcuts")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        f"<table>{body}</table><p>They work wherever the focus is, the question bar included.</p>"
    )
    box.open()
    return box
