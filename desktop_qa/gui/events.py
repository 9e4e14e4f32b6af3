"""Everything the session tells the views: one signal for every change of the model.

The window, the state file and the scripted modes listen here; the parts of
the session (``opening``, ``models``, the asking in ``session``) emit here, so
a view never needs to know which part a change came from.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class SessionSignals(QObject):
    """The session's signals (``Session`` is one); their arguments are in the comments."""

    documentLoading = Signal(str)  # path
    documentProgress = Signal(int, int)  # pages done, total
    documentStatus = Signal(str, int, int)  # step ("OCR: page 2 of 8 scanned pages"), done, total
    documentLoaded = Signal(object)  # Document
    # Scanned pages being OCR'd after the others opened (they can be asked meanwhile):
    documentPending = Signal(str)  # the status line ("OCR: page 3 of 4 scanned pages; …")
    documentCompleted = Signal(object)  # Document, the scanned pages joined
    documentFailed = Signal(str)  # one line
    documentCancelled = Signal()
    documentPasswordNeeded = Signal(str, bool)  # path, a wrong password was given

    modelLoading = Signal(str)
    modelChanged = Signal(object)  # ModelPack
    modelMissing = Signal(str)  # why (one line)
    modelFailed = Signal(str)

    queryStarted = Signal(str)  # question
    queryProgress = Signal(int, int)  # passages (reader windows) done, total
    queryFinished = Signal(object)  # QueryResult
    queryFailed = Signal(str)
    queryCancelled = Signal()
    answersChanged = Signal(object)  # Shown
    currentAnswerChanged = Signal(int)  # index into Shown.answers, -1 for none

    downloadStarted = Signal(str)  # repo id
    downloadProgress = Signal(str)  # the current step, one line
    downloadFinished = Signal(object)  # the installed ModelPack (modelChanged follows)
    downloadFailed = Signal(str)  # one line, the same text the CLI prints after "error: "
    downloadCancelled = Signal()  # stopped; nothing was installed

    settingsChanged = Signal()
    warning = Signal(str)  # non-fatal, for the status bar

    # The library (issue 11): a library answer's document, shown without clearing answers.
    answerDocumentLoaded = Signal(object)  # Document
    answerDocumentFailed = Signal(str)
