"""Pages drawn in a child process (``render``): same pixels, hangs and crashes given up.

The child runs the real drawing job; ``troubled_job`` (importable by the
child, as the real one is) hangs on one page and crashes the process on
another, as a pathological file can make MuPDF do.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pymupdf
import pytest

from desktop_qa.core.documents import render
from desktop_qa.core.documents.render import DrawJob, PageDrawer
from desktop_qa.core.system import child
from tests.pdfgen import handbook

HANGS, CRASHES = 2, 3  # the pages troubled_job cannot draw


def troubled_job(job: object, note: child.Note) -> object:
    """The real job, but page HANGS spins for ever and page CRASHES ends the process."""
    if isinstance(job, DrawJob) and job.page == HANGS:
        while True:
            pass
    if isinstance(job, DrawJob) and job.page == CRASHES:
        os._exit(3)
    return render._draw_job(job, note)


def crash_once_job(job: object, note: child.Note) -> object:
    """The real job, but the first page asked ends its process (a crash, or a kill from
    outside mid-page); a marker beside the PDF remembers it across processes."""
    if isinstance(job, DrawJob):
        marker = Path(job.path).with_suffix(".crashed")
        if not marker.exists():
            marker.write_text("once")
            os._exit(3)
    return render._draw_job(job, note)


def close_fails_job(job: object, note: child.Note) -> object:
    """The real job, but closing the document raises (a MuPDF error on close)."""
    if job == "close":
        raise RuntimeError("close failed")
    return render._draw_job(job, note)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return handbook(tmp_path_factory.mktemp("render") / "handbook.pdf", pages=6, answer_page=5)


def job(pdf: Path, page: int, key: int = 1, scale: float = 1.0) -> DrawJob:
    return DrawJob(key, str(pdf), None, page, scale)


def test_a_child_draws_the_same_pixels_as_mupdf_here(pdf: Path) -> None:
    drawer = PageDrawer()
    try:
        assert drawer.ready(wait=True)
        drawn = drawer.draw(job(pdf, 1, scale=1.5))
        with pymupdf.open(pdf) as plain:  # page 2 (index 1) drawn by PyMuPDF itself
            expected = plain[1].get_pixmap(matrix=pymupdf.Matrix(1.5, 1.5), alpha=False)
            width, height = plain[1].rect.width, plain[1].rect.height
        assert drawn is not None
        assert (drawn.width, drawn.height, drawn.stride) == (
            expected.width,
            expected.height,
            expected.stride,
        )
        assert drawn.samples == expected.samples
        # At the scale asked: 1.5 pixels a point, three bytes a pixel.
        assert (drawn.width, drawn.height) == (round(width * 1.5), round(height * 1.5))
        assert drawn.stride == drawn.width * 3 and len(drawn.samples) == drawn.stride * drawn.height
        assert (drawer.in_child, drawer.here) == (1, 0)
        assert drawer.draw(job(pdf, 99)) is None  # no such page: blank, the child goes on
        assert drawer.draw(job(pdf, 0)) is not None and drawer.in_child == 3
    finally:
        drawer.close()


@pytest.mark.parametrize("kind", ["epub", "docx"])
def test_an_ebook_and_a_converted_document_are_drawn_as_they_were_read(
    tmp_path: Path, kind: str
) -> None:
    """The child lays a document out as reading did: its pages are the Document's pages."""
    from desktop_qa.core.documents.document import load_document
    from tests import formatgen
    from tests.test_viewer_core import epub_with_toc

    path = epub_with_toc(tmp_path) if kind == "epub" else formatgen.docx(tmp_path / "a.docx")
    doc = load_document(path)
    drawer = PageDrawer()
    try:
        assert drawer.ready(wait=True)
        for page, (width, height) in enumerate(doc.page_sizes):
            drawn = drawer.draw(DrawJob(1, str(path), None, page, 1.0))
            assert drawn is not None, page
            assert (drawn.width, drawn.height) == (round(width), round(height)), page
        assert drawer.in_child == len(doc.page_sizes) and drawer.here == 0
    finally:
        drawer.close()


def test_a_protected_pdf_is_drawn_with_its_password_only(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    with pymupdf.open() as made:
        made.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
        made.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    drawer = PageDrawer()
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(DrawJob(1, str(locked), "u", 0, 1.0)) is not None
        assert drawer.draw(DrawJob(2, str(locked), None, 0, 1.0)) is None  # blank, not a crash
        assert drawer.draw(DrawJob(3, str(locked), "u", 0, 1.0)) is not None
    finally:
        drawer.close()


def test_until_the_child_is_up_the_first_page_is_drawn_here(pdf: Path) -> None:
    """The child's warm-up (importing MuPDF) never makes the first page later than before."""
    drawer = PageDrawer()
    try:
        first = drawer.draw(job(pdf, 0))  # the child was only just started
        assert first is not None and (drawer.here, drawer.in_child) == (1, 0)
        assert drawer.ready(wait=True)
        assert drawer.draw(job(pdf, 1)) is not None and (drawer.here, drawer.in_child) == (1, 1)
    finally:
        drawer.close()


def test_a_page_that_hangs_or_crashes_is_given_up_and_the_next_pages_still_come(
    pdf: Path,
) -> None:
    drawer = PageDrawer(seconds=1.0, job_fn=troubled_job)
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(job(pdf, 0)) is not None
        hung = drawer._child
        assert hung is not None
        started = time.monotonic()
        assert drawer.draw(job(pdf, HANGS)) is None  # past its 1 s: given up
        assert time.monotonic() - started < 10
        assert not hung.alive  # the spinning child was killed, not left burning a core
        assert drawer.draw(job(pdf, 1)) is not None  # a new child draws the next page
        assert drawer.draw(job(pdf, CRASHES)) is None  # the process ended: blank
        assert drawer.draw(job(pdf, 4)) is not None
        assert drawer.here == 0  # never drawn in this process once a child had been up
    finally:
        drawer.close()


def test_a_page_of_a_document_the_user_left_is_stopped_soon(pdf: Path) -> None:
    """Opening another document stops a page still drawing (after CANCEL_AFTER), not after
    the whole RENDER_SECONDS."""
    drawer = PageDrawer(seconds=60.0, job_fn=troubled_job)
    try:
        assert drawer.ready(wait=True)
        started = time.monotonic()
        assert drawer.draw(job(pdf, HANGS), cancel=lambda: True) is None
        assert render.CANCEL_AFTER <= time.monotonic() - started < 10
        assert drawer.draw(job(pdf, 0, key=2), cancel=lambda: False) is not None
    finally:
        drawer.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_file_is_kept_open_once_the_document_is_closed(pdf: Path) -> None:
    """Closing a document lets the user move or delete it (Windows refuses an open file)."""
    drawer = PageDrawer()
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(job(pdf, 0)) is not None
        assert drawer._child is not None
        pid = drawer._child.process.pid

        def open_files() -> set[str]:
            fds = Path(f"/proc/{pid}/fd")
            return {os.path.realpath(fds / fd) for fd in os.listdir(fds)}

        assert str(pdf.resolve()) in open_files()
        drawer.close_document()
        assert str(pdf.resolve()) not in open_files()
        assert drawer.draw(job(pdf, 0, key=2)) is not None  # the same child draws on
    finally:
        drawer.close()


def test_without_child_processes_pages_are_drawn_here(
    pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox that cannot start processes still shows every page."""

    def refuse(*_args: object, **_kw: object) -> None:
        raise child.ChildUnavailable("no processes here")

    monkeypatch.setattr(child, "Child", refuse)
    drawer = PageDrawer()
    assert not drawer.ready(wait=True)
    assert all(drawer.draw(job(pdf, p)) is not None for p in range(3))
    assert (drawer.here, drawer.in_child) == (3, 0)
    # Another document (landscape): its own pages, not the last one's.
    other = tmp_path / "wide.pdf"
    with pymupdf.open() as made:
        made.new_page(width=800, height=300).insert_text((72, 72), "Wide page.")
        made.save(other)
    wide = drawer.draw(DrawJob(2, str(other), None, 0, 1.0))
    assert wide is not None and (wide.width, wide.height) == (800, 300)
    locked = tmp_path / "locked.pdf"
    with pymupdf.open() as made:
        made.new_page().insert_text((72, 72), "The launch code is Alpha Bravo.")
        made.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    assert drawer.draw(DrawJob(3, str(locked), "u", 0, 1.0)) is not None  # with its password
    drawer.close()


def test_tiles_cover_the_page_once_and_join_into_the_same_pixels(pdf: Path) -> None:
    """At high zoom a page is drawn in tiles: together they are exactly the whole page."""
    import numpy as np

    with pymupdf.open(pdf) as plain:
        width, height = plain[0].rect.width, plain[0].rect.height
        whole = plain[0].get_pixmap(matrix=pymupdf.Matrix(4.0, 4.0), alpha=False)
    pieces = render.tiles(width, height, 4.0, most=700)
    w, h = render.page_pixels(width, height, 4.0)
    assert (w, h) == (whole.width, whole.height)
    assert len(pieces) > 4 and all(x1 - x0 <= 700 and y1 - y0 <= 700 for x0, y0, x1, y1 in pieces)
    covered = np.zeros((h, w), np.int32)
    for x0, y0, x1, y1 in pieces:
        covered[y0:y1, x0:x1] += 1
    assert (covered == 1).all()
    assert render.tiles(width, height, 1.0) == [(0, 0, *render.page_pixels(width, height, 1.0))]
    drawer = PageDrawer()
    try:
        assert drawer.ready(wait=True)
        joined = np.zeros((h, w * 3), np.uint8)
        for clip in pieces:
            x0, y0, x1, y1 = clip
            tile = drawer.draw(DrawJob(1, str(pdf), None, 0, 4.0, clip))
            assert tile is not None and (tile.width, tile.height) == (x1 - x0, y1 - y0)
            rows = np.frombuffer(tile.samples, np.uint8).reshape(tile.height, tile.stride)
            joined[y0:y1, x0 * 3 : x1 * 3] = rows[:, : tile.width * 3]
        expected = np.frombuffer(whole.samples, np.uint8).reshape(h, whole.stride)[:, : w * 3]
        assert np.array_equal(joined, expected)
    finally:
        drawer.close()


@pytest.mark.skipif(not hasattr(os, "kill"), reason="kills a process")
def test_a_child_killed_from_outside_is_replaced_and_the_page_still_drawn(pdf: Path) -> None:
    """The user never sees a child die: killed while idle, the next page comes from a new one."""
    import signal

    drawer = PageDrawer()
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(job(pdf, 0)) is not None
        assert drawer._child is not None
        first = drawer._child.process.pid
        os.kill(first, signal.SIGKILL)
        time.sleep(0.3)
        assert drawer.draw(job(pdf, 1)) is not None  # not "This page could not be drawn"
        assert drawer._child is not None and drawer._child.process.pid != first
        assert drawer.here == 0  # drawn in the new child, not in this process
    finally:
        drawer.close()


def test_a_child_that_dies_on_a_page_is_replaced_and_the_page_asked_again(
    pdf: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(pdf.read_bytes())
    drawer = PageDrawer(job_fn=crash_once_job)
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(job(copy, 0)) is not None  # the first child died on it
        assert drawer.restarts == 1 and drawer.in_child == 1
    finally:
        drawer.close()


def test_closing_a_document_never_leaves_a_child_running_unheld(pdf: Path) -> None:
    """A child whose close fails is ended, not dropped alive (holding the file open)."""
    drawer = PageDrawer(job_fn=close_fails_job)
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(job(pdf, 0)) is not None
        held = drawer._child
        assert held is not None
        drawer.close_document()
        held.process.join(5)
        assert not held.alive and drawer._child is None
        assert drawer.draw(job(pdf, 1, key=2)) is not None  # a new child draws on
    finally:
        drawer.close()
