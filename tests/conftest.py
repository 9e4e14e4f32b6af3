"""Shared fixtures: isolated user folders, a rule-based model pack, the main window."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_qa.packs.oracle import build_oracle_pack
from tests.pdfgen import handbook

REPO = Path(__file__).resolve().parents[1]

# Under pytest-xdist (the fast subset's `-n auto`) each worker runs its tests beside
# execnet's I/O thread, a thread `threading` does not list: a library worker forked from
# the test process can inherit a lock that thread held and hang until its time limit
# (seen once in five runs: 13 of 26 files failed, 422 s). There every child is spawned,
# the Windows and macOS way (the spawn CI job's); the serial run, CI's, keeps Linux's fork,
# and tests/test_start_methods.py runs each method explicitly either way.
if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("DESKTOP_QA_START_METHOD"):
    os.environ["DESKTOP_QA_START_METHOD"] = "spawn"
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


# The slow tests (figures from a full run with --durations: each takes 10 s or more, or
# builds something big, or waits on purpose: for a watcher, a time limit, a hung or killed
# process, 2.5 s or more), marked here in one place so `-m "not slow and not x11"` is the
# everyday subset (README, "Run the tests"). A node id prefix marks every test under it.
SLOW = {
    "tests/test_packaging.py": "builds the installer with PyInstaller (minutes)",
    "tests/test_corpus.py": "asks every file of the 167-file corpus",
    "tests/test_ocr.py::test_forty_page_scan": "OCRs a forty-page scan",
    "tests/test_ocr.py::test_pages_in_parallel": "OCRs pages in parallel, twice",
    "tests/test_ocr.py::test_ask_answers_from_a_scan": "OCRs a scan through the CLI",
    "tests/test_viewer_core.py::test_find_counts_every_occurrence_in_the_book": "the book",
    "tests/test_library_ocr_watch.py::test_stalled_scan": "waits for a stalled OCR, twice",
    "tests/test_library_ocr_watch.py::test_scan_is_ocrd": "OCRs a scan in a library child",
    "tests/test_formats.py::test_bad_input_is_one_error_line[million]": "a million cells",
    "tests/test_formats.py::test_bad_files_are_listed_failed_in_the_library": "every bad file",
    "tests/test_library_durable.py::test_kill_9_at_random": "8 kills of a 3,000-document removal",
    # Each of its 38 cases runs the CLI in a memory-limited child that converts in another
    # (about 1 s each; 66 s together, the budget build's 32 s among them).
    "tests/test_expansion.py": "38 memory-limited CLI children",
    # The three share one fixture (``long_runs``: the CLI, the window and a library worker
    # run under strace, 12 s), so all three or none.
    "tests/test_hostile.py::test_telemetry_store_is_never_created": "runs every front end",
    "tests/test_hostile.py::test_without_the_switch": "runs every front end (its fixture)",
    "tests/test_hostile.py::test_no_connection_leaves_the_machine": "runs every front end",
    "tests/test_export.py": "exports models with torch (its import alone is seconds)",
    # Waiting on purpose (a quiet 2-core machine's seconds).
    "tests/test_library_ocr_watch.py::test_watch_says_a_folder_is_gone": "a watcher, 5.9 s",
    "tests/test_library_ocr_watch.py::test_a_folder_absent_when_watching": "a watcher, 2.5 s",
    "tests/test_library_ocr_watch.py::test_killed_indexer_leaves_no": "a killed indexer, 3.0 s",
    "tests/test_child.py::test_a_child_holding_the_gil_in_c_code": "a killed parent, 5.4 s",
    "tests/test_gui_library.py::test_watched_folder_indexes_a_new_file": "a watcher, 3.1 s",
    "tests/test_library.py::test_update_watch_reindexes_a_new_file": "a watcher, 3.0 s",
    "tests/test_library.py::test_a_file_past_the_time_limit": "a time limit, 2.7 s",
    "tests/test_render.py::test_a_page_that_hangs_or_crashes": "a hung drawing, 2.7 s",
    "tests/test_gui_viewer.py::test_a_page_that_cannot_be_drawn": "a hung drawing, 2.8 s",
}


# What only POSIX systems (Linux, macOS) or only Linux have, by node id prefix, with the
# reason: these tests skip elsewhere, saying why (`pytest -ra` lists them). Every test not
# named here (or skipped in its own file with its reason) must pass on Windows and macOS
# too (.github/workflows/ci.yml; docs/testing.md, "Platforms").
POSIX_ONLY = {
    "tests/test_library.py::test_walk_skips_hidden_folders_and_symlink_loops": "symlinks",
    "tests/test_library.py::test_update_watch_reindexes_a_new_file": "select() on a pipe",
    "tests/test_library.py::test_killed_indexer_loses_only_files_in_flight": "SIGKILL, ps",
    "tests/test_library_hostile.py::test_links_leaving": "symlinks",
    "tests/test_library_hostile.py::test_a_file_swapped_for_a_link": "symlinks",
    "tests/test_library_hostile.py::test_a_name_that_is_not_utf8": "byte file names",
    "tests/test_library_hostile.py::test_a_fifo_swapped_in": "FIFOs",
    "tests/test_library_hostile.py::test_names_with_escapes": "line breaks in file names",
    "tests/test_library_ocr_watch.py::test_watch_says_a_folder": "select() on a pipe",
    "tests/test_library_ocr_watch.py::test_a_folder_absent_when_watching": "select() on a pipe",
    "tests/test_library_store.py::test_store_its_folder_and_wal": "POSIX file modes",
    "tests/test_ocr.py::test_ocr_resume_store_is_private": "POSIX file modes",
    "tests/test_library_workers.py::test_a_worker_killed_while_idle": "SIGKILL",
    "tests/test_hostile.py::test_symlinks_in_a_pack_are_refused": "symlinks",
    "tests/test_hostile.py::test_calibrate_leaves_linked_files": "symlinks",
}
LINUX_ONLY = {
    "tests/test_library_store.py::test_full_tmpfs": "mounts a tmpfs",
    "tests/test_library_store.py::test_read_only_store": "bind-mounts the store read-only",
    "tests/test_library_ocr_watch.py::test_killed_indexer_leaves_no_worker": "reads /proc",
    "tests/test_library_ocr_watch.py::test_inotify_limit": "inotify",
}


def _platform_skip(nodeid: str) -> str | None:
    """Why this test skips on this platform (POSIX_ONLY, LINUX_ONLY), or None."""
    for names, runs_here, where in (
        (POSIX_ONLY, os.name == "posix", "POSIX"),
        (LINUX_ONLY, sys.platform.startswith("linux"), "Linux"),
    ):
        if not runs_here:
            for prefix, needs in names.items():
                if nodeid.startswith(prefix):
                    return f"{where} only: {needs}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.nodeid.startswith(prefix) for prefix in SLOW):
            item.add_marker(pytest.mark.slow)
        reason = _platform_skip(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
