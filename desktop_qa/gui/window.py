"""The main window: it builds and places the widgets, and wires the Session to them.

Its parts each have a module: the menus and toolbar (``menus``), a question's
way from the question bar to its highlight (``answering``), the model's label
and first-run panel (``modelstatus``), the dialogs (``dialogs``), the
library's dock and scope box (``library``). It owns no state of its own
beyond widgets: every action calls the Session, and every change arrives
back as a Session signal. Building and wiring stay together here (a little
over 500 lines) so each widget is found where it is made and connected.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_qa.core.documents.document import MUPDF_SUFFIXES, TEXT_SUFFIXES, Document
from desktop_qa.gui import dialogs, shortcuts
from desktop_qa.gui.answering import AnswerFlow
from desktop_qa.gui.findbar import FindBar
from desktop_qa.gui.library import LIBRARY_KEY, LibraryUi
from desktop_qa.gui.menus import Menus
from desktop_qa.gui.messages import user_message
from desktop_qa.gui.modelstatus import ModelStatus
from desktop_qa.gui.outline import OutlinePanel
from desktop_qa.gui.pagebox import PageBox
from desktop_qa.gui.pageview import PdfView
from desktop_qa.gui.panels import Banner, FirstRunPanel, PasswordDialog
from desktop_qa.gui.questionbar import QuestionBar
from desktop_qa.gui.results import ResultsPanel
from desktop_qa.gui.session import SCOPE_LIBRARY, Session
from desktop_qa.gui.textview import TextView

# The same list of types the core opens (document.TEXT_SUFFIXES | MUPDF_SUFFIXES).
OPEN_FILTER = (
    "Documents ("
    + " ".join(f"*{s}" for s in sorted(MUPDF_SUFFIXES) + sorted(TEXT_SUFFIXES))
    + ");;All files (*)"
)


PROGRESS_MIN_WIDTH = 120  # the question row's bar: at least this wide, at most as wide as
PROGRESS_MAX_WIDTH = 420  # its words need up to this (then elided in the middle)


class MainWindow(QMainWindow):
    """A thin view over a Session."""

    def __init__(self, session: Session, *, restore_geometry: bool = True) -> None:
        super().__init__()
        self.session = session
        self.last_message: QMessageBox | None = None
        self.password_dialog: PasswordDialog | None = None
        self.setWindowTitle("desktop-qa")
        self.setAcceptDrops(True)
        self.resize(1280, 860)
        self._build()
        self._connect()
        if restore_geometry:
            self._restore_geometry()
        self._update_recent()
        self.set_idle()
        if session.settings_warning:
            self.statusBar().showMessage(session.settings_warning, 15000)
        self._place_library()

    # -- construction -----------------------------------------------------------
    def _build(self) -> None:
        s = self.session
        # Viewers.
        self.pdf_view = PdfView(s.mupdf_pool)
        self.text_view = TextView()
        self.placeholder = QLabel(
            "<h2>Open a document</h2><p>Ctrl+O, File ▸ Open Recent, or drop a PDF, EPUB, "
            "XPS or text file here.</p><p>Then press Ctrl+F and ask a question.</p>"
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #555;")
        self.viewer = QStackedWidget()
        for w in (self.placeholder, self.pdf_view, self.text_view):
            w.setAcceptDrops(False)
            self.viewer.addWidget(w)
        self.text_view.viewport().setAcceptDrops(False)
        # Right side: the first-run panel (only while no model is loaded) above the
        # answers, so keyword answers stay visible before a model is installed.
        self.results = ResultsPanel()
        self.first_run = FirstRunPanel()
        self.first_run.hide()
        self.side = QWidget()
        side_layout = QVBoxLayout(self.side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.first_run)
        side_layout.addWidget(self.results, 1)
        # The answers keep 260 px; the column is never narrower than the no-model panel's
        # buttons need (a minimum set on ``side`` itself would override its layout's).
        self.results.setMinimumWidth(260)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.viewer)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 360])
        # Question row.
        self.question = QuestionBar()
        self.question.setPlaceholderText("Ask a question about this document…  (Ctrl+F)")
        self.question.setClearButtonEnabled(True)
        self.ask_button = QPushButton("Ask")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(PROGRESS_MIN_WIDTH)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running question or document loading (Esc)")
        row = QHBoxLayout()
        row.setContentsMargins(8, 6, 8, 2)
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        self.question_row = row
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setContentsMargins(10, 0, 10, 2)
        self.message.hide()
        self.banner = Banner()
        self.findbar = FindBar(self.pdf_view, self.text_view)
        self.outline = OutlinePanel(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.outline)
        top = QWidget()
        col = QVBoxLayout(top)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addLayout(row)
        col.addWidget(self.message)
        col.addWidget(self.findbar)
        col.addWidget(self.banner)
        col.addWidget(self.splitter, 1)
        self.setCentralWidget(top)
        # Status bar.
        self.model_label = QLabel("Model: loading…")
        self.time_label = QLabel("")
        self.statusBar().addPermanentWidget(self.time_label)
        self.statusBar().addPermanentWidget(self.model_label)
        self.page_box = PageBox()
        self.page_count_label = QLabel(" of 0 ")
        self.zoom_label = QLabel("")
        self.menus = Menus(
            self,
            self,
            [QLabel(" Page "), self.page_box, self.page_count_label, None, self.zoom_label],
        )

    def _connect(self) -> None:
        s = self.session
        s.documentLoading.connect(self._document_loading)
        s.documentProgress.connect(self._document_progress)
        s.documentStatus.connect(self._document_status)
        s.documentLoaded.connect(self._document_loaded)
        s.documentPending.connect(self.statusBar().showMessage)
        s.documentCompleted.connect(self._document_completed)
        s.documentFailed.connect(self._document_failed)
        s.documentCancelled.connect(self._document_cancelled)
        s.documentPasswordNeeded.connect(self.ask_password)
        self.model_status = ModelStatus(
            s,
            label=self.model_label,
            banner=self.banner,
            first_run=self.first_run,
            status=self.statusBar().showMessage,
            error=self.show_error,
        )
        self.answers = AnswerFlow(
            s,
            self,
            question=self.question,
            results=self.results,
            viewer=self.viewer,
            pdf_view=self.pdf_view,
            text_view=self.text_view,
            findbar=self.findbar,
            time_label=self.time_label,
            scope=lambda: self.library.scope,
        )
        s.settingsChanged.connect(self._update_recent)
        s.warning.connect(lambda text: self.statusBar().showMessage(text, 10000))
        s.answerDocumentLoaded.connect(self._answer_document_loaded)
        s.answerDocumentFailed.connect(lambda m: self.show_error("Cannot open document", m))
        self.question.escaped.connect(self.cancel)
        self.question.textChanged.connect(lambda _t: self.show_message(""))
        self.ask_button.clicked.connect(lambda: self.answers.submit(False))
        self.cancel_button.clicked.connect(self.cancel)
        self.first_run.chooseFolder.connect(self.choose_model_folder)
        self.pdf_view.pageChanged.connect(self._page_changed)
        self.pdf_view.zoomChanged.connect(lambda z: self.zoom_label.setText(f" {z * 100:.0f}% "))
        self.pdf_view.slashPressed.connect(self.focus_question)
        self.text_view.slashPressed.connect(self.focus_question)
        self.page_box.valueChanged.connect(self._page_box_changed)
        self.page_box.entered.connect(self._page_entered)
        self.page_box.escaped.connect(self.focus_viewer)
        self.outline.pageRequested.connect(self.pdf_view.go_to_page)
        self.outline.escaped.connect(self.focus_viewer)
        self.findbar.closed.connect(self._find_closed)

    def _place_library(self) -> None:
        """The library's dock, scope box, menu and status (issue 11): the window owns them."""
        lib = self.library = LibraryUi(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, lib.dock)
        self.question_row.insertWidget(0, lib.scope_box)
        self.statusBar().addPermanentWidget(lib.status)
        self.menuBar().addMenu(lib.menu)
        self.addActions(lib.actions)
        lib.focusQuestion.connect(self.focus_question)
        lib.scopeChanged.connect(self._scope_changed)
        lib.start()

    def _scope_changed(self, scope: str) -> None:
        self.question.setPlaceholderText(
            f"Ask every document of the library…  ({LIBRARY_KEY})"
            if scope == SCOPE_LIBRARY
            else "Ask a question about this document…  (Ctrl+F)"
        )

    # -- geometry & recent files --------------------------------------------------
    def _restore_geometry(self) -> None:
        st = self.session.settings
        if st.geometry:
            self.restoreGeometry(QByteArray.fromBase64(st.geometry.encode("ascii")))

    def _update_recent(self) -> None:
        menu = self.menus.recent_menu
        menu.clear()
        recent = self.session.settings.recent_files
        for path in recent:
            action = menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        if not recent:
            none = menu.addAction("(none)")
            none.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        st = self.session.settings
        st.geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.session.save_settings()
        self.library.shutdown()
        # Everything is cancelled, nothing waited for (the window closes at once);
        # ``app.quit_now`` gives the jobs a moment, then ends the process.
        self.session.shutdown()
        self.pdf_view.renderer.close()  # its drawing process
        super().closeEvent(event)

    # -- user actions -------------------------------------------------------------
    def open_file(self, path: str | Path) -> None:
        self.session.open_document(path)

    def choose_file(self) -> None:
        start = ""
        if self.session.settings.recent_files:
            start = str(Path(self.session.settings.recent_files[0]).parent)
        path, _ = QFileDialog.getOpenFileName(self, "Open document", start, OPEN_FILTER)
        if path:
            self.open_file(path)

    def choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model pack folder")
        if folder:
            self.session.choose_model_folder(folder)

    def focus_question(self) -> None:
        self.question.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.question.selectAll()

    def go_to_page(self, page: int) -> None:
        """Show 1-based ``page`` (``desktop-qa FILE --page N``); text files have no pages."""
        if self.viewer.currentWidget() is self.pdf_view:
            self.pdf_view.go_to_page(page)

    def focus_page(self) -> None:
        self.page_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.page_box.selectAll()

    def focus_viewer(self) -> None:
        self.viewer.currentWidget().setFocus(Qt.FocusReason.OtherFocusReason)

    def cancel(self) -> None:
        """Esc: stop the running query or loading; otherwise leave the question bar."""
        if self.session.cancel_query() or self.session.cancel_loading():
            return
        if not self.first_run.isHidden() and self.model_status.cancel_download():
            return
        if self.findbar.active:
            self.findbar.close_bar()
        elif self.question.hasFocus() or self.page_box.hasFocus():
            self.focus_viewer()

    def step(self, forward: bool) -> None:
        """F3 / Shift+F3: the next hit while the find bar is open, else the next answer."""
        if self.findbar.active:
            self.findbar.step(forward)
        else:
            self.session.step(1 if forward else -1)

    def toggle_outline(self) -> None:
        """F12: the outline with the focus in it; from inside it, hidden (back to the page)."""
        if not self.outline.toggle():
            self.focus_viewer()

    def _find_closed(self) -> None:
        """Esc in the find bar: the answers' highlights come back, the focus to the page."""
        self.answers.show_highlights(self.session.current)
        self.focus_viewer()

    def read_whole(self) -> None:
        """Ctrl+Enter: read more (``AnswerFlow.read_more``)."""
        self.answers.read_more()

    def copy(self) -> None:
        if self.viewer.currentWidget() is self.pdf_view:
            if self.pdf_view.copy_selection():
                self.statusBar().showMessage("Copied", 2000)
        elif self.viewer.currentWidget() is self.text_view:
            self.text_view.copy()

    def copy_citation(self) -> str:
        """Ctrl+Shift+C: the current answer with its document and page, on the clipboard."""
        return self.answers.copy_citation()

    def choose_export_file(self) -> None:
        """File ▸ Export Answers…: Markdown, CSV or JSON, by the file's extension."""
        self.answers.choose_export_file()

    def export_answers(self, path: str | Path) -> bool:
        """Write the shown result to ``path`` in the format its extension names."""
        return self.answers.export_answers(path)

    def ask_password(self, path: str, wrong: bool) -> None:
        """A protected document: ask for its password (again, if the last one was wrong)."""
        self.set_idle()
        self.statusBar().clearMessage()
        if self.password_dialog is not None:
            self.password_dialog.close()

        def unlock(password: str) -> None:
            self.password_dialog = None
            self.session.open_document(path, password=password)

        def cancelled() -> None:
            self.password_dialog = None
            self.session.cancel_password()
            self.statusBar().showMessage("Opening cancelled", 4000)

        self.password_dialog = dialogs.ask_password(
            self, path, wrong, unlock=unlock, cancelled=cancelled
        )

    def open_settings(self) -> None:
        dialogs.edit_settings(self, self.session.settings, self.session.update_settings)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) of every shortcut: Help ▸ Keyboard Shortcuts, docs/gui.md."""
        return shortcuts.rows(self)

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts (F1): every shortcut works wherever the focus is."""
        self.last_message = shortcuts.show(self)

    def show_about(self) -> None:
        self.last_message = dialogs.about_box(self, self.session.pack)

    def _page_entered(self, page: int) -> None:
        """Enter in the page box: that page, and the keys back to the page view."""
        self.pdf_view.go_to_page(page)
        self.focus_viewer()

    def _page_box_changed(self, value: int) -> None:
        if value and value != self.pdf_view.current_page():
            self.pdf_view.go_to_page(value)

    # -- drag and drop ------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_file(url.toLocalFile())
                event.acceptProposedAction()
                return

    # -- messages -----------------------------------------------------------------
    def show_message(self, text: str, error: bool = True) -> None:
        """The inline line under the question bar (empty hides it)."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if error else "color: #555;")
        self.message.setVisible(bool(text))

    def show_error(self, title: str, text: str) -> None:
        """A short, non-blocking dialog with the core's one-line message."""
        if self.last_message is not None:
            self.last_message.close()
        self.last_message = dialogs.error_box(self, title, text)

    def set_busy(self, text: str, maximum: int = 0) -> None:
        """The question row's progress and Cancel button, for a question or a document."""
        self.progress.setRange(0, maximum)
        self.progress.setValue(0)
        self._progress_text(text)
        self.progress.show()
        self.cancel_button.show()

    def _progress_text(self, text: str) -> None:
        """The bar's words, the bar as wide as they are (Qt centres a text too wide for
        the bar and cuts both ends: "CR page 2 of 2"); past ``PROGRESS_MAX_WIDTH`` they
        are elided in the middle, an ellipsis showing what is left out."""
        bar = self.progress
        bar.setFormat(text)
        shown = bar.text()  # %v, %m and %p filled in
        metrics = bar.fontMetrics()
        pad = 24  # the bar's frame and the style's margins around its text
        need = metrics.horizontalAdvance(shown) + pad
        width = max(PROGRESS_MIN_WIDTH, min(PROGRESS_MAX_WIDTH, need))
        if need > width:
            elided = metrics.elidedText(shown, Qt.TextElideMode.ElideMiddle, width - pad)
            bar.setFormat(elided.replace("%", "%%"))
        bar.setFixedWidth(width)

    def set_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def show_progress(self, done: int, maximum: int, text: str) -> None:
        """``done`` of ``maximum`` in the progress bar, with ``text`` (Qt's %p, %v) on it."""
        self.progress.setRange(0, maximum)
        self.progress.setValue(done)
        self._progress_text(text)

    # -- session signals ----------------------------------------------------------
    def _document_loading(self, path: str) -> None:
        self.show_message("")  # a message of the last action ("the question is empty") goes
        self.set_busy(f"Opening {Path(path).name}…")
        self.statusBar().showMessage(f"Opening {path}…")

    def _document_progress(self, done: int, total: int) -> None:
        self.show_progress(done, total, f"Opening: page %v of {total}")

    def _document_status(self, text: str, done: int, total: int) -> None:
        """A named step of opening (OCR of a scanned page takes seconds per page)."""
        self.show_progress(max(done, 0), max(total, 1), text.replace("%", "%%"))

    def _answer_document_loaded(self, doc: Document) -> None:
        """A library answer's document, loaded for it: shown, the answers kept."""
        if not self.session.busy:
            self.set_idle()
        self.show_in_viewer(doc)
        self.answers.show_current(self.session.current)

    def _document_loaded(self, doc: Document) -> None:
        self.statusBar().clearMessage()
        if not self.session.busy:
            self.set_idle()
        self.results.show_result((), False, None)
        refused = self.session.opened.unanswerable if self.session.opened else None
        # A document opened for viewing only (no text): the one line why, in the window's words.
        self.results.set_header(
            user_message(refused) if refused else "Ask a question to see answers here."
        )
        self.show_in_viewer(doc, self.session.document_password)
        self.focus_question()

    def _document_completed(self, doc: Document) -> None:
        """Scanned pages joined the document: find covers them; the pages stay where they are."""
        self.findbar.set_document(doc)
        if doc.kind != "pdf":
            self.text_view.set_document(doc)
        self.statusBar().showMessage("The scanned pages were read: questions cover them now", 8000)

    def show_in_viewer(self, doc: Document, password: str | None = None) -> None:
        """Put a document in the page (or text) view: title, page box, zoom actions."""
        self.setWindowTitle(f"{doc.name} — desktop-qa")
        self.findbar.set_document(doc)  # first: the old hits must not follow the new pages
        self.outline.set_outline(doc.outline)
        self.pdf_view.set_document(doc, password)
        self.text_view.set_document(doc)
        if doc.kind == "pdf":
            self.viewer.setCurrentWidget(self.pdf_view)
            self.page_box.set_pages(max(1, doc.page_count), doc.page_labels)
            self._page_changed(self.pdf_view.current_page(), doc.page_count)
        else:
            self.viewer.setCurrentWidget(self.text_view)
            self.page_box.set_pages(0)
            self.page_count_label.setText(" (text) ")
        for w in (self.page_box, *self.menus.page_actions):
            w.setEnabled(doc.kind == "pdf")

    def _document_failed(self, message: str) -> None:
        self.set_idle()
        self.statusBar().showMessage("Could not open the document", 5000)
        self.show_error("Cannot open document", message)

    def _document_cancelled(self) -> None:
        self.set_idle()
        self.statusBar().showMessage("Opening cancelled", 4000)

    def _page_changed(self, page: int, count: int) -> None:
        self.page_box.blockSignals(True)
        self.page_box.setValue(page)
        self.page_box.blockSignals(False)
        count = self.pdf_view.page_count
        label = self.page_box.label(page)
        # "vii" in the box, "(7 of 352)" beside it; without labels " of 352 ".
        self.page_count_label.setText(f" ({page} of {count}) " if label else f" of {count} ")
        self.outline.follow(page)
        self.findbar.refresh()

    # -- helpers for tests and --screenshot -----------------------------------------
    def render_idle(self) -> bool:
        """True once the visible pages are drawn at the current zoom."""
        if self.viewer.currentWidget() is not self.pdf_view:
            return True
        self.pdf_view.viewport().repaint()
        return not self.pdf_view.missing_pages() and self.pdf_view.renderer.pending() == 0

    def when_rendered(self, callback: object, timeout_ms: int = 15000) -> None:
        """Call ``callback()`` once rendering is idle (or after ``timeout_ms``)."""
        waited = [0]

        def poll() -> None:
            if self.render_idle() or waited[0] >= timeout_ms:
                callback()  # type: ignore[operator]
                return
            waited[0] += 50
            QTimer.singleShot(50, poll)

        QTimer.singleShot(0, poll)
