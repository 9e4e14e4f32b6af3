"""The outline panel: the document's table of contents, keyboard-first (issue 19).

F12 shows it and puts the focus in it (SumatraPDF's key; Okular's F7 panel is
the same idea); arrows move, Enter jumps to the entry's page and keeps the
focus in the tree (to jump again), Esc goes back to the page. As the page
scrolls, the entry of the section it lies in is selected
(``navigation.section_at``). A document without an outline shows one greyed
"No outline" row. A thin view over ``Document.outline``: no state of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from desktop_qa.core.documents.navigation import OutlineEntry, section_at
from desktop_qa.gui.compat import emit
from desktop_qa.gui.questionbar import keeps_enter_and_esc

OUTLINE_KEY = "F12"
INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
NO_OUTLINE = "No outline in this document"


class OutlineTree(QTreeWidget):
    """The tree: Enter jumps, Esc leaves; both before the window's own shortcuts."""

    escaped = Signal()

    def event(self, event: QEvent) -> bool:
        """Esc is the window's Cancel shortcut: here it is the tree's (back to the page)."""
        return keeps_enter_and_esc(event) or super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            emit(self.escaped)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.currentItem()
            if item is not None:
                emit(self.itemActivated, item, 0)
            return
        super().keyPressEvent(event)


class OutlinePanel(QDockWidget):
    """A dock with the outline; ``pageRequested`` (1-based) when an entry is picked."""

    pageRequested = Signal(int)
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Outline", parent)
        self.setObjectName("outline-dock")
        self.tree = OutlineTree()
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setToolTip(f"Outline ({OUTLINE_KEY}): arrows move, Enter jumps, Esc to the page")
        self.setWidget(self.tree)
        self.entries: list[OutlineEntry] = []
        self._items: list[QTreeWidgetItem] = []
        self.tree.itemActivated.connect(self._activated)
        self.tree.escaped.connect(self.escaped)
        self.set_outline([])
        self.hide()

    def set_outline(self, entries: Sequence[OutlineEntry]) -> None:
        """Show a document's outline (nested by level); [] shows "No outline"."""
        self.entries = list(entries)
        self.tree.clear()
        self._items = []
        parents: list[QTreeWidgetItem] = []  # the last item of each level above
        for i, entry in enumerate(self.entries):
            depth = min(max(entry.level, 1) - 1, len(parents))
            del parents[depth:]
            item = QTreeWidgetItem([entry.title or "(untitled)"])
            item.setData(0, INDEX_ROLE, i)
            if entry.page is None:
                item.setForeground(0, Qt.GlobalColor.gray)
                item.setToolTip(0, "Leads nowhere in this document")
            if parents:
                parents[-1].addChild(item)
            else:
                self.tree.addTopLevelItem(item)
            parents.append(item)
            self._items.append(item)
        if not self.entries:
            none = QTreeWidgetItem([NO_OUTLINE])
            none.setFlags(Qt.ItemFlag.NoItemFlags)
            self.tree.addTopLevelItem(none)
        self.tree.expandToDepth(0)

    def current_index(self) -> int | None:
        """The selected entry's index in ``entries`` (None: none selected)."""
        item = self.tree.currentItem()
        index = item.data(0, INDEX_ROLE) if item is not None else None
        return int(index) if index is not None else None

    def current_title(self) -> str | None:
        index = self.current_index()
        return self.entries[index].title if index is not None else None

    def follow(self, page: int) -> None:
        """Select the section 1-based ``page`` lies in (the page scrolled), never jumping.

        An entry already selected that leads to the same page as that section
        stays selected (two entries starting on one page: the one picked).
        """
        index = section_at(self.entries, page - 1) if page > 0 else None
        if index is None:
            return
        current = self.current_index()
        if current is not None and self.entries[current].page == self.entries[index].page:
            return
        item = self._items[index]
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)

    def toggle(self) -> bool:
        """F12: show the panel with the focus in it; from inside it, hide it. True if shown."""
        if self.isVisible() and self.tree.hasFocus():
            self.hide()
            return False
        self.show()
        self.raise_()
        self.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.tree.currentItem() is None and self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        return True

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        index = item.data(0, INDEX_ROLE)
        if index is None:
            return
        entry = self.entries[int(index)]
        if entry.page is not None:
            emit(self.pageRequested, entry.page + 1)
