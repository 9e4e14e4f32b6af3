"""The find bar (Ctrl+Shift+F): every occurrence of exact words, "N of M", F3 through them.

Ctrl+F stays the question bar (the app asks questions first); finding words
is the viewer's second search, on its own key. Enter searches the words (the
first hit on or after the page shown), Enter again or F3 goes to the next hit,
Shift+Enter / Shift+F3 to the previous one, across pages, wrapping; Esc closes
the bar and the window puts the answer highlights back. Every hit on the
pages in view is tinted and the current one framed, through the viewer's one
``set_highlights`` call. ``core.documents.find`` takes 1-30 ms for words on the 352-page
book but ~150 ms for one letter ("e": 62,718 hits), so it runs on a worker
thread and the UI never waits; a newer search drops an older one's result.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from desktop_qa.core.documents import find
from desktop_qa.core.documents.document import Document
from desktop_qa.gui.compat import emit
from desktop_qa.gui.pageview import PdfView
from desktop_qa.gui.questionbar import QuestionBar, keeps_enter_and_esc
from desktop_qa.gui.textview import TextView
from desktop_qa.gui.workers import Handle, Jobs, error_text, single_pool

FIND_KEY = "Ctrl+Shift+F"
TEXT_SPANS = 400  # hits tinted either side of the current one in a text file


class FindField(QuestionBar):
    """The words field: Enter and Esc are its own, before the window's Esc (Cancel)."""

    def event(self, event: QEvent) -> bool:
        return keeps_enter_and_esc(event) or super().event(event)


class FindBar(QWidget):
    """The bar under the question row; ``closed`` when Esc (or its × button) closes it."""

    closed = Signal()
    changed = Signal()  # hits, the current hit or the label changed (state file)

    def __init__(self, pdf_view: PdfView, text_view: TextView, parent: QWidget | None = None):
        """Highlights go to the page view (PDF, EPUB...) or the text view (text files)."""
        super().__init__(parent)
        self.pdf_view, self.text_view = pdf_view, text_view
        self.pool = single_pool()
        self.jobs = Jobs()
        self._job: Handle | None = None
        self.document: Document | None = None
        self.hits: list[find.Hit] = []
        self.current: int | None = None
        self.searched: str | None = None  # the words the hits are for
        self._generation = 0
        self.field = FindField()
        self.field.setPlaceholderText(
            "Find words on the pages…  (Enter / F3 next, Shift+Enter / Shift+F3 previous, Esc)"
        )
        self.field.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.count.setMinimumWidth(110)
        prev_button, next_button, close_button = QToolButton(), QToolButton(), QToolButton()
        for button, text, tip in (
            (prev_button, "▲", "Previous match (Shift+F3)"),
            (next_button, "▼", "Next match (F3)"),
            (close_button, "×", "Close the find bar (Esc)"),
        ):
            button.setText(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 2)
        row.addWidget(QLabel("Find words:"))
        row.addWidget(self.field, 1)
        row.addWidget(self.count)
        row.addWidget(prev_button)
        row.addWidget(next_button)
        row.addWidget(close_button)
        self.field.submitted.connect(lambda shift: self.step(not shift))
        self.field.escaped.connect(self.close_bar)
        prev_button.clicked.connect(lambda: self.step(False))
        next_button.clicked.connect(lambda: self.step(True))
        close_button.clicked.connect(self.close_bar)
        app = QCoreApplication.instance()
        if app is not None:  # quitting never waits for a search
            app.aboutToQuit.connect(self.cancel)  # type: ignore[attr-defined]
        self.hide()

    # -- opening and closing ------------------------------------------------------
    @property
    def active(self) -> bool:
        """Open: F3 / Shift+F3 step through the hits instead of the answers."""
        return not self.isHidden()

    def open_bar(self) -> None:
        """Ctrl+Shift+F: show the bar, the words selected (type to replace them)."""
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()
        if self.hits:
            self._show()
        emit(self.changed)

    def close_bar(self) -> None:
        self.cancel()
        self.hide()
        emit(self.closed)
        emit(self.changed)

    def set_document(self, document: Document | None) -> None:
        """A new document: the old hits go (the bar stays as it was, the words kept)."""
        self.document = document
        self._generation += 1
        self._drop()
        self.hits, self.current, self.searched = [], None, None
        self.count.setText("")
        emit(self.changed)

    # -- searching and stepping ---------------------------------------------------
    def step(self, forward: bool = True) -> None:
        """Enter / F3 (``forward``), Shift+Enter / Shift+F3: search new words, else move."""
        words = " ".join(self.field.text().split())
        if words != self.searched or not self.hits:
            self.search(words, forward)
            return
        self.current = find.step(self.hits, self.current, forward)
        self._show(scroll=True)

    def search(self, words: str, forward: bool = True) -> None:
        """Find ``words`` off the UI thread; the first hit from the page shown is shown."""
        self._generation += 1
        if self.document is None:
            self._set_count("Open a document first")
            return
        self._set_count("Searching…")
        document, generation = self.document, self._generation

        def job(_report: Any, cancelled: Any) -> list[find.Hit]:
            # ``find`` works a megabyte at a time: the UI thread gets the GIL between
            # steps, and a newer search, another document or quitting stops it there.
            return find.find(document, words, cancel=cancelled)

        self._drop()
        self._job = self.jobs.start(
            self.pool,
            job,
            returned=lambda hits: self._found(generation, hits, words, forward),
            errored=lambda exc: self._failed(generation, exc),
            aborted=lambda: None,
        )

    def cancel(self) -> None:
        """Stop the search under way (Esc, quitting): its outcome goes nowhere."""
        self._drop()

    def _drop(self) -> None:
        """A newer search (or document): the older one's outcome goes nowhere."""
        if self._job is not None:
            self._job.cancel(quiet=True)
            self._job = None

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._job = None
        self.hits, self.current, self.searched = [], None, None
        self._set_count(error_text(exc), error=True)

    def _found(self, generation: int, out: list[find.Hit], words: str, forward: bool) -> None:
        if generation != self._generation:
            return  # a newer search (or document) came since
        self._job = None
        self.hits, self.searched = out, words
        page = max(self.pdf_view.current_page(), 1) - 1
        self.current = find.first_from_page(self.hits, page) if self.hits else None
        if self.current is not None and not forward:
            self.current = find.step(self.hits, self.current, False)
        self._show(scroll=True)

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until the running search reported (tests, scripts)."""
        return self.pool.waitForDone(timeout_ms)

    # -- drawing ------------------------------------------------------------------
    def _set_count(self, text: str, error: bool = False) -> None:
        self.count.setText(text)
        self.count.setStyleSheet("color: #b00020;" if error else "")
        emit(self.changed)

    def count_text(self) -> str:
        return self.count.text()

    def current_hit(self) -> find.Hit | None:
        return self.hits[self.current] if self.current is not None and self.hits else None

    def _show(self, scroll: bool = False) -> None:
        if not self.hits:
            self._set_count("No match", error=True)
            self.pdf_view.set_highlights([], [])
            self.text_view.set_highlights([], [])
            return
        self._set_count(f"{(self.current or 0) + 1} of {len(self.hits)}")
        self.refresh(scroll=scroll)

    def refresh(self, scroll: bool = False) -> None:
        """Draw the hits of the pages in view (the page scrolled, a hit stepped to)."""
        if not self.active or not self.hits:
            return
        hit = self.current_hit()
        if self.document is not None and self.document.kind == "pdf":
            if scroll and hit is not None:  # first, so the pages in view are the hit's
                if hit.boxes:
                    self.pdf_view.scroll_to_box(hit.boxes[0])
                elif hit.page is not None:
                    self.pdf_view.go_to_page(hit.page + 1)
            pages = set(self.pdf_view.visible_pages())
            if hit is not None and hit.page is not None:
                pages.add(hit.page)
            pages |= {p + 1 for p in pages} | {p - 1 for p in pages}
            light = [b for h in self.hits if h.page in pages and h is not hit for b in h.boxes]
            self.pdf_view.set_highlights(list(hit.boxes) if hit else [], light)
        else:
            i = self.current or 0
            near = self.hits[max(0, i - TEXT_SPANS) : i + TEXT_SPANS]
            spans = [(h.start, h.end) for h in near if h is not hit]
            self.text_view.set_highlights([(hit.start, hit.end)] if hit else [], spans)
            if scroll and hit is not None:
                self.text_view.scroll_to(hit.start, hit.end)

    def state(self) -> dict[str, Any] | None:
        """What the state file says of the bar: null when closed."""
        if not self.active:
            return None
        hit = self.current_hit()
        return {
            "words": self.field.text(),
            "count": len(self.hits),
            "current": (self.current or 0) + 1 if hit is not None else 0,
            "text": self.count_text(),
            "page": hit.page + 1 if hit is not None and hit.page is not None else None,
        }
