"""Start the application: QApplication, Session, MainWindow, and the scripted modes.

``--ask`` queues a question until the document and model are ready;
``--screenshot`` saves the window once the answer (or the document) is shown
and quits with 0, or 1 when the document or the question failed. The
scripted modes are how the GUI is checked headless (offscreen, Xvfb).
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop_qa import __version__
from desktop_qa.gui.session import Session
from desktop_qa.gui.window import MainWindow
from desktop_qa.resources import icon_paths


def _install_excepthook(window: MainWindow) -> None:
    """An exception in a slot is a bug: report it, keep the window alive."""

    def hook(kind: type[BaseException], exc: BaseException, tb: object) -> None:
        traceback.print_exception(kind, exc, tb)  # type: ignore[arg-type]
        text = " ".join(str(exc).split())[:200] or kind.__name__
        try:
            window.show_error("Unexpected error", f"unexpected error ({kind.__name__}: {text})")
        except Exception:
            pass

    sys.excepthook = hook


def freeze_startup_objects() -> None:
    """Once, after start-up: the long-lived objects (modules, widgets) leave the cyclic
    GC's view, so its full passes during a query stay short (they hold the GIL).

    Only once: whatever is frozen is never collected, so freezing again later
    (at every document open) would keep each old document's cycles for good.
    """
    gc.collect()
    gc.freeze()


def run_app(
    file: str | None = None,
    *,
    model: str | None = None,
    ask: str | None = None,
    screenshot: str | None = None,
    page: int | None = None,
    state_file: str | None = None,
) -> int:
    """Open the window (optionally a file at a page, a question, a screenshot) and run the loop.

    ``state_file``: write the window's state there as JSON after every change
    (``gui.state``), so scripts and tests can follow the real app.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("desktop-qa")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("desktop-qa")
    app.setDesktopFileName("desktop-qa")  # Wayland matches the .desktop entry by this
    icon = QIcon()
    for path in icon_paths():
        icon.addFile(str(path))
    app.setWindowIcon(icon)
    session = Session()
    window = MainWindow(session, restore_geometry=screenshot is None)
    _install_excepthook(window)
    outcome = {"code": 0, "done": False}
    if state_file:
        from desktop_qa.gui.state import StateFile

        window.state_file = StateFile(window, state_file)  # type: ignore[attr-defined]
    if page and file:

        def go_to_page(_doc: object) -> None:
            session.documentLoaded.disconnect(go_to_page)
            QTimer.singleShot(0, lambda: window.go_to_page(page))

        session.documentLoaded.connect(go_to_page)

    if screenshot is not None:
        shot = Path(screenshot)

        def finish(code: int, message: str | None = None) -> None:
            if outcome["done"]:
                return
            outcome["done"] = True
            outcome["code"] = code
            if message:
                print(f"error: {message}", file=sys.stderr)

            def save() -> None:
                shot.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(shot), "PNG"):
                    print(f"error: cannot write {shot}", file=sys.stderr)
                    outcome["code"] = 1
                window.close()
                app.quit()

            window.when_rendered(save)

        session.documentFailed.connect(lambda msg: finish(1, msg))
        session.documentPasswordNeeded.connect(
            lambda path, _wrong: finish(1, f"{path} is password-protected; open it in the window")
        )
        session.queryFailed.connect(lambda msg: finish(1, msg))
        session.queryCancelled.connect(lambda: finish(1, "cancelled"))
        if ask:
            session.queryFinished.connect(lambda _r: QTimer.singleShot(0, lambda: finish(0)))
        elif file:
            session.documentLoaded.connect(lambda _d: finish(0))
        else:
            QTimer.singleShot(300, lambda: finish(0))
        # A safety net, so a scripted run never hangs.
        QTimer.singleShot(300_000, lambda: finish(1, "timed out"))

    window.show()
    freeze_startup_objects()
    session.load_model(model)
    if file:
        session.open_document(file)
    if ask:
        session.ask(ask)
    code = app.exec()
    result = int(outcome["code"] if screenshot is not None else code)
    quit_now(session, window, result)
    return result


QUIT_WAIT_MS = 1500  # in all: closing the window ends the process within about 2 s


def quit_now(session: Session, window: MainWindow, code: int) -> None:
    """Stop everything at once when the window closes: loading is cancelled (a conversion's
    child killed, a PDF stopped at its next page); each job may finish its step within
    ``QUIT_WAIT_MS`` in all, so no worker thread runs Python as the interpreter exits; one
    still inside C code after that ends with the process, now, rather than when that call
    returns (a hostile file kept one converting 240 s after the window closed)."""
    from desktop_qa.core.documents.formats import isolated

    isolated.stop()
    extra = (window.library.controller.pool, window.findbar.pool)
    session.shutdown(timeout_ms=QUIT_WAIT_MS, also=extra)
    if any(pool.activeThreadCount() for pool in (*session.pools(), *extra)):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # settings and the state file are written as they change
