"""Workers and children started the way Windows and macOS must start them (spawn), on Linux.

``DESKTOP_QA_START_METHOD=spawn`` (``core.system.processes``) makes every child start with
spawn; these tests run the key paths under each start method explicitly, so a job that
only works when forked (module state set at run time, an unpicklable job) fails here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import pytest

from desktop_qa.core.errors import UserError
from desktop_qa.core.storage.library import Library, workers
from desktop_qa.core.system import child, processes

METHODS = [
    m
    for m in ("fork", "spawn")
    if m in multiprocessing.get_all_start_methods()  # Windows has no fork
]
SET_AT_RUN_TIME = "import time"  # a forked child inherits the change below; a spawned one not


def job(value, note):  # runs in the child
    note("started")
    if value == "crash":
        os._exit(3)
    return value, os.getpid(), SET_AT_RUN_TIME


@pytest.fixture(autouse=True)
def _unforced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says the start method it wants (the suite may run with the switch set)."""
    monkeypatch.delenv(processes.ENV, raising=False)


@pytest.fixture()
def run_time_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "SET_AT_RUN_TIME", "set by the parent")


def test_the_switch_forces_spawn_on_every_child_and_refuses_other_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    linux = sys.platform.startswith("linux")
    assert processes.default_start_method() == ("fork" if linux else "spawn")
    assert processes.start_method("fork") == ("fork" if "fork" in METHODS else "spawn")
    monkeypatch.setenv(processes.ENV, "spawn")
    assert processes.default_start_method() == "spawn"
    assert processes.start_method("fork") == "spawn"
    assert workers.WorkerPool(1, start_method="fork").start_method == "spawn"
    assert workers.WorkerPool(1).start_method == "spawn"
    monkeypatch.setenv(processes.ENV, "fork")  # never forced: threads may be running
    with pytest.raises(UserError, match=f"^{processes.ENV}='fork': use spawn"):
        processes.start_method("spawn")
    monkeypatch.setenv(processes.ENV, " ")
    assert processes.start_method("spawn") == "spawn"
    # Windows has no fork: a child asked to fork (tests, Linux defaults) is spawned there.
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert processes.start_method("fork") == "spawn"


@pytest.mark.parametrize("method", METHODS)
def test_a_child_serves_jobs_and_reports_a_crash_under_each_start_method(
    method: str, run_time_state: None
) -> None:
    notes: list[str] = []
    with child.Runner(job, start_method=method) as runner:
        value, pid, state = runner.call("ok", 60, on_note=notes.append)
        assert (value, notes) == ("ok", ["started"]) and pid != os.getpid()
        # Module state set at run time reaches a forked child only: code that relies on
        # it works on Linux and breaks on Windows and macOS.
        assert state == ("set by the parent" if method == "fork" else "import time")
        with pytest.raises(child.ChildCrashed):
            runner.call("crash", 60)
        assert runner.call("again", 60)[0] == "again"  # replaced


@pytest.mark.skipif("fork" not in METHODS, reason="no fork on this platform")
def test_the_switch_turns_a_child_asked_to_fork_into_a_spawned_one(
    run_time_state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(processes.ENV, "spawn")
    with child.Runner(job, start_method="fork") as runner:
        assert runner.call("ok", 60)[2] == "import time"  # spawned: no run-time state


@pytest.mark.parametrize("method", METHODS)
def test_library_workers_index_a_folder_under_each_start_method(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real worker job (extract a file) pickled to a worker, its result back."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "lease.txt").write_text("The lease ends on 31 March 2027.\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    with Library() as lib:
        lib.add_folder(folder)
        steps = lib.update(workers=2, start_method=method)
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                report = stop.value
                break
        assert (report.extracted, report.failed) == (1, 1), report.errors
        assert "empty" in report.errors[0][1]
        assert [Path(d.path).name for d in lib.documents() if d.state == "indexed"] == ["lease.txt"]


def test_a_mistyped_switch_is_one_error_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop_qa.cli import main

    (tmp_path / "a.txt").write_text("Otters hold hands while they sleep.\n", encoding="utf-8")
    monkeypatch.setenv(processes.ENV, "sapwn")
    assert main(["library", "add", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    expected = f"error: {processes.ENV}='sapwn': use spawn (or forkserver on Linux and macOS)"
    assert err == expected + ", or unset it\n"
