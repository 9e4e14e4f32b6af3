"""A question's way through the window: from Enter in the question bar to the answer
highlighted on its page, and the answers copied or exported from there.

``AnswerFlow`` turns the question bar's Enter into ``Session.ask`` (or a step
through the answers when the question is unchanged), shows the reading and
its answers in the results panel, and puts the current answer's highlight in
the page (or text) view, scrolled into sight. It owns no state: every change
arrives as a Session signal; what it needs of the window is ``Host``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QStackedWidget, QStatusBar

from desktop_qa.core.reading import export
from desktop_qa.core.reading.results import QueryResult
from desktop_qa.core.system import portable
from desktop_qa.gui.findbar import FindBar
from desktop_qa.gui.pageview import PdfView
from desktop_qa.gui.questionbar import QuestionBar
from desktop_qa.gui.results import ResultsPanel
from desktop_qa.gui.session import DONE, SCOPE_LIBRARY, Session, Shown
from desktop_qa.gui.textview import TextView

EXPORT_FILTERS = {
    "Markdown (*.md)": ".md",
    "CSV (*.csv)": ".csv",
    "JSON (*.json)": ".json",
}


class Host(Protocol):
    """What the answers need of the window: its busy row, messages and status bar."""

    def set_busy(self, text: str, maximum: int = 0) -> None: ...
    def set_idle(self) -> None: ...
    def show_progress(self, done: int, total: int, text: str) -> None: ...
    def show_message(self, text: str, error: bool = True) -> None: ...
    def show_error(self, title: str, text: str) -> None: ...
    def statusBar(self) -> QStatusBar: ...


class AnswerFlow(QObject):
    """The question bar, the results panel and the viewers' highlights, kept in step."""

    def __init__(
        self,
        session: Session,
        host: Host,
        *,
        question: QuestionBar,
        results: ResultsPanel,
        viewer: QStackedWidget,
        pdf_view: PdfView,
        text_view: TextView,
        findbar: FindBar,
        time_label: QLabel,
        scope: Callable[[], str],
    ) -> None:
        """``scope()``: what a new question asks (the library's scope box)."""
        super().__init__(session)
        self.session, self.host, self.scope = session, host, scope
        self.question, self.results, self.findbar = question, results, findbar
        self.viewer, self.pdf_view, self.text_view = viewer, pdf_view, text_view
        self.time_label = time_label
        s = session
        s.queryStarted.connect(self._query_started)
        s.queryProgress.connect(self._query_progress)
        s.queryFinished.connect(self._query_finished)
        s.queryFailed.connect(self._query_failed)
        s.queryCancelled.connect(self._query_cancelled)
        s.answersChanged.connect(self._answers_changed)
        s.currentAnswerChanged.connect(self.show_current)
        question.submitted.connect(self.submit)
        results.answerActivated.connect(s.select)
        results.guessRequested.connect(s.show_best_guess)
        results.readWholeRequested.connect(self.read_more)

    def _status(self, text: str, ms: int) -> None:
        self.host.statusBar().showMessage(text, ms)

    # -- asking -------------------------------------------------------------------
    def submit(self, shift: bool = False) -> None:
        """Enter: ask a new question, or step through answers when it is unchanged."""
        text = " ".join(self.question.text().split())
        s = self.session
        if text and s.busy and text == s.question:
            return  # already asking exactly this
        if text and s.result is not None and text == s.result.question and not s.busy:
            s.step(-1 if shift else 1)
            return
        s.ask(text, self.scope())  # the scope box: the library or this document

    def read_more(self) -> None:
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
        self._status(text, 3000)

    # -- the reading --------------------------------------------------------------
    def _query_started(self, question: str) -> None:
        self.host.show_message("")
        if self.question.text().split() != question.split():
            self.question.setText(question)
        self.host.set_busy("Reading…")
        # Reading on from answers on screen ("Go on reading", read more): they stay listed.
        self.results.start_reading(
            question, self.session.scope, keep=self.session.result is not None
        )
        if self.findbar.active:  # the answers' highlights, not the words'
            self.findbar.close_bar()

    def _query_progress(self, done: int, total: int) -> None:
        # "%p%": the words are in the answers header, never clipped.
        self.host.show_progress(done, max(total, 1), "%p%")
        self.results.set_progress(done, total)

    def _query_finished(self, result: QueryResult) -> None:
        self.host.set_idle()
        self.time_label.setText(f"Last query: {result.seconds:.2f} s")

    def _query_failed(self, message: str) -> None:
        if not self.session.loading:
            self.host.set_idle()
        self.host.show_message(message)
        self.results.set_header("")

    def _query_cancelled(self) -> None:
        if not self.session.loading:
            self.host.set_idle()
        if self.session.result is None:
            self.results.set_header("Stopped before any answer was found.")
        self._status("Question stopped", 3000)

    # -- the answers and their highlights -------------------------------------------
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
            library=s.scope == SCOPE_LIBRARY,
        )

    def show_current(self, index: int) -> None:
        """The current answer: selected in the list, highlighted and scrolled to."""
        current = self.session.shown.answers[index] if index >= 0 else None
        self.results.set_current(index)
        if self.session.open_answer_document(current):
            return  # a library answer in another document: shown once it is loaded
        self.show_highlights(index)
        if self.viewer.currentWidget() is self.pdf_view:
            if current is not None:
                if current.boxes:
                    self.pdf_view.scroll_to_box(current.boxes[0])
                elif current.page is not None:
                    self.pdf_view.go_to_page(current.page)
        elif self.viewer.currentWidget() is self.text_view and current is not None:
            self.text_view.scroll_to(current.start, current.end)

    def show_highlights(self, index: int) -> None:
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

    # -- copying and exporting ------------------------------------------------------
    def copy_citation(self) -> str:
        """Put the current answer with its document and page on the clipboard."""
        answer, result = self.session.current_answer, self.session.result
        if answer is None or result is None:
            self._status("No answer to copy: ask a question first", 3000)
            return ""
        text = export.citation(answer.to_json(), result.document)
        QApplication.clipboard().setText(text)
        self._status("Copied the answer with its citation", 3000)
        return text

    def choose_export_file(self) -> None:
        """File ▸ Export Answers…: Markdown, CSV or JSON, by the file's extension."""
        result = self.session.result
        if result is None:
            self._status("No answers to export: ask a question first", 3000)
            return
        stem = portable.portable_name(Path(result.document).stem, "answers")
        start = str(Path.home() / f"{stem}-answers.md")
        path, chosen = QFileDialog.getSaveFileName(
            self.results.window(), "Export answers", start, ";;".join(EXPORT_FILTERS)
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
            self.host.show_error("Cannot export answers", f"{path}: {exc.strerror or exc}")
            return False
        self._status(f"Exported the answers to {path}", 5000)
        return True
