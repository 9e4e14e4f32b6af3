"""Issue 19 in the window: a PDF with no readable text still opens and shows its pages."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.conftest import CORPUS, need_shared

WAIT = 15000


def test_text_less_pdf_opens_shows_page_one_and_says_why_no_answers(qtbot, make_window):
    path = need_shared(CORPUS / "img-regular.pdf")
    window = make_window(ocr_mode="never")
    with qtbot.waitSignal(window.session.documentLoaded, timeout=WAIT):
        window.open_file(path)
    assert window.viewer.currentWidget() is window.pdf_view
    assert window.session.opened.unanswerable is not None
    qtbot.waitUntil(window.render_idle, timeout=WAIT)
    assert window.pdf_view.renderer.renders >= 1  # page 1 drawn
    # A question gets the core's one line in the app's words, not a crash or a dialog.
    with qtbot.waitSignal(window.session.queryFailed, timeout=WAIT) as failed:
        window.session.ask("what is shown?")
    assert "no text layer" in failed.args[0] and "Tools ▸ Settings ▸ OCR" in failed.args[0]
