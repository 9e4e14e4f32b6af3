"""``--state-file``: the window writes what it shows as JSON after every change.

How a test drives the real app from outside (a real X server, keys sent with
``xdotool``) and checks it without reading pixels: the file is replaced
atomically (temp file + ``os.replace``) a moment after any change, and at quit
when one is still pending, so a reader never sees half a file. Fields (docs/gui.md):

``seq`` (counts writes), ``document`` (file name or null), ``pages``, ``page``
(1-based page jumped to, else the one filling most of the view; 0 for none), ``rendered`` (the
visible pages are drawn at the current zoom), ``loading``,
``busy`` (a question runs), ``question`` (the question bar's text), ``focus``
(``question``, ``page_box``, ``pages``, ``text``, ``outline``, ``find``,
``password``, ``other`` or null), ``header`` (the answers header as plain text), ``answers`` (their
texts), ``current`` (index of the current answer, -1 for none), ``highlight``
(the current answer's ``page`` and ``rects`` in PDF points, or null),
``password_dialog`` (bool), ``password_wrong`` (it says the last
password was wrong), ``error`` (the last one-line error, or null),
``zoom`` (the page view's, 1.0 = 100%), ``scope`` (``document`` or
``library``), ``library_panel`` (the panel is shown), ``dialog`` (the title
of an open dialog, or null), ``status`` (the status bar's message) and
``reading`` (``reading``, ``done`` or ``stopped``), ``page_label`` (the
page's printed label, or null), ``outline`` (null when the panel is hidden,
else ``entries`` and the selected entry's ``current`` title) and ``find``
(null when the find bar is closed, else ``words``, ``count``, ``current``
(1-based, 0 for none), ``text`` ("3 of 12") and the current hit's ``page``).
The password itself is never written.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from desktop_qa.core.errors import short_reason
from desktop_qa.gui.window import MainWindow


class StateFile(QObject):
    """Writes ``MainWindow``'s visible state to ``path`` whenever it may have changed."""

    def __init__(self, window: MainWindow, path: str | os.PathLike[str]) -> None:
        super().__init__(window)
        self.window = window
        self.path = Path(path)
        self.seq = 0
        self.error: str | None = None
        self.write_error: str | None = None  # why the last write failed (the file stays)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(20)  # coalesce bursts of signals into one write
        self._timer.timeout.connect(self.write)
        s = window.session
        for signal in (
            s.documentLoading,
            s.documentLoaded,
            s.documentCancelled,
            s.documentPasswordNeeded,
            s.queryStarted,
            s.queryFinished,
            s.queryCancelled,
            s.answersChanged,
            s.currentAnswerChanged,
            s.modelChanged,
            s.modelMissing,
            window.pdf_view.pageChanged,
            window.pdf_view.renderer.rendered,
            window.question.textChanged,
            window.pdf_view.zoomChanged,
            window.library.scopeChanged,
            window.library.dock.visibilityChanged,
            window.statusBar().messageChanged,
            window.findbar.changed,
            window.outline.visibilityChanged,
            window.outline.tree.currentItemChanged,
        ):
            signal.connect(self.schedule)
        for signal in (s.documentFailed, s.queryFailed, s.modelFailed):
            signal.connect(self._failed)
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self.schedule)  # type: ignore[attr-defined]
            # A scripted run (--screenshot) quits the moment the page is drawn,
            # often inside the coalescing delay: the last change must still be written.
            app.aboutToQuit.connect(self.flush)  # type: ignore[attr-defined]
        self.schedule()

    def flush(self) -> None:
        """Write now if a write is pending, so quitting never loses the last change."""
        if self._timer.isActive():
            self._timer.stop()
            self.write()

    def _failed(self, message: str) -> None:
        self.error = message
        self.schedule()

    def schedule(self, *_args: Any) -> None:
        self._timer.start()

    def _focus(self) -> str | None:
        w = self.window
        widget: QWidget | None = QApplication.focusWidget()
        if widget is None:
            return None
        if w.password_dialog is not None and w.password_dialog.isAncestorOf(widget):
            return "password"
        for name, owner in (
            ("question", w.question),
            ("page_box", w.page_box),
            ("pages", w.pdf_view),
            ("text", w.text_view),
            ("outline", w.outline),
            ("find", w.findbar),
        ):
            if widget is owner or owner.isAncestorOf(widget):
                return name
        return "other"

    def state(self) -> dict[str, Any]:
        w, s = self.window, self.window.session
        doc = s.document
        current = s.current_answer
        highlight = None
        if current is not None and current.boxes:
            highlight = {
                "page": current.boxes[0].page + 1,
                "rects": [[round(v, 2) for v in b.rect] for b in current.boxes],
            }
        return {
            "seq": self.seq,
            "document": doc.name if doc is not None else None,
            "pages": doc.page_count if doc is not None else 0,
            "page": w.pdf_view.current_page() if w.viewer.currentWidget() is w.pdf_view else 0,
            "rendered": not w.pdf_view.missing_pages(),
            "loading": s.loading,
            "busy": s.busy,
            "question": w.question.text(),
            "focus": self._focus(),
            "header": w.results.header_text(),
            "answers": [a.text for a in s.shown.answers],
            "current": s.current,
            "highlight": highlight,
            "password_dialog": w.password_dialog is not None,
            "password_wrong": w.password_dialog is not None
            and not w.password_dialog.error.isHidden(),
            "error": self.error,
            "zoom": round(w.pdf_view.zoom, 4),
            "scope": w.library.scope,
            "library_panel": w.library.dock.isVisible(),
            "dialog": self._dialog(),
            "status": w.statusBar().currentMessage(),
            "reading": s.status,
            "page_label": w.page_box.label(w.pdf_view.current_page()) or None,
            "outline": {
                "entries": len(w.outline.entries),
                "current": w.outline.current_title(),
            }
            if w.outline.isVisible()
            else None,
            "find": w.findbar.state(),
        }

    def _dialog(self) -> str | None:
        """The title of the dialog on top (a file chooser, a message), or None."""
        w = self.window
        top = QApplication.activeModalWidget()
        if top is None and w.last_message is not None and w.last_message.isVisible():
            top = w.last_message
        return top.windowTitle() if top is not None else None

    def write(self) -> None:
        """Replace the file atomically; on failure remove the temporary file (nothing left behind).

        The JSON is ASCII (``\\udce9`` escapes): a document name that is not valid UTF-8
        (surrogate-escaped by Python) cannot be written as UTF-8, and any reader decodes it.
        """
        self.seq += 1
        data = json.dumps(self.state(), ensure_ascii=True)
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
            tmp = None
        except OSError as exc:
            self.write_error = short_reason(exc)  # checked at start; a later failure waits
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
