"""The page view's drawing: a child that serves the window for its whole life, bounded tiles.

* the drawing child outlives the pool thread that started it (QThreadPool's
  real expiry, shortened), and a child killed from outside comes back with
  the next page drawn;
* a window zoomed to the maximum on a DPR-2 screen draws each tile once and
  nothing at rest, with no pixmap larger than a tile;
* the cache's byte count is exact (a tile drawn again replaces its bytes);
* Fit Width fits the current page, not the widest (a book's cover).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pymupdf
import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QImage

from desktop_qa.gui.rendering import PageRenderer
from tests.pdfgen import handbook

REPO = Path(__file__).resolve().parents[1]
WAIT = 20000


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return handbook(tmp_path_factory.mktemp("gui_render") / "handbook.pdf", pages=6, answer_page=5)


def _draw(qtbot, renderer: PageRenderer, page: int) -> QImage:  # type: ignore[no-untyped-def]
    got: list[QImage] = []

    def take(_gen: int, p: int, _scale: float, _clip: object, image: QImage) -> None:
        if p == page:
            got.append(image)

    renderer.rendered.connect(take)
    try:
        renderer.request([(page, 1.0, None)])
        qtbot.waitUntil(lambda: bool(got), timeout=WAIT)
    finally:
        renderer.rendered.disconnect(take)
    return got[0]


def test_the_drawing_child_outlives_the_pool_thread_that_started_it(qtbot, pdf):  # type: ignore[no-untyped-def]
    """Pool threads retire when idle (30 s in the app); the child they started serves on."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    pool.setExpiryTimeout(300)  # ms: the real expiry, shortened
    renderer = PageRenderer(pool)
    threads: list[int] = []
    work = renderer.work

    def recorded() -> None:
        threads.append(threading.get_native_id())
        work()

    renderer.work = recorded  # type: ignore[method-assign]
    try:
        renderer.set_path(pdf)
        assert not _draw(qtbot, renderer, 0).isNull()
        qtbot.waitUntil(lambda: renderer.pending() == 0, timeout=WAIT)
        drawer = renderer.drawer
        assert drawer.ready(wait=True)  # (the pool is idle: this thread may look)
        assert drawer._child is not None
        pid = drawer._child.process.pid
        started_by = threads[-1]
        time.sleep(1.5)  # the pool thread that started the child retires
        if sys.platform.startswith("linux"):
            assert not os.path.exists(f"/proc/self/task/{started_by}")
        for page in (1, 2, 3):  # three pages after the thread is gone, all drawn
            assert not _draw(qtbot, renderer, page).isNull(), page
        assert threads[-1] != started_by  # drawn from a new pool thread
        assert drawer._child is not None and drawer._child.process.pid == pid  # the same child
        assert drawer.restarts == 0 and drawer.in_child >= 3
        assert renderer.failed() == set()
    finally:
        renderer.close()
        pool.waitForDone(10000)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kills a process")
def test_a_killed_drawing_child_comes_back_and_the_next_page_draws(qtbot, pdf):  # type: ignore[no-untyped-def]
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    renderer = PageRenderer(pool)
    try:
        renderer.set_path(pdf)
        assert not _draw(qtbot, renderer, 0).isNull()
        qtbot.waitUntil(lambda: renderer.pending() == 0, timeout=WAIT)
        drawer = renderer.drawer
        assert drawer.ready(wait=True) and drawer._child is not None
        pid = drawer._child.process.pid
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        assert not _draw(qtbot, renderer, 1).isNull()  # not "This page could not be drawn"
        assert renderer.failed() == set()
        assert drawer._child is not None and drawer._child.process.pid != pid
    finally:
        renderer.close()
        pool.waitForDone(10000)


def test_the_cache_counts_a_redrawn_tile_once(make_window):  # type: ignore[no-untyped-def]
    window = make_window()
    view = window.pdf_view
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFFFF)
    clip = (0, 0, 300, 200)
    gen = view._generation
    view._on_rendered(gen, 0, 1.0, clip, image)
    view._on_rendered(gen, 0, 1.0, clip, image)  # the same tile drawn again
    view._on_rendered(gen, 1, 1.0, clip, image)
    assert view.cache_bytes() == 2 * 300 * 200 * 4


def test_fit_width_fits_the_current_page_not_the_widest(qtbot, make_window, tmp_path):  # type: ignore[no-untyped-def]
    """A book whose cover is wider than its pages: Fit Width on page 3 fills the width
    with page 3."""
    path = tmp_path / "cover.pdf"
    with pymupdf.open() as made:
        made.new_page(width=900, height=700).insert_text((72, 72), "A wide cover.")
        for n in range(2, 6):
            made.new_page(width=420, height=600).insert_text((72, 72), f"Page {n}.")
        made.save(path)
    window = make_window(size=(1000, 800))
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(path)
    view = window.pdf_view
    room = view.viewport().width() - 2 * 16
    assert view.page_rect(0).width() == pytest.approx(room, abs=1)  # opened on the cover
    view.go_to_page(3)
    view.zoom_fit_width()
    assert view.current_page() == 3
    assert view.page_rect(2).width() == pytest.approx(room, abs=1)
    assert view.zoom == pytest.approx(room / 420, rel=1e-3)


PROBE = """
import json, os, sys, time
from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication
from desktop_qa.gui.session import Session
from desktop_qa.gui.window import MainWindow
from desktop_qa.gui import pageview
from desktop_qa.core.documents import render

app = QApplication(sys.argv[:1])
session = Session()
window = MainWindow(session, restore_geometry=False)
window.resize(900, 700)
window.show()
view = window.pdf_view
loaded = []
session.documentLoaded.connect(lambda doc: loaded.append(doc))

def spin(seconds, until=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if until is not None and until():
            return True
        time.sleep(0.005)
    return False

window.open_file(sys.argv[1])
assert spin(60, lambda: bool(loaded))
window.go_to_page(3)
while view.zoom < pageview.MAX_ZOOM - 1e-6:
    view.zoom_in()
    spin(0.05)
view.verticalScrollBar().setValue(view.verticalScrollBar().value() + 700)
settled = spin(60, window.render_idle)
before = view.renderer.renders
spin(float(sys.argv[2]))
gen = view._generation
counts = [n for (g, _piece), n in view.renderer.draws.items() if g == gen]
print(json.dumps({
    "dpr": view.devicePixelRatioF(),
    "zoom": view.zoom,
    "settled": settled,
    "most_draws_of_a_tile": max(counts),
    "tiles_drawn": len(counts),
    "draws_at_rest": view.renderer.renders - before,
    "largest_pixmap": max(max(pm.width(), pm.height()) for pm in view._cache.values()),
    "cache_bytes": view.cache_bytes(),
    "cache_bytes_counted": sum(pm.width() * pm.height() * 4 for pm in view._cache.values()),
    "failed": sorted(view.renderer.failed()),
    "tile_max": render.TILE_MAX,
}), flush=True)
window.close()
session.shutdown()
"""


@pytest.mark.slow  # a window in a process of its own (QT_SCALE_FACTOR is read at start): ~20 s
def test_a_window_zoomed_to_the_maximum_on_a_dpr2_screen_draws_each_tile_once(tmp_path, pdf):  # type: ignore[no-untyped-def]
    """QT_SCALE_FACTOR=2 (a device pixel ratio of 2): at the highest zoom a letter page is
    7344x9504 pixels, more than the cache; it is drawn in tiles, each once, nothing at rest."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(pdf), "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["dpr"] == 2.0 and seen["zoom"] == pytest.approx(6.0)
    assert seen["settled"] and seen["failed"] == []
    assert seen["most_draws_of_a_tile"] == 1, seen  # one draw per request
    assert seen["draws_at_rest"] == 0, seen  # no CPU at rest
    assert seen["largest_pixmap"] <= 2400, seen  # bounded (a tile), not a 9504 px page
    assert seen["cache_bytes"] == seen["cache_bytes_counted"], seen


def test_a_full_cache_never_evicts_what_is_in_view(qtbot, make_window, pdf, monkeypatch):  # type: ignore[no-untyped-def]
    """Over budget, the oldest tiles out of view go; those in view stay, so the view never
    draws, evicts and draws again what it shows (the render loop at high zoom)."""
    from desktop_qa.gui import pageview

    window = make_window(size=(900, 700))
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(pdf)
    view = window.pdf_view
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    shown = set(view._cache)
    assert shown and view.missing_pages() == []
    monkeypatch.setattr(pageview, "CACHE_BYTES", 1)  # everything is over budget now
    image = QImage(100, 100, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFFFF)
    view._on_rendered(view._generation, 5, 0.5, (0, 0, 100, 100), image)  # out of view
    assert (5, 0.5, (0, 0, 100, 100)) not in view._cache
    assert shown <= set(view._cache) and view.missing_pages() == []
    counted = sum(pm.width() * pm.height() * 4 for pm in view._cache.values())
    assert view.cache_bytes() == counted
