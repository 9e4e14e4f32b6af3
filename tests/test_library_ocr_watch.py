"""Issue 16, items 7 and 12: a scan in the library is read as well as alone (OCR child with
its page limit, page progress, resume, retry), and watching says what it cannot do (a folder
gone or back, the inotify limit) while an absent folder keeps its documents."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_qa.cli import main
from desktop_qa.core.documents.ocr import pages as ocr
from desktop_qa.core.reading import engine
from desktop_qa.core.reading.query import Query
from desktop_qa.core.reading.results import Answer
from desktop_qa.core.storage import library
from desktop_qa.core.storage.library import FAILED, FolderWatcher, Library, LibraryScope
from desktop_qa.core.storage.library import workers as library_workers
from desktop_qa.core.system import paths
from tests import pdfgen
from tests.test_ocr import FACT, short_pages


def user_env() -> dict[str, str]:
    """The test's environment (its isolated user folders), the worktree first on the path."""
    return dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))


def make_scan(path: Path, pages: int, fact_page: int) -> Path:
    """An image-only ``pages``-page PDF, two short lines a column, FACT on ``fact_page``."""
    src = pdfgen.write_pdf(path.with_suffix(".src.pdf"), short_pages(pages, fact_page, lines=2))
    scan = pdfgen.scan_pdf(src, path, dpi=150)
    src.unlink()
    return scan


def drain(steps) -> tuple[list[library.IndexProgress], library.IndexReport]:
    seen = []
    while True:
        try:
            seen.append(next(steps))
        except StopIteration as stop:
            return seen, stop.value


def best(lib: Library, words: str) -> Answer | None:
    hits = engine.keyword_answers(LibraryScope(lib), Query(words)).answers
    return hits[0] if hits else None


def best_page(lib: Library, words: str) -> int | None:
    answer = best(lib, words)
    return answer.page if answer else None


def fact_page(lib: Library) -> int | None:
    """The page (1-based) on which the best answer highlights the fact. The test pages'
    filler has no full stops, so the fact's keyword sentence may begin on the page before
    (one sentence over a page break, issue 27): its boxes on the fact's page are the point."""
    answer = best(lib, "launch code Alpha Bravo")
    if answer is None or FACT not in answer.text:
        return None
    pages = {b.page + 1 for b in answer.boxes}
    return max(pages) if pages else None


# -- item 7: OCR in library workers -------------------------------------------------------------
def test_scan_is_ocrd_in_its_child_with_page_progress_past_the_file_limit(tmp_path, capfd):
    """A worker that keeps starting OCR pages is not killed by a 1 s file limit."""
    folder = tmp_path / "scans"
    folder.mkdir()
    make_scan(folder / "scan.pdf", 4, 3)
    with Library() as lib:
        lib.add_folder(folder)
        progress, report = drain(lib.update(workers=1, time_limit=1.0))
        assert (report.extracted, report.failed) == (1, 0), report.errors
        pages = [(p.current, p.file_page, p.file_pages) for p in progress if p.file_pages]
        assert ("scan.pdf", 1, 4) in pages and ("scan.pdf", 4, 4) in pages
        assert fact_page(lib) == 3
    assert "Tesseract" not in capfd.readouterr().err  # the OCR child's stderr is silenced


# Worker jobs for the tests below. They run in a worker process, forked or spawned
# (DESKTOP_QA_START_METHOD=spawn, as on Windows and macOS): so they are module-level
# functions (pickled by name), and what they need comes through the environment,
# which a spawned worker inherits, not through a closure or a parent's monkeypatch.
MARKER = "DESKTOP_QA_TEST_MARKER"
_READ_JOB = library_workers._read_job


def _stall_on_page_2(page, *args, **kwargs):  # type: ignore[no-untyped-def]
    marker = Path(os.environ[MARKER])
    if page.number == 1 and not marker.exists():
        marker.touch()
        time.sleep(3600)
    return _REAL_OCR_PAGE(page, *args, **kwargs)


_REAL_OCR_PAGE = ocr.ocr_page


def read_stalling_once(job, note):  # type: ignore[no-untyped-def]
    """Read a file, stalling once on its page 2 (the first time ``MARKER`` is missing)."""
    ocr.ocr_page = _stall_on_page_2  # in this worker only
    return _READ_JOB(job, note)


def read_until_fixed(job, note):  # type: ignore[no-untyped-def]
    """Fail every file until the file ``MARKER`` names exists."""
    if not Path(os.environ[MARKER]).exists():
        raise library_workers.JobFailed(f"{job[0]}: not readable today")
    return _READ_JOB(job, note)


def test_stalled_scan_resumes_from_its_stored_pages_on_the_next_update(tmp_path, monkeypatch):
    """No progress for the limit: killed, and the next update goes on from the stored pages."""
    folder = tmp_path / "scans"
    folder.mkdir()
    make_scan(folder / "scan.pdf", 3, 3)
    monkeypatch.setenv(MARKER, str(tmp_path / "stalled-once"))  # a spawned worker sees it
    monkeypatch.setattr(library_workers, "_read_job", read_stalling_once)
    # The limit counts from the file's start, a spawned worker's start-up included (about
    # a second here; Windows, macOS, DESKTOP_QA_START_METHOD=spawn): 0.5 s fails it.
    limit = 0.5 if library_workers.default_start_method() == "fork" else 5.0
    with Library() as lib:
        lib.add_folder(folder)
        _, report = drain(lib.update(workers=1, time_limit=limit, page_seconds=6))
        assert report.failed == 1
        (row,) = lib.documents(state=FAILED)
        assert "stopped at page 2 of 3" in (row.error or "") and "next update" in row.error
        # Page 1 was stored as it was read; mark it to see that the next run reuses it.
        (store,) = (paths.cache_dir() / "ocr").glob("*.sqlite")
        with sqlite3.connect(store) as conn:
            words = json.loads(conn.execute("SELECT words FROM page WHERE no = 0").fetchone()[0])
            words.append([60, 700, 120, 712, "Zanzibar", 99, 99, 0])
            conn.execute("UPDATE page SET words = ? WHERE no = 0", (json.dumps(words),))

        _, report = drain(lib.update(workers=1, time_limit=limit, page_seconds=6))
        assert (report.retried, report.extracted, report.failed) == (1, 1, 0), report.errors
        assert best_page(lib, "Zanzibar") == 1  # page 1 came from the resume store
        assert fact_page(lib) == 3
        assert not store.exists()  # read to the end: the partial result is dropped


def test_retry_reads_failed_files_again(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("The launch code is Alpha Bravo.\n")
    fixed = tmp_path / "fixed"
    monkeypatch.setenv(MARKER, str(fixed))  # a spawned worker sees it
    monkeypatch.setattr(library_workers, "_read_job", read_until_fixed)
    assert main(["library", "add", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == 1
    fixed.touch()
    assert main(["library", "update", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["unchanged"], out["retried"]) == (1, 0)  # an ordinary failure waits
    assert main(["library", "update", "--retry", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["extracted"], out["retried"], out["failed"]) == (1, 1, 0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _descendants(pid: int) -> dict[int, int]:
    """pid: depth, for every process under ``pid``."""
    tree, out, todo = _children(), {}, [(pid, 0)]
    while todo:
        p, depth = todo.pop()
        for c in tree.get(p, []):
            out[c] = depth + 1
            todo.append((c, depth + 1))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_indexer_leaves_no_worker_or_ocr_child(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    make_scan(folder / "scan.pdf", 6, 3)
    cmd = [sys.executable, "-m", "desktop_qa", "library", "add", str(folder)]
    proc = subprocess.Popen(
        cmd, env=user_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        family: dict[int, int] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            family = _descendants(proc.pid)
            if any(depth >= 2 for depth in family.values()):  # a worker's OCR child
                break
            time.sleep(0.05)
        assert any(depth >= 2 for depth in family.values()), "OCR never left the worker"
        time.sleep(0.5)  # into a page
        family = _descendants(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in family):
        time.sleep(0.1)
    left = [p for p in family if Path(f"/proc/{p}/stat").exists()]
    zombies = [p for p in left if Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][1] == "Z"]
    assert sorted(left) == sorted(zombies), "processes of the killed indexer still running"


# -- item 12: absent folders and watching ---------------------------------------------------------
def test_absent_folder_keeps_its_documents_and_nothing_is_reread_when_back(tmp_path, capsys):
    folder = tmp_path / "disk" / "docs"
    folder.mkdir(parents=True)
    (folder / "a.md").write_text("The launch code is Alpha Bravo.\n")
    (folder / "b.txt").write_text("Rivers and mountains.\n")
    assert main(["library", "add", str(folder)]) == 0
    away = tmp_path / "unplugged"
    folder.rename(away)
    capsys.readouterr()
    assert main(["library", "update", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["absent"] == [str(folder)] and out["removed"] == 0
    assert "folder absent" in captured.err and len(captured.err.splitlines()) == 1
    assert main(["library", "status"]) == 0
    assert f"folder absent: {folder}" in capsys.readouterr().out
    assert main(["library", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["absent"] is True
    with Library() as lib:
        answer = best(lib, "launch code Alpha Bravo")  # still answers
        assert answer is not None and answer.document == str(folder / "a.md")
    away.rename(folder)
    assert main(["library", "update", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["unchanged"], out["extracted"], out["absent"]) == (2, 0, [])


def _line(stream, timeout: float = 30) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "nothing said"
    return stream.readline()


def test_watch_says_a_folder_is_gone_and_watches_it_again_when_back(tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.txt").write_text("Rivers and mountains.\n")
    assert main(["library", "add", str(folder)]) == 0
    cmd = [sys.executable, "-m", "desktop_qa", "library", "update", "--watch", "--json"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=user_env()
    )
    try:
        assert json.loads(_line(proc.stdout))["unchanged"] == 1
        away = tmp_path / "away"
        folder.rename(away)
        assert "folder absent" in _line(proc.stderr)
        (away / "c.md").write_text("The launch code is Alpha Bravo.\n")
        away.rename(folder)
        said = [_line(proc.stderr) for _ in range(1)]
        while "watching again" not in said[-1]:
            said.append(_line(proc.stderr))
        report = json.loads(_line(proc.stdout))
        while not report["extracted"]:  # the update after the folder went away
            report = json.loads(_line(proc.stdout))
        assert (report["extracted"], report["unchanged"], report["removed"]) == (1, 1, 0)
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_folder_absent_when_watching_starts_is_said_once(tmp_path):
    """The watcher says a folder is gone; the first update's report does not say it again."""
    folder = tmp_path / "unplugged"
    folder.mkdir()
    (folder / "a.txt").write_text("Rivers and mountains.\n")
    assert main(["library", "add", str(folder)]) == 0
    folder.rename(tmp_path / "elsewhere")
    cmd = [sys.executable, "-m", "desktop_qa", "library", "update", "--watch", "--json"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=user_env()
    )
    try:
        report = json.loads(_line(proc.stdout))  # the first update is done
        assert report["absent"] == [str(folder)] and report["removed"] == 0
        time.sleep(2)  # what else it would say about it, watching
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    said = [line for line in err.splitlines() if "folder absent" in line]
    assert len(said) == 1 and said[0].startswith(f"{folder}: folder absent"), err


def test_inotify_limit_is_one_line_saying_what_to_do_and_watching_starts_later(
    tmp_path, monkeypatch
):
    from watchdog.observers import Observer

    folder = tmp_path / "docs"
    folder.mkdir()
    real_schedule = Observer.schedule
    full = [True]

    def schedule(self, *args, **kwargs):
        if full[0]:
            raise OSError(28, "inotify watch limit reached")  # as watchdog raises it
        return real_schedule(self, *args, **kwargs)

    monkeypatch.setattr(Observer, "schedule", schedule)
    said: list[str] = []
    changes: list[int] = []
    watcher = FolderWatcher([str(folder)], lambda: changes.append(1), said.append, poll=0.1)
    try:
        assert watcher.watching == []
        assert len(said) == 1 and "fs.inotify.max_user_watches" in said[0], said
        time.sleep(0.3)
        assert len(said) == 1  # said once, not at every check
        full[0] = False  # the user raised the limit
        deadline = time.monotonic() + 5
        while not watcher.watching and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.watching == [str(folder)] and "watching again" in said[-1]
        changes.clear()
        (folder / "a.md").write_text("new\n")
        deadline = time.monotonic() + 5
        while not changes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert changes
    finally:
        watcher.stop()
