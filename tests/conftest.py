"""Shared fixtures: isolated user folders, a rule-based model pack, the main window."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_qa.packs.oracle import build_oracle_pack
from tests.pdfgen import handbook

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # test corpora beside the repository, not in a fresh clone
CORPUS = SHARED / "corpora" / "pymupdf-tests"


def need_shared(path: Path) -> Path:
    """``path`` (shared test data under ``../shared``), or skip the test without it.

    Under CI (``CI=true``) a missing path fails the test instead: a CI run must
    not pass by skipping what it was set up to test.
    """
    if not path.exists():
        message = f"shared test data not found at {path}"
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{message} (CI is set: the shared data is required)", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test reads or writes the real settings, cache or installed packs."""
    root = tmp_path_factory.mktemp("user")
    for name in ("DATA", "CONFIG", "CACHE"):
        monkeypatch.setenv(f"DESKTOP_QA_{name}_DIR", str(root / name.lower()))
    monkeypatch.delenv("DESKTOP_QA_MODEL", raising=False)


@pytest.fixture(scope="session")
def oracle_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ "alpha" starts and "bravo" ends an answer (logit 10 each); null score 10."""
    return build_oracle_pack(tmp_path_factory.mktemp("packs") / "oracle")


@pytest.fixture(scope="session")
def handbook_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 pages, two columns; "Alpha Bravo" on page 41."""
    return handbook(tmp_path_factory.mktemp("docs") / "handbook.pdf")


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[..., Any]]:  # type: ignore[no-untyped-def]
    """Open main windows as the app does (the Session first, then the view).

    ``make(reader, session=None, size=(1100, 800), **settings)``: ``settings``
    set on the session's settings, ``reader`` installed once the window shows.
    Every window's workers (queries, library) are stopped after the test.
    """
    from desktop_qa.gui.session import Session
    from desktop_qa.gui.window import MainWindow

    made: list[MainWindow] = []

    def make(
        reader: Any = None,
        *,
        session: Session | None = None,
        size: tuple[int, int] | None = (1100, 800),
        **settings: object,
    ) -> MainWindow:
        session = Session() if session is None else session
        for key, value in settings.items():
            setattr(session.settings, key, value)
        window = MainWindow(session, restore_geometry=False)
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        if reader is not None:
            session.set_reader(reader)
        made.append(window)
        return window

    yield make
    for window in made:
        window.library.shutdown()
        window.session.shutdown()
    # The window never waits on its workers; a test does, so none outlives it.
    for window in made:
        pools = (*window.session.pools(), window.library.controller.pool, window.findbar.pool)
        for pool in pools:
            pool.waitForDone(10000)
