"""No swallowed errors (issue 29.3): no process-wide redirection from worker threads, the
children started are ended."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from desktop_qa.core.system import runtime


def test_a_session_is_made_without_touching_sys_stdout(monkeypatch: pytest.MonkeyPatch):
    """The window makes sessions on worker threads: swapping ``sys.stdout`` there swapped it
    for the whole process (another thread's prints vanished into the StringIO)."""
    seen: list[object] = []

    class FakeSession:
        def __init__(self, path: str, options: object, **kwargs: object) -> None:
            seen.append((sys.stdout, kwargs.get("enable_fallback")))

    fake = types.SimpleNamespace(InferenceSession=FakeSession)
    monkeypatch.setattr(runtime, "import_onnxruntime", lambda: fake)
    before = sys.stdout
    runtime.new_session(Path("model.onnx"), options=object())
    assert seen == [(before, 0)]  # the banner is off at its source, stdout untouched


def failing_close_job(job: object, note: object) -> object:
    """The real drawing job, except that closing the document fails in the child."""
    from desktop_qa.core.documents import render
    from desktop_qa.core.system.child import JobFailed

    if job == "close":
        raise JobFailed("the document cannot be closed")
    return render._draw_job(job, note)  # type: ignore[arg-type]


def test_a_child_whose_close_fails_is_ended_not_dropped(tmp_path: Path):
    """``PageDrawer.close_document`` forgot a live child on ``ChildError``: a process left
    running, unowned, until the app quit."""
    from desktop_qa.core.documents.render import DrawJob, PageDrawer
    from tests.pdfgen import handbook

    pdf = handbook(tmp_path / "handbook.pdf", pages=2, answer_page=1)
    drawer = PageDrawer(job_fn=failing_close_job)
    try:
        assert drawer.ready(wait=True)
        assert drawer.draw(DrawJob(1, str(pdf), None, 0, 1.0)) is not None
        first = drawer._child
        assert first is not None and first.alive
        drawer.close_document()
        assert not first.alive  # ended, not left running
        assert drawer.draw(DrawJob(2, str(pdf), None, 1, 1.0)) is not None  # a new one draws
    finally:
        drawer.close()
