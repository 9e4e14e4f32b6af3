"""The library in the app: a panel of folders and documents, the indexing's status
line, and the question bar's scope (this document or the library).

The indexing itself (``LibraryController``, off the UI thread) is ``indexing``.
``LibraryPanel`` draws folders, documents with their state and the reasons of
failures. ``LibraryUi`` bundles what the library adds to the main window (the dock,
the scope box, the Library menu, the status-bar progress) for the window to
place; it talks back only through its signals and never imports the window.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading import export
from desktop_qa.core.storage.library import (
    FAILED,
    IndexProgress,
    IndexReport,
)
from desktop_qa.gui.compat import emit
from desktop_qa.gui.indexing import EtaSmoother, LibraryController, progress_text
from desktop_qa.gui.messages import duration_text, user_message
from desktop_qa.gui.session import SCOPE_DOCUMENT, SCOPE_LIBRARY

DOCUMENT_KEY = "Ctrl+Shift+D"  # ask this document
LIBRARY_KEY = "Ctrl+Shift+L"  # ask the library
PANEL_KEY = "F9"  # show or hide the library panel


class LibraryPanel(QWidget):
    """Folders with their documents, each document's state, and why failures failed."""

    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.update_button = QPushButton("Update")
        self.update_button.setToolTip("Index what changed (resumes a stopped indexing)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop indexing; what is done stays indexed")
        for b in (self.add_button, self.remove_button, self.update_button, self.stop_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.failed_only = QCheckBox("Failed only")
        self.failed_only.setToolTip("List only the documents that could not be read, and why")
        self.failed_only.toggled.connect(self.refresh)
        layout.addWidget(self.failed_only)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Document", "State", "Reason"])
        self.tree.setRootIsDecorated(True)
        # Each column as wide as its longest text (a long reason scrolls sideways, never
        # cut off; the selected document's whole reason also shows, wrapped, below).
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._show_detail)
        layout.addWidget(self.tree, 1)
        # The selected document's path and reason in full (the column cuts them off).
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.hide()
        layout.addWidget(self.detail)
        self._progress: IndexProgress | None = None  # while indexing
        self._eta: float | None = None
        self._drawn_at = 0.0
        self.redraw_interval = 1.0  # seconds between redraws while indexing (reads the store)
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button.clicked.connect(self.remove_selected)
        self.update_button.clicked.connect(controller.update)
        self.stop_button.clicked.connect(controller.cancel)
        controller.changed.connect(self.refresh)
        controller.removalFailed.connect(self._removal_failed)
        controller.indexingStarted.connect(self._buttons)
        controller.indexingCancelled.connect(self._buttons)
        self.refresh()

    def _buttons(self) -> None:
        busy = self.controller.indexing
        self.stop_button.setEnabled(busy)
        self.update_button.setEnabled(not busy and bool(self.controller.folders()))
        self.remove_button.setEnabled(
            bool(self.controller.folders()) and not self.controller.removing
        )

    def _removal_failed(self, message: str) -> None:
        self.summary.setText(self._error(message))
        self._buttons()

    def indexing(self, p: IndexProgress | None, eta: float | None = None) -> None:
        """Indexing moved on (None: it ended): the counts now, the rows of the files done
        (redrawn at most once a second: the store is read again each time)."""
        self._progress, self._eta = p, eta
        now = time.monotonic()
        if p is None or now - self._drawn_at >= self.redraw_interval or p.done >= p.total:
            self.refresh()

    def refresh(self) -> None:
        """Redraw folders and documents from the database (selection and scroll kept)."""
        self._drawn_at = time.monotonic()
        current = self.tree.currentItem()
        keep = current.toolTip(0) if current is not None else None
        scroll = self.tree.verticalScrollBar().value()
        self.tree.clear()
        db = self.controller.db()
        folders = db.folder_rows() if db is not None else []
        only_failed = self.failed_only.isChecked()
        indexed = failed = 0
        restore = None
        for row in folders:
            counts = f"{row.indexed} indexed · {row.failed} failed"
            if not Path(row.path).is_dir():  # unplugged or moved: its documents are kept
                counts += " · folder absent"
            # The folder's name (its whole path in the tooltip and, selected, below the
            # list): a long path would widen the column and push the reasons out of view.
            item = QTreeWidgetItem([Path(row.path).name or row.path, "", counts])
            item.setData(0, 256, row.path)
            item.setToolTip(0, row.path)
            self.tree.addTopLevelItem(item)
            docs = db.documents(under=row.path, state=FAILED if only_failed else None)
            for doc in docs if db is not None else []:
                reason = export.listed_reason(doc.path, doc.error or "")
                child = QTreeWidgetItem(
                    [str(Path(doc.path).relative_to(row.path)), doc.state, reason]
                )
                child.setToolTip(0, doc.path)
                child.setData(0, 256, doc.error or "")
                if doc.state == FAILED:
                    child.setForeground(1, QColor("#b00020"))
                    child.setToolTip(2, doc.error or "")
                item.addChild(child)
                if doc.path == keep:
                    restore = child
            item.setExpanded(len(folders) == 1 or only_failed)
            indexed += row.indexed
            failed += row.failed
        if folders:
            text = f"{len(folders)} folder{'s' if len(folders) != 1 else ''}"
            text += f" · {indexed} indexed · {failed} could not be read"
            p = self._progress
            if p is not None:
                text += f" · {max(0, p.total - p.done)} left"
                if self._eta is not None:
                    text += f" (about {duration_text(self._eta)})"
        else:
            text = "No folders yet: add one to ask all its documents at once."
        problem = self.controller.problem  # a store that cannot change: say so, keep the list
        if problem:
            text = f"{text}<br>{self._error(problem)}" if folders else self._error(problem)
        self.summary.setText(text)
        if restore is not None:
            self.tree.setCurrentItem(restore)
        self.tree.verticalScrollBar().setValue(scroll)
        self._show_detail(self.tree.currentItem())
        self._buttons()

    def _show_detail(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        """The selected document's full path and, if it failed, the whole reason."""
        if item is None:
            self.detail.hide()
            return
        if item.parent() is None:  # a folder: its whole path
            self.detail.setText(str(item.data(0, 256)))
            self.detail.show()
            return
        error = str(item.data(0, 256) or "")
        path = item.toolTip(0)
        self.detail.setText(f"{path}\n{export.listed_reason(path, error)}" if error else path)
        self.detail.show()

    @staticmethod
    def _error(message: str) -> str:
        return f"<span style='color:#b00020'>{html.escape(message)}</span>"

    def rows(self) -> list[tuple[str, str, str]]:
        """(document, state, reason) of every document shown (tests)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            folder = self.tree.topLevelItem(i)
            for j in range(folder.childCount()):
                c = folder.child(j)
                out.append((c.toolTip(0), c.text(1), c.text(2)))
        return out

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder:
            self.add(folder)

    def add(self, folder: str) -> None:
        try:
            self.controller.add_folder(folder)
        except UserError as exc:
            self.summary.setText(self._error(user_message(exc)))

    def remove_selected(self) -> None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        if item is None and self.tree.topLevelItemCount() == 1:
            item = self.tree.topLevelItem(0)
        if item is not None:
            self.remove_button.setEnabled(False)  # until the removal has run
            self.controller.remove_folder(str(item.data(0, 256)))


class LibraryUi(QObject):
    """Everything the library adds to a window, as parts the window places.

    It knows no window: the window owns it, puts ``dock``, ``scope_box``,
    ``status`` and ``menu`` where they belong, adds ``actions`` for their
    shortcuts, and listens to ``focusQuestion`` and ``scopeChanged``. Asking
    stays the window's and the session's: no question passes through here.
    """

    focusQuestion = Signal()  # a scope was chosen from the keyboard: type the question
    scopeChanged = Signal(str)  # SCOPE_DOCUMENT or SCOPE_LIBRARY

    def __init__(self, parent: QObject | None = None, *, watch: bool = True) -> None:
        super().__init__(parent)
        self.controller = LibraryController(watch=watch)
        self.panel = LibraryPanel(self.controller)
        self.dock = QDockWidget("Library")
        self.dock.setObjectName("library-dock")
        self.dock.setWidget(self.panel)
        self.panel.setMinimumWidth(380)
        self.dock.hide()
        # The scope of the question bar.
        self.scope_box = QComboBox()
        self.scope_box.addItem(f"This document ({DOCUMENT_KEY})", SCOPE_DOCUMENT)
        self.scope_box.addItem(f"Library ({LIBRARY_KEY})", SCOPE_LIBRARY)
        self.scope_box.setToolTip("Ask the open document or every document of the library")
        self.scope_box.currentIndexChanged.connect(self._scope_changed)
        # Status bar: indexing progress.
        self.status = QLabel("")
        self.status.hide()
        self._clear_timer = QTimer(self)  # owned: stops with the window
        self._clear_timer.setSingleShot(True)
        self._clear_timer.setInterval(8000)
        self._clear_timer.timeout.connect(self._clear_status)
        # Menu and shortcuts.
        self.menu = QMenu("&Library")
        self.actions: list[QAction] = []
        self._action("Ask This &Document", self.scope_document, DOCUMENT_KEY)
        self._action("Ask the &Library", self.scope_library, LIBRARY_KEY)
        self.menu.addSeparator()
        self._action("&Add Folder…", self.panel.choose_folder)
        self._action("&Update Library", self.controller.update)
        self._action("&Stop Indexing", self.controller.cancel)
        self.panel_action = self.dock.toggleViewAction()
        self.panel_action.setText("Library &Panel")
        self.panel_action.setShortcut(QKeySequence(PANEL_KEY))
        self.menu.addAction(self.panel_action)
        self.actions.append(self.panel_action)
        c = self.controller
        self.eta = EtaSmoother()
        c.indexingStarted.connect(self._indexing_started)
        c.indexingProgress.connect(self._indexing_progress)
        for ended in (c.indexingFinished, c.indexingCancelled, c.indexingFailed):
            ended.connect(lambda *_a: self.panel.indexing(None))
        c.indexingFinished.connect(self._finished)
        c.indexingCancelled.connect(lambda: self._status("Indexing stopped (Update resumes it)"))
        c.indexingFailed.connect(lambda m: self._status(f"Indexing failed: {m}"))
        c.watchStatus.connect(self._status)

    def _action(self, text: str, slot: Callable[[], object], key: str | None = None) -> QAction:
        action = QAction(text, self)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        self.menu.addAction(action)
        self.actions.append(action)
        return action

    def start(self) -> None:
        """Once placed: resume or refresh the index of every folder, and watch them."""
        self.controller.start()

    # -- scope ---------------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return str(self.scope_box.currentData())

    def scope_document(self) -> None:
        self.scope_box.setCurrentIndex(0)
        emit(self.focusQuestion)

    def scope_library(self) -> None:
        self.scope_box.setCurrentIndex(1)
        emit(self.focusQuestion)

    def _scope_changed(self, _index: int) -> None:
        if self.scope == SCOPE_LIBRARY and not self.controller.folders():
            self.dock.show()
        emit(self.scopeChanged, self.scope)

    # -- status --------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _indexing_started(self) -> None:
        self.eta.reset()
        self._status("Indexing…")

    def _indexing_progress(self, p: IndexProgress) -> None:
        """One time left for the status bar and the panel, from the smoothed rate."""
        eta = self.eta.update(p.done, p.total, time.monotonic())
        self._status(progress_text(p, eta))
        self.panel.indexing(p, eta)

    def _finished(self, report: IndexReport) -> None:
        text = f"Library up to date: {report.extracted} read, {report.removed} removed"
        if report.failed:
            text += f", {report.failed} could not be read (see the Library panel)"
        if report.absent:
            text += f", {len(report.absent)} folder(s) absent (their documents are kept)"
        self._status(text)
        self._clear_timer.start()

    def _clear_status(self) -> None:
        if not self.controller.indexing:
            self._status("")

    def shutdown(self) -> None:
        self._clear_timer.stop()
        self.controller.shutdown()
