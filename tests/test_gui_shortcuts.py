"""Every shortcut works with the cursor in the question bar; Help lists them all."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QKeySequence

from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader


def test_every_shortcut_fires_from_the_question_bar(qtbot, make_window, oracle_pack):
    window = make_window(Reader(load_pack(oracle_pack)))
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts reach the active window only
    fired: list[str] = []
    tried: list[str] = []
    for action in window.actions():
        name = action.text().replace("&", "")
        if not action.shortcuts():
            continue
        action.triggered.disconnect()  # no dialogs: only which action a key reaches
        action.setEnabled(True)
        for shortcut in action.shortcuts():
            combo = shortcut[0]
            if combo.key().name.endswith("Plus"):  # "Ctrl++" needs Shift on most layouts
                continue
            label = f"{shortcut.toString()} ({name})"
            tried.append(label)
            action.triggered.connect(lambda _c=False, t=label: fired.append(t))
            window.focus_question()
            window.question.setText("a question")
            qtbot.keyClick(window.question, combo.key(), combo.keyboardModifiers())
            action.triggered.disconnect()
    assert len(tried) >= 17
    missed = [t for t in tried if t not in fired]
    assert missed == [], f"not fired from the question bar: {missed}"
    # Help ▸ Keyboard Shortcuts lists each of them.
    listed = {k for keys, _what in window.shortcut_rows() for k in keys.split(" / ")}
    for t in tried:
        key = t.split(" (")[0]
        assert QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) in listed, t
