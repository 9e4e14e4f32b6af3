"""The window's menus, shortcuts and toolbar: every action, its keys, and the command it calls.

Each action is added to the window too, so its shortcut works wherever the
focus is (Help ▸ Keyboard Shortcuts is read from these same actions). The
menus know the commands only by name (``Commands``), never how they work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from desktop_qa.gui.findbar import FIND_KEY, FindBar
from desktop_qa.gui.messages import CHOOSE_PACK
from desktop_qa.gui.outline import OUTLINE_KEY
from desktop_qa.gui.pageview import PdfView

Shortcut = QKeySequence | QKeySequence.StandardKey | list[QKeySequence] | None


class Commands(Protocol):
    """What the menus call: the window's user actions."""

    pdf_view: PdfView
    findbar: FindBar

    def choose_file(self) -> None: ...
    def choose_export_file(self) -> None: ...
    def focus_page(self) -> None: ...
    def toggle_outline(self) -> None: ...
    def focus_question(self) -> None: ...
    def step(self, forward: bool) -> None: ...
    def read_whole(self) -> None: ...
    def cancel(self) -> None: ...
    def copy(self) -> None: ...
    def copy_citation(self) -> str: ...
    def open_settings(self) -> None: ...
    def choose_model_folder(self) -> None: ...
    def show_shortcuts(self) -> None: ...
    def show_about(self) -> None: ...


class Menus:
    """The menu bar and the toolbar of ``window``; ``page_widgets`` go in the toolbar (None:
    a separator)."""

    def __init__(
        self, window: QMainWindow, do: Commands, page_widgets: Sequence[QWidget | None]
    ) -> None:
        self.window = window
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open…", do.choose_file, QKeySequence.StandardKey.Open, file_menu
        )
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        self.export_action = self._action(
            "&Export Answers…", do.choose_export_file, QKeySequence("Ctrl+E"), file_menu
        )
        file_menu.addSeparator()
        self._action("&Quit", window.close, QKeySequence.StandardKey.Quit, file_menu)
        view = bar.addMenu("&View")
        self.zoom_in_action = self._action(
            "Zoom &In",
            do.pdf_view.zoom_in,
            [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")],
            view,
        )
        self.zoom_out_action = self._action(
            "Zoom &Out", do.pdf_view.zoom_out, [QKeySequence("Ctrl+-")], view
        )
        self.fit_action = self._action(
            "&Fit Width", do.pdf_view.zoom_fit_width, QKeySequence("Ctrl+0"), view
        )
        view.addSeparator()
        self.goto_action = self._action("&Go to Page…", do.focus_page, QKeySequence("Ctrl+G"), view)
        self.outline_action = self._action(
            "&Outline", do.toggle_outline, QKeySequence(OUTLINE_KEY), view
        )
        find = bar.addMenu("&Ask")
        self._action("&Question", do.focus_question, QKeySequence.StandardKey.Find, find)
        self.find_action = self._action(
            "&Find Words…", do.findbar.open_bar, QKeySequence(FIND_KEY), find
        )
        self.next_action = self._action(
            "&Next Answer", lambda: do.step(True), QKeySequence("F3"), find
        )
        self.prev_action = self._action(
            "&Previous Answer", lambda: do.step(False), QKeySequence("Shift+F3"), find
        )
        self.read_whole_action = self._action(
            "Read the &Whole Document",
            do.read_whole,
            [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
            find,
        )
        self._action("&Cancel", do.cancel, QKeySequence("Esc"), find)
        find.addSeparator()
        self.copy_citation_action = self._action(
            "Copy Answer with &Citation",
            do.copy_citation,
            QKeySequence("Ctrl+Shift+C"),
            find,
        )
        self.copy_action = self._action("&Copy", do.copy, None)
        # Ctrl+C only while the page view has focus (the line edit keeps its own Copy).
        QShortcut(
            QKeySequence.StandardKey.Copy,
            do.pdf_view,
            do.copy,
            Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        tools = bar.addMenu("&Tools")
        self._action("&Settings…", do.open_settings, None, tools)
        self.choose_pack_action = self._action(
            CHOOSE_PACK.replace("Pack", "&Pack", 1), do.choose_model_folder, None, tools
        )
        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", do.show_shortcuts, QKeySequence("F1"), help_menu
        )
        self._action("&About desktop-qa", do.show_about, None, help_menu)
        # Toolbar.
        tb = QToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        tb.addAction(self.open_action)
        tb.addSeparator()
        tb.addAction(self.zoom_out_action)
        tb.addAction(self.zoom_in_action)
        tb.addAction(self.fit_action)
        tb.addSeparator()
        for widget in page_widgets:
            if widget is None:
                tb.addSeparator()
            else:
                tb.addWidget(widget)
        window.addToolBar(tb)

    @property
    def page_actions(self) -> list[QAction]:
        """The actions that only a paged document has (zoom)."""
        return [self.zoom_in_action, self.zoom_out_action, self.fit_action]

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: Shortcut = None,
        menu: QMenu | None = None,
    ) -> QAction:
        action = QAction(text, self.window)
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        self.window.addAction(action)
        return action
