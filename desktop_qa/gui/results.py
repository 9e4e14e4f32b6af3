"""The answers list: text, probability, page and the context with the answer in bold.

Rows are HTML drawn by a delegate (wrapping to the list's width); all
document text is escaped, since documents are untrusted input.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QPainter,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_qa.core.reading.engine import whole_read_seconds
from desktop_qa.core.reading.results import Answer, QueryResult, no_answer_text
from desktop_qa.gui.compat import emit
from desktop_qa.gui.messages import duration_text

READ_WHOLE_KEY = "Ctrl+Enter"
PAD = 8
HTML_ROLE = Qt.ItemDataRole.UserRole + 1


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def context_html(answer: Answer) -> str:
    """The snippet with the answer in bold; every piece escaped."""
    c, a, b = answer.context, answer.context_start, answer.context_end
    return f"{html.escape(c[:a])}<b>{html.escape(c[a:b])}</b>{html.escape(c[b:])}"


def score_text(answer: Answer, keyword: bool = False) -> str:
    """What the score is: the model's probability, or (keyword mode, no model read it)
    the share of the question's words the passage holds, weighted by rarity."""
    if keyword:
        return f"keyword match: {answer.probability:.0%} of your question's words"
    if answer.probability < 0.005:
        return "<1%"  # a candidate, never "0%"
    return f"{answer.probability:.0%}"


def answer_html(
    rank: int,
    answer: Answer,
    guess: bool = False,
    document: bool = False,
    keyword: bool = False,
) -> str:
    """One row of the list; a best guess is greyed and says what it is.

    ``document``: name the answer's document (answers from a library).
    ``keyword``: a keyword match (no model pack), scored by the words it shares.
    """
    # Where it is, as its citation says it: the document's own terms ("slide 3", a sheet
    # and row, an e-mail) where it has them, else the printed page label ("page vii").
    where = answer.page_label or answer.page
    page = f" · page {html.escape(str(where))}" if answer.page is not None else ""
    if answer.location:
        page = f" · {html.escape(answer.location)}"
    # OCR text can be misread: say so, so the user checks the highlighted page.
    ocr = " · <i>OCR text</i>" if answer.ocr else ""
    score = score_text(answer, keyword)
    meta = f"{score}{page}{ocr}"
    if document and answer.document:
        name = html.escape(Path(answer.document).name)
        meta = f"{name}{page} · {score}{ocr}"
    if guess:
        return (
            "<div style='color:#888'>"
            f"<i>Best guess ({'few of your words' if keyword else 'below the answer threshold'})"
            "</i><br>"
            f"<b>{html.escape(_short(answer.text))}</b>&nbsp;&nbsp;{meta}<br>"
            f"<span style='font-size:small'>{context_html(answer)}</span></div>"
        )
    return (
        f"<div><b>{rank}.&nbsp;{html.escape(_short(answer.text))}</b>"
        f"&nbsp;&nbsp;<span style='color:#666'>{meta}</span><br>"
        f"<span style='color:#333; font-size:small'>{context_html(answer)}</span></div>"
    )


class HtmlDelegate(QStyledItemDelegate):
    """Draws an item's HTML, wrapped to the view's width."""

    def _doc(self, option: QStyleOptionViewItem, index: QModelIndex, width: float) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setHtml(str(index.data(HTML_ROLE) or ""))
        doc.setTextWidth(max(50.0, width - 2 * PAD))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = self._doc(option, index, option.rect.width())
        painter.save()
        painter.translate(option.rect.left() + PAD, option.rect.top() + PAD / 2)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.clip = QRectF(0, 0, option.rect.width(), option.rect.height())
        doc.documentLayout().draw(painter, ctx)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        view = option.widget
        width = view.viewport().width() if view is not None else 300  # type: ignore[attr-defined]
        doc = self._doc(option, index, width)  # type: ignore[arg-type]
        return QSize(int(width), int(doc.size().height() + PAD))


class ResultsPanel(QWidget):
    """Header line plus the ranked answers; a click selects (and jumps to) an answer."""

    answerActivated = Signal(int)
    guessRequested = Signal()
    readWholeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.header = QLabel("Ask a question to see answers here.")
        self.header.setWordWrap(True)
        self.header.setContentsMargins(6, 6, 6, 2)
        layout.addWidget(self.header)
        self.guess_button = QPushButton()
        self.guess_button.setFlat(True)
        self.guess_button.setStyleSheet("color: #777; text-align: left; padding: 4px 6px;")
        self.guess_button.clicked.connect(self.guessRequested)
        self.guess_button.hide()
        layout.addWidget(self.guess_button)
        self.read_button = QPushButton()
        self.read_button.setToolTip(
            f"Read every passage of the document ({READ_WHOLE_KEY}); Esc stops"
        )
        self.read_button.clicked.connect(self.readWholeRequested)
        self.read_button.hide()
        layout.addWidget(self.read_button)
        self.list = QListWidget()
        self.list.setItemDelegate(HtmlDelegate(self.list))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setWordWrap(True)
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A light selection keeps the grey metadata and bold answer readable.
        self.list.setStyleSheet(
            "QListWidget::item { border-bottom: 1px solid #e4e4e4; }"
            "QListWidget::item:selected { background: #dcebff; border-left: 4px solid #f0a000; }"
        )
        self.list.itemClicked.connect(self._clicked)
        layout.addWidget(self.list, 1)
        # (count, noun, rest) while answers can be stepped through, for "answer 2 of 5".
        self._step_header: tuple[int, str, str] | None = None
        self._reading: tuple[str, str] | None = None  # (question, scope) while reading
        self._progress = (0, 0)
        self._shown_at = 0.0

    def _clicked(self, item: QListWidgetItem) -> None:
        emit(self.answerActivated, self.list.row(item))

    def set_header(self, text: str) -> None:
        self.header.setText(text)

    def header_text(self) -> str:
        """The header as plain text (tests, the state file)."""
        return QTextDocumentFragment.fromHtml(self.header.text()).toPlainText()

    def start_reading(self, question: str, scope: str, *, keep: bool = False) -> None:
        """A new question: the old answers go at once; the header says what is read.
        ``keep``: reading on from shown answers ("Go on reading"): they stay listed."""
        if not keep:
            self.list.clear()
        self.guess_button.hide()
        self.read_button.hide()
        self._step_header = None
        self._reading = (question, scope)
        self._progress = (0, 0)
        self._reading_header(0)

    def set_progress(self, done: int, total: int) -> None:
        """How far the reading is, in the header (word-wrapped: never clipped)."""
        self._progress = (done, total)
        now = time.monotonic()
        # A person reads a count a few times a second; relaying out the panel costs more.
        if self._reading is not None and (now - self._shown_at >= 0.2 or done >= total):
            self._shown_at = now
            self._reading_header(self.list.count())

    def _reading_header(self, found: int) -> None:
        assert self._reading is not None
        question, scope = self._reading
        where = "the library" if scope == "library" else "the document"
        done, total = self._progress
        text = f"Reading {where} for: <i>{html.escape(question)}</i><br>"
        # Two lines from the start, so the header keeps its height as the count moves.
        text += f"Reading passage {done} of {total}" if total else "Starting…"
        if found:
            text += f" · {found} answer{'s' if found != 1 else ''} so far"
        self.set_header(text)

    def show_result(
        self,
        answers: tuple[Answer, ...],
        guess: bool,
        result: QueryResult | None,
        *,
        status: str = "done",
        progress: tuple[int, int] = (0, 0),
        more_seconds: float | None = None,
        current: int = -1,
        library: bool | None = None,
    ) -> None:
        """Fill the list; with no answer, say so and offer the best guess one key away.

        ``status``: "reading" (answers so far, the list re-ranks as the reading
        goes on), "done" (final) or "stopped" (Esc: what was found so far,
        Ctrl+Enter goes on). ``more_seconds``: how long reading more takes. ``current``:
        the row that stays selected (Esc re-shows the same answers: the highlight stays).
        ``library``: the question asked the library (even one of one document: its
        read-more reads the library deeper, never "the whole document"); None: a
        result over more than one document is the library's.
        """
        self.list.clear()
        self.guess_button.hide()
        self.read_button.hide()
        self._step_header = None
        if status != "reading":
            self._reading = None
        if result is None:
            return
        if library is None:
            library = result.read.documents > 1
        keyword = result.mode == "keyword"
        for rank, answer in enumerate(answers, 1):
            item = QListWidgetItem()
            item.setData(HTML_ROLE, answer_html(rank, answer, guess, library, keyword))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, answer.text)
            self.list.addItem(item)
        if 0 <= current < self.list.count():
            self.list.setCurrentRow(current)
        if status == "reading":
            self._progress = progress
            if self._reading is None:
                self._reading = (result.question, "library" if library else "document")
            self._reading_header(0 if result.no_answer else len(answers))
            return
        if status == "stopped":
            done, total = progress
            n = len(answers)
            found = f"{n} answer{'s' if n != 1 else ''} found so far" if n else "no answer yet"
            read = f"{done} of {total} passage{'s' if total != 1 else ''}"
            self.set_header(f"<b>Stopped after {read}</b> · {found}")
            self._step_header = (n, "answer", f" · stopped after {read}")
            self._set_read_text(f"Go on reading from there · {READ_WHOLE_KEY}")
            self.read_button.show()
            return
        scope = "" if result.whole_document else " · best-matching passages read"
        seconds = more_seconds if more_seconds is not None else whole_read_seconds(result)
        if library and not result.whole_document and result.mode == "reader":
            about = f" (about {duration_text(more_seconds)})" if more_seconds is not None else ""
            self._set_read_text(f"Read more of the library{about} · {READ_WHOLE_KEY}")
            self.read_button.show()
        elif seconds is not None:
            self._set_read_text(
                f"Read the whole document (about {duration_text(seconds)}) · {READ_WHOLE_KEY}"
            )
            self.read_button.show()
        if keyword and answers:
            n = len(answers)
            rest = " (keyword search, no model read it) · F3 to step"
            self._step_header = (n, "keyword match", rest)
            self.set_header(f"{n} keyword match{'es' if n != 1 else ''}{rest}")
        elif answers and not guess:
            n = len(answers)
            self._step_header = (n, "answer", f" · F3 / Shift+F3 to step{scope}")
            self.set_header(f"{n} answer{'s' if n != 1 else ''} · F3 / Shift+F3 to step{scope}")
        else:
            self.set_header(f"<b>{html.escape(no_answer_text(result.read, result.mode))}</b>")
            best = result.best_guess
            if best is not None and not guess:
                # The key first, so a long guess is cut, never the hint.
                text = f"Show best guess (F3): “{_short(best.text, 80)}”"
                room = max(120, self.width() - 24)
                metrics = self.guess_button.fontMetrics()
                self.guess_button.setText(
                    metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
                )
                self.guess_button.setToolTip(best.text)
                self.guess_button.show()

    def _set_read_text(self, text: str) -> None:
        """The read-more button's text on as many lines as the column needs: a button
        centres one line too wide for it and cuts both ends, the key hint with them."""
        room = max(120, self.width() - 40)  # the panel's margins and the button's padding
        metrics = self.read_button.fontMetrics()
        forms = [
            text,
            text.replace(" · ", "\n"),
            text.replace(" (about", "\n(about").replace(" · ", "\n"),
        ]
        fits = [f for f in forms if max(map(metrics.horizontalAdvance, f.split("\n"))) <= room]
        self.read_button.setText(fits[0] if fits else forms[-1])

    def set_current(self, index: int) -> None:
        """Select the current answer; the header says where it is ("answer 2 of 5")."""
        if self._step_header is not None and 0 <= index < self._step_header[0]:
            n, what, rest = self._step_header
            self.set_header(f"{what[:1].upper()}{what[1:]} {index + 1} of {n}{rest}")
        if 0 <= index < self.list.count():
            self.list.setCurrentRow(index)
            self.list.scrollToItem(self.list.item(index))
        else:
            self.list.clearSelection()

    def texts(self) -> list[str]:
        """The answers' texts, in list order (tests)."""
        return [
            str(self.list.item(i).data(Qt.ItemDataRole.AccessibleTextRole))
            for i in range(self.list.count())
        ]
