"""Background work in the window (issue 26, points 3 and 7): drawing never waits on an
open, the UI thread never waits on a worker (removing a folder, quitting), and every job
runs through the one worker pattern (its errors as objects, one cancel path)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_qa.core.errors import Cancelled, UserError
from desktop_qa.core.reading.pack import load_pack
from desktop_qa.core.reading.reader import Reader
from desktop_qa.gui.workers import Jobs, single_pool
from tests.gui_helpers import SlowReader
from tests.pdfgen import page_lines, write_pdf

WAIT = 30000


def test_pages_are_drawn_while_a_document_is_still_opening(
    qtbot, make_window, oracle_pack, handbook_pdf, monkeypatch
):
    """An open that takes long (OCR: seconds a page) holds up no page drawing: zooming the
    document on screen draws its pages while the next document is still opening."""
    from desktop_qa.gui import opening

    window = make_window(Reader(load_pack(oracle_pack)))
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    release = threading.Event()
    real = opening.open_document

    def slow_open(path, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(WAIT / 1000)  # an OCR that takes its time
        return real(path, **kwargs)

    monkeypatch.setattr(opening, "open_document", slow_open)
    try:
        window.open_file(handbook_pdf)
        qtbot.waitUntil(lambda: window.session.loading, timeout=WAIT)
        drawn: list[int] = []
        window.pdf_view.renderer.rendered.connect(lambda _g, page, _s, _i: drawn.append(page))
        qtbot.keyClick(window.pdf_view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: bool(drawn), timeout=10000)
        assert window.session.loading  # the open is still under way
    finally:
        release.set()


class _SlowUpdate:
    """Library.update that takes 2 s to reach its first check of ``cancel`` (a big file)."""

    def __init__(self, real: type) -> None:
        self.real = real
        self.running = threading.Event()

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        lib = self.real(*args, **kwargs)

        def update(*, cancel, **_kw):  # type: ignore[no-untyped-def]
            self.running.set()
            time.sleep(2.0)
            if cancel():
                raise Cancelled()
            yield from ()
            raise AssertionError("not reached in this test")

        lib.update = update
        return lib


def test_removing_a_folder_while_indexing_never_waits_on_the_ui_thread(
    qtbot, make_window, tmp_path, monkeypatch
):
    from desktop_qa.core.storage.library import Library
    from desktop_qa.gui import indexing

    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "a.pdf", [[page_lines(1)]])
    window = make_window(size=(1280, 820))
    ui = window.library
    slow = _SlowUpdate(Library)
    monkeypatch.setattr(indexing, "Library", slow)
    ui.panel.add(str(folder))
    assert slow.running.wait(WAIT / 1000)  # the indexing is under way, in a file
    assert ui.controller.indexing
    started = time.perf_counter()
    ui.panel.remove_selected()
    took = time.perf_counter() - started
    assert took < 0.3, f"the UI thread waited {took:.2f} s for the removal"
    # The panel is redrawn without it once the removal has run.
    qtbot.waitUntil(lambda: ui.panel.tree.topLevelItemCount() == 0, timeout=WAIT)
    assert not ui.controller.folders()
    assert ui.panel.remove_button.isEnabled() is False  # nothing left to remove


def test_quitting_during_a_reading_does_not_wait_for_it(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    reader = SlowReader(load_pack(oracle_pack))
    window = make_window(reader, exhaustive=True)
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    reader.delay = 2.0  # each batch takes 2 s: the reading is mid-batch when we quit
    window.session.ask("What is the launch code?")
    qtbot.waitUntil(lambda: window.session.busy, timeout=WAIT)
    qtbot.wait(200)
    started = time.perf_counter()
    window.close()
    took = time.perf_counter() - started
    assert took < 0.5, f"closing the window waited {took:.2f} s"


# -- the one worker pattern -----------------------------------------------------------------------
def _run(qtbot, job, **callbacks):  # type: ignore[no-untyped-def]
    pool = single_pool()
    seen: dict[str, list[object]] = {"returned": [], "errored": [], "aborted": [], "yielded": []}
    handle = Jobs().start(
        pool,
        job,
        returned=lambda out: seen["returned"].append(out),
        errored=lambda exc: seen["errored"].append(exc),
        aborted=lambda: seen["aborted"].append(True),
        yielded=lambda item: seen["yielded"].append(item),
        **callbacks,
    )
    return pool, handle, seen


def test_an_error_reaches_the_owner_as_the_exception_with_its_hint(qtbot):
    def job(report, cancelled):  # type: ignore[no-untyped-def]
        raise UserError("scan.pdf has no text layer", hint="ocr_on")

    pool, _handle, seen = _run(qtbot, job)
    qtbot.waitUntil(lambda: bool(seen["errored"]), timeout=WAIT)
    (exc,) = seen["errored"]
    assert isinstance(exc, UserError) and exc.hint == "ocr_on"
    assert seen["returned"] == seen["aborted"] == []


def test_a_cancel_reaches_the_aborted_callback_exactly_once(qtbot):
    """``cancel(now=True)`` (Esc) runs ``aborted`` at once and drops what the job still
    says; a plain ``cancel()`` runs it once the job has stopped. Either way: once."""
    go_on = threading.Event()

    def steps(report, cancelled):  # type: ignore[no-untyped-def]
        yield "first"
        go_on.wait(5)
        yield "second"
        return "done"

    pool, handle, seen = _run(qtbot, steps, keep=lambda _item: True)
    qtbot.waitUntil(lambda: seen["yielded"] == ["first"], timeout=WAIT)
    assert handle.cancel(now=True)
    assert seen["aborted"] == [True]  # at once, on this thread
    go_on.set()
    pool.waitForDone(WAIT)
    qtbot.wait(50)
    assert seen["aborted"] == [True] and seen["returned"] == [] and seen["yielded"] == ["first"]
    assert not handle.cancel()  # ended: nothing more to cancel

    go_on.clear()
    pool, handle, seen = _run(qtbot, steps, keep=lambda _item: True)
    qtbot.waitUntil(lambda: seen["yielded"] == ["first"], timeout=WAIT)
    assert handle.cancel() and handle.cancelling
    assert seen["aborted"] == []  # not yet: the job has not stopped
    go_on.set()
    qtbot.waitUntil(lambda: seen["aborted"] == [True], timeout=WAIT)
    pool.waitForDone(WAIT)
    qtbot.wait(50)
    assert seen["aborted"] == [True] and seen["returned"] == []


def test_esc_stops_a_reading_through_its_aborted_callback(
    qtbot, make_window, oracle_pack, handbook_pdf
):
    """Esc reaches the session's one stop path: the answers so far stay, marked stopped,
    and ``queryCancelled`` comes once (not again when the worker itself stops)."""
    reader = SlowReader(load_pack(oracle_pack))
    window = make_window(reader, exhaustive=True)
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(handbook_pdf)
    reader.delay = 0.3
    cancelled: list[bool] = []
    window.session.queryCancelled.connect(lambda: cancelled.append(True))
    window.session.ask("What is the launch code?")
    qtbot.waitUntil(lambda: window.session.progress[0] > 0, timeout=WAIT)
    qtbot.keyClick(window.question, Qt.Key.Key_Escape)
    assert cancelled == [True] and window.session.status == "stopped"
    window.session.query_pool.waitForDone(WAIT)
    qtbot.wait(100)
    assert cancelled == [True]


def test_no_model_installed_is_known_by_its_hint_not_its_words(qtbot, make_window, monkeypatch):
    """The first-run panel shows for a pack error whose hint is ``install_pack``, whatever
    its wording; the window parses no message."""
    from desktop_qa.gui import models

    def none_found(_explicit=None):  # type: ignore[no-untyped-def]
        raise UserError("not one pack in the three folders searched", hint="install_pack")

    monkeypatch.setattr(models, "find_pack", none_found)
    window = make_window()
    with qtbot.waitSignal(window.session.modelMissing, timeout=WAIT):
        window.session.load_model()
    assert window.first_run.isVisibleTo(window)
    assert "not one pack" not in window.first_run.text.text()  # no red line: none installed


def test_opening_documents_freezes_nothing(qtbot, make_window, oracle_pack, handbook_pdf, tmp_path):
    """``gc.freeze`` runs once after start-up, not at every open: an old document's
    cycles must stay collectable."""
    other = write_pdf(tmp_path / "other.pdf", [[page_lines(3)]])
    window = make_window(Reader(load_pack(oracle_pack)))
    frozen = gc.get_freeze_count()
    for path in (handbook_pdf, Path(other), handbook_pdf):
        with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
            window.open_file(path)
    assert gc.get_freeze_count() == frozen


@pytest.fixture(autouse=True)
def _unfreeze():  # type: ignore[no-untyped-def]
    yield
    gc.unfreeze()
