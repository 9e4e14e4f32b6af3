"""The main window: question bar, page/text viewer, answers list, status bar.

It owns no state of its own beyond widgets: every action calls the Session,
and every change arrives back as a Session signal.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_qa.core import export
from desktop_qa.core.document import MUPDF_SUFFIXES, TEXT_SUFFIXES, Document
from desktop_qa.core.pack import ModelPack
from desktop_qa.core.results import QueryResult
from desktop_qa.gui import shortcuts
from desktop_qa.gui.findbar import FIND_KEY, FindBar
from desktop_qa.gui.library import LIBRARY_KEY, LibraryUi
from desktop_qa.gui.messages import CHOOSE_PACK, user_message
from desktop_qa.gui.outline import OUTLINE_KEY, OutlinePanel
from desktop_qa.gui.pagebox import PageBox
from desktop_qa.gui.pageview import PdfView
from desktop_qa.gui.panels import (
    Banner,
    FirstRunPanel,
    PasswordDialog,
    SettingsDialog,
    about_html,
)
from desktop_qa.gui.questionbar import QuestionBar
from desktop_qa.gui.results import ResultsPanel
from desktop_qa.gui.session import DONE, SCOPE_LIBRARY, Session, Shown
from desktop_qa.gui.textview import TextView

# The same list of types the core opens (document.TEXT_SUFFIXES | MUPDF_SUFFIXES).
OPEN_FILTER = (
    "Documents ("
    + " ".join(f"*{s}" for s in sorted(MUPDF_SUFFIXES) + sorted(TEXT_SUFFIXES))
    + ");;All files (*)"
)
EXPORT_FILTERS = {
    "Markdown (*.md)": ".md",
    "CSV (*.csv)": ".csv",
    "JSON (*.json)": ".json",
}


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
        self._set_idle()
        if session.settings_warning:
            self.statusBar().showMessage(session.settings_warning, 15000)
        if session.pack is not None:
            self._model_changed(session.pack)
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
        self.side.setMinimumWidth(260)
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
        self.progress.setMaximumWidth(220)
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
        self._build_actions()

    def _action(
        self, text: str, slot: object, shortcut: object = None, menu: object = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)  # type: ignore[attr-defined]
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open…", self.choose_file, QKeySequence.StandardKey.Open, file_menu
        )
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        self.export_action = self._action(
            "&Export Answers…", self.choose_export_file, QKeySequence("Ctrl+E"), file_menu
        )
        file_menu.addSeparator()
        self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, file_menu)
        view = bar.addMenu("&View")
        self.zoom_in_action = self._action(
            "Zoom &In",
            self.pdf_view.zoom_in,
            [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")],
            view,
        )
        self.zoom_out_action = self._action(
            "Zoom &Out", self.pdf_view.zoom_out, [QKeySequence("Ctrl+-")], view
        )
        self.fit_action = self._action(
            "&Fit Width", self.pdf_view.zoom_fit_width, QKeySequence("Ctrl+0"), view
        )
        view.addSeparator()
        self.goto_action = self._action(
            "&Go to Page…", self.focus_page, QKeySequence("Ctrl+G"), view
        )
        self.outline_action = self._action(
            "&Outline", self.toggle_outline, QKeySequence(OUTLINE_KEY), view
        )
        find = bar.addMenu("&Ask")
        self._action("&Question", self.focus_question, QKeySequence.StandardKey.Find, find)
        self.find_action = self._action(
            "&Find Words…", self.findbar.open_bar, QKeySequence(FIND_KEY), find
        )
        self.next_action = self._action(
            "&Next Answer", lambda: self.step(True), QKeySequence("F3"), find
        )
        self.prev_action = self._action(
            "&Previous Answer", lambda: self.step(False), QKeySequence("Shift+F3"), find
        )
        self.read_whole_action = self._action(
            "Read the &Whole Document",
            self.read_whole,
            [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
            find,
        )
        self._action("&Cancel", self.cancel, QKeySequence("Esc"), find)
        find.addSeparator()
        self.copy_citation_action = self._action(
            "Copy Answer with &Citation",
            self.copy_citation,
            QKeySequence("Ctrl+Shift+C"),
            find,
        )
        self.copy_action = self._action("&Copy", self.copy, None)
        # Ctrl+C only while the page view has focus (the line edit keeps its own Copy).
        QShortcut(
            QKeySequence.StandardKey.Copy,
            self.pdf_view,
            self.copy,
            Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        tools = bar.addMenu("&Tools")
        self._action("&Settings…", self.open_settings, None, tools)
        self.choose_pack_action = self._action(
            CHOOSE_PACK.replace("Pack", "&Pack", 1), self.choose_model_folder, None, tools
        )
        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", self.show_shortcuts, QKeySequence("F1"), help_menu
        )
        self._action("&About desktop-qa", self.show_about, None, help_menu)
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
        tb.addWidget(QLabel(" Page "))
        self.page_box = PageBox()
        tb.addWidget(self.page_box)
        self.page_count_label = QLabel(" of 0 ")
        tb.addWidget(self.page_count_label)
        tb.addSeparator()
        self.zoom_label = QLabel("")
        tb.addWidget(self.zoom_label)
        self.addToolBar(tb)

    def _connect(self) -> None:
        s = self.session
        s.documentLoading.connect(self._document_loading)
        s.documentProgress.connect(self._document_progress)
        s.documentStatus.connect(self._document_status)
        s.documentLoaded.connect(self._document_loaded)
        s.documentFailed.connect(self._document_failed)
        s.documentCancelled.connect(self._document_cancelled)
        s.documentPasswordNeeded.connect(self.ask_password)
        s.modelLoading.connect(lambda _p: self.model_label.setText("Model: loading…"))
        s.modelChanged.connect(self._model_changed)
        s.modelMissing.connect(self._model_missing)
        s.modelFailed.connect(self._model_failed)
        s.queryStarted.connect(self._query_started)
        s.queryProgress.connect(self._query_progress)
        s.queryFinished.connect(self._query_finished)
        s.queryFailed.connect(self._query_failed)
        s.queryCancelled.connect(self._query_cancelled)
        s.answersChanged.connect(self._answers_changed)
        s.currentAnswerChanged.connect(self._current_changed)
        s.settingsChanged.connect(self._update_recent)
        s.downloadStarted.connect(self._download_started)
        s.downloadProgress.connect(self._download_progress)
        s.downloadFinished.connect(self._download_finished)
        s.downloadFailed.connect(self._download_failed)
        s.downloadCancelled.connect(self._download_cancelled)
        s.warning.connect(lambda text: self.statusBar().showMessage(text, 10000))
        s.answerDocumentLoaded.connect(self._answer_document_loaded)
        s.answerDocumentFailed.connect(lambda m: self.show_error("Cannot open document", m))
        self.question.submitted.connect(self._submitted)
        self.question.escaped.connect(self.cancel)
        self.question.textChanged.connect(lambda _t: self._show_message(""))
        self.ask_button.clicked.connect(lambda: self._submitted(False))
        self.cancel_button.clicked.connect(self.cancel)
        self.results.answerActivated.connect(self.session.select)
        self.results.guessRequested.connect(self.session.show_best_guess)
        self.results.readWholeRequested.connect(self.read_whole)
        self.first_run.chooseFolder.connect(self.choose_model_folder)
        self.first_run.downloadRequested.connect(self.download_model)
        self.first_run.cancelRequested.connect(self.cancel_download)
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
        s.queryStarted.connect(lambda _q: self.findbar.close_bar() if self.findbar.active else None)

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
        self.recent_menu.clear()
        recent = self.session.settings.recent_files
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        if not recent:
            none = self.recent_menu.addAction("(none)")
            none.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        st = self.session.settings
        st.geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.session.save_settings()
        self.library.shutdown()
        self.session.shutdown()
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

    def download_model(self) -> None:
        """First-run panel: the same download as 'desktop-qa model download', in the background."""
        self.session.download_model()

    def cancel_download(self) -> None:
        if self.session.cancel_download():
            self.first_run.set_cancelling()

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
        if not self.first_run.isHidden() and self.session.cancel_download():
            self.first_run.set_cancelling()
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
        self._show_answer_highlights(self.session.current)
        self.focus_viewer()

    def read_whole(self) -> None:
        """Ctrl+Enter: read more, for either scope (the whole document; the library deeper;
        after Esc, on from where it stopped)."""
        s = self.session
        if s.read_more():
            return
        if s.busy:
            text = "Still reading (Esc stops)"
        elif s.result is None:
            text = "Ask a question first"
        elif s.result.mode == "keyword":
            text = "Keyword search lists every match already (no model to read more)"
        else:
            text = "Nothing more to read: all of it has been read"
        self.statusBar().showMessage(text, 3000)

    def copy(self) -> None:
        if self.viewer.currentWidget() is self.pdf_view:
            if self.pdf_view.copy_selection():
                self.statusBar().showMessage("Copied", 2000)
        elif self.viewer.currentWidget() is self.text_view:
            self.text_view.copy()

    def copy_citation(self) -> str:
        """Put the current answer with its document and page on the clipboard."""
        answer, result = self.session.current_answer, self.session.result
        if answer is None or result is None:
            self.statusBar().showMessage("No answer to copy: ask a question first", 3000)
            return ""
        text = export.citation(answer.to_json(), result.document)
        QApplication.clipboard().setText(text)
        self.statusBar().showMessage("Copied the answer with its citation", 3000)
        return text

    def choose_export_file(self) -> None:
        """File ▸ Export Answers…: Markdown, CSV or JSON, by the file's extension."""
        result = self.session.result
        if result is None:
            self.statusBar().showMessage("No answers to export: ask a question first", 3000)
            return
        stem = Path(result.document).stem or "answers"
        start = str(Path.home() / f"{stem}-answers.md")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export answers", start, ";;".join(EXPORT_FILTERS)
        )
        if not path:
            return
        if export.format_for(path) is None:
            path += EXPORT_FILTERS.get(chosen, ".md")
        self.export_answers(path)

    def export_answers(self, path: str | Path) -> bool:
        """Write the shown result to ``path`` in the format its extension names."""
        result = self.session.result
        fmt = export.format_for(path)
        if result is None or fmt is None:
            return False
        model = self.session.pack.describe() if self.session.pack is not None else None
        text = export.render(result.to_json(), fmt, model)
        try:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            self.show_error("Cannot export answers", f"{path}: {exc.strerror or exc}")
            return False
        self.statusBar().showMessage(f"Exported the answers to {path}", 5000)
        return True

    def ask_password(self, path: str, wrong: bool) -> None:
        """A protected document: ask for its password (again, if the last one was wrong)."""
        self._set_idle()
        self.statusBar().clearMessage()
        if self.password_dialog is not None:
            self.password_dialog.close()
        dialog = PasswordDialog(path, wrong, self)
        self.password_dialog = dialog

        def done(code: int) -> None:
            self.password_dialog = None
            if code:
                self.session.open_document(path, password=dialog.password())
            else:
                self.session.cancel_password()
                self.statusBar().showMessage("Opening cancelled", 4000)
            dialog.field.clear()
            dialog.deleteLater()

        dialog.finished.connect(done)
        dialog.open()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.session.settings, self)
        if dialog.exec():
            top_k, strictness, exhaustive = dialog.values()
            ocr_mode, ocr_languages = dialog.ocr_values()
            self.session.update_settings(
                top_k=top_k,
                strictness=strictness,
                exhaustive=exhaustive,
                cache_protected=dialog.cache_protected.isChecked(),
                ocr_mode=ocr_mode,
                ocr_languages=ocr_languages,
            )

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) of every shortcut: Help ▸ Keyboard Shortcuts, docs/gui.md."""
        return shortcuts.rows(self)

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts (F1): every shortcut works wherever the focus is."""
        self.last_message = shortcuts.show(self)

    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About desktop-qa")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_html(self.session.pack))
        box.setIcon(QMessageBox.Icon.Information)
        self.last_message = box
        box.open()

    def _submitted(self, shift: bool) -> None:
        """Enter: ask a new question, or step through answers when it is unchanged."""
        text = " ".join(self.question.text().split())
        s = self.session
        if text and s.busy and text == s.question:
            return  # already asking exactly this
        if text and s.result is not None and text == s.result.question and not s.busy:
            s.step(-1 if shift else 1)
            return
        s.ask(text, self.library.scope)  # the scope box: the library or this document

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
    def _show_message(self, text: str, error: bool = True) -> None:
        """The inline line under the question bar (empty hides it)."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if error else "color: #555;")
        self.message.setVisible(bool(text))

    def show_error(self, title: str, text: str) -> None:
        """A short, non-blocking dialog with the core's one-line message."""
        if self.last_message is not None:
            self.last_message.close()
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self
        )
        self.last_message = box
        box.open()

    def _set_busy(self, text: str, maximum: int = 0) -> None:
        self.progress.setRange(0, maximum)
        self.progress.setValue(0)
        self.progress.setFormat(text)
        self.progress.show()
        self.cancel_button.show()

    def _set_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    # -- session signals ----------------------------------------------------------
    def _document_loading(self, path: str) -> None:
        self._set_busy(f"Opening {Path(path).name}…")
        self.statusBar().showMessage(f"Opening {path}…")

    def _document_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"Opening: page %v of {total}")

    def _document_status(self, text: str, done: int, total: int) -> None:
        """A named step of opening (OCR of a scanned page takes seconds per page)."""
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(max(done, 0))
        self.progress.setFormat(text.replace("%", "%%"))

    def _answer_document_loaded(self, doc: Document) -> None:
        """A library answer's document, loaded for it: shown, the answers kept."""
        if not self.session.busy:
            self._set_idle()
        self.show_in_viewer(doc)
        self._current_changed(self.session.current)

    def _document_loaded(self, doc: Document) -> None:
        self.statusBar().clearMessage()
        if not self.session.busy:
            self._set_idle()
        self.results.show_result((), False, None)
        refused = self.session.opened.unanswerable if self.session.opened else None
        # A document opened for viewing only (no text): the one line why, in the window's words.
        self.results.set_header(
            user_message(refused) if refused else "Ask a question to see answers here."
        )
        self.show_in_viewer(doc, self.session.document_password)
        self.focus_question()

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
        for w in (self.page_box, self.zoom_in_action, self.zoom_out_action, self.fit_action):
            w.setEnabled(doc.kind == "pdf")

    def _document_failed(self, message: str) -> None:
        self._set_idle()
        self.statusBar().showMessage("Could not open the document", 5000)
        self.show_error("Cannot open document", message)

    def _document_cancelled(self) -> None:
        self._set_idle()
        self.statusBar().showMessage("Opening cancelled", 4000)

    def _model_changed(self, pack: ModelPack) -> None:
        quant = "not quantized" if pack.quantization == "none" else pack.quantization
        self.model_label.setText(f"Model: {pack.name} · {quant}")
        self.model_label.setToolTip(pack.describe())
        self.banner.show_for(pack)
        self.first_run.hide()

    def _model_missing(self, message: str) -> None:
        self.model_label.setText("Model: none (keyword search only)")
        self.first_run.set_reason(message)
        self.first_run.show()

    def _model_failed(self, message: str) -> None:
        if self.session.reader is None:
            self.model_label.setText("Model: not loaded")
            self.first_run.set_reason(message)
            self.first_run.show()
        else:
            self.show_error("Cannot use model pack", message)

    def _download_started(self, repo_id: str) -> None:
        self.first_run.start_download(repo_id)
        self.statusBar().showMessage(f"Downloading {repo_id}…")

    def _download_progress(self, step: str) -> None:
        if not self.session.download_cancelling:
            self.first_run.set_step(step)

    def _download_finished(self, pack: ModelPack) -> None:
        self.first_run.reset_download()
        self.statusBar().showMessage(f"Installed {pack.name} in {pack.path}", 10000)

    def _download_failed(self, message: str) -> None:
        self.first_run.reset_download(message)
        self.statusBar().showMessage("Download failed", 5000)

    def _download_cancelled(self) -> None:
        self.first_run.reset_download()
        self.statusBar().showMessage("Download cancelled; nothing was installed", 5000)

    def _query_started(self, question: str) -> None:
        self._show_message("")
        if self.question.text().split() != question.split():
            self.question.setText(question)
        self._set_busy("Reading…")
        self.results.start_reading(question, self.session.scope)

    def _query_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat("%p%")  # the words are in the answers header, never clipped
        self.results.set_progress(done, total)

    def _query_finished(self, result: QueryResult) -> None:
        self._set_idle()
        self.time_label.setText(f"Last query: {result.seconds:.2f} s")

    def _query_failed(self, message: str) -> None:
        if not self.session.loading:
            self._set_idle()
        self._show_message(message)
        self.results.set_header("")

    def _query_cancelled(self) -> None:
        if not self.session.loading:
            self._set_idle()
        if self.session.result is None:
            self.results.set_header("Stopped before any answer was found.")
        self.statusBar().showMessage("Question stopped", 3000)

    def _answers_changed(self, shown: Shown) -> None:
        s = self.session
        self.results.show_result(
            shown.answers,
            shown.guess,
            s.result,
            status=s.status,
            progress=s.progress,
            more_seconds=s.read_more_seconds() if s.status == DONE else None,
            current=s.current,
        )

    def _current_changed(self, index: int) -> None:
        shown = self.session.shown
        current = shown.answers[index] if index >= 0 else None
        self.results.set_current(index)
        if self.session.open_answer_document(current):
            return  # a library answer in another document: shown once it is loaded
        self._show_answer_highlights(index)
        if self.viewer.currentWidget() is self.pdf_view:
            if current is not None:
                if current.boxes:
                    self.pdf_view.scroll_to_box(current.boxes[0])
                elif current.page is not None:
                    self.pdf_view.go_to_page(current.page)
        elif self.viewer.currentWidget() is self.text_view and current is not None:
            self.text_view.scroll_to(current.start, current.end)

    def _show_answer_highlights(self, index: int) -> None:
        """The current answer framed, the others tinted (also once the find bar closes)."""
        shown = self.session.shown
        current = shown.answers[index] if 0 <= index < len(shown.answers) else None
        doc = current.document if current is not None else None
        others = [a for i, a in enumerate(shown.answers) if i != index and a.document == doc]
        if self.viewer.currentWidget() is self.pdf_view:
            self.pdf_view.set_highlights(
                current.boxes if current else [], [b for a in others for b in a.boxes], shown.guess
            )
        elif self.viewer.currentWidget() is self.text_view:
            spans = [(a.start, a.end) for a in others]
            self.text_view.set_highlights(
                [(current.start, current.end)] if current else [], spans, shown.guess
            )

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
