"""The library's worker pool when workers die at awkward moments (issue 18's ValueError)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from desktop_qa.core.storage.library import workers


def job(task, note):  # runs in a worker (forked or spawned) instead of extracting a file
    path = task[0]
    if path.startswith("sleep:"):
        time.sleep(float(path.split(":")[1]))
    return path, os.getpid()


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(workers, "_read_job", job)  # the worker runs this (pickled by name)
    pool = workers.WorkerPool(1, time_limit=30, start_method="fork")
    yield pool
    pool.close()


def test_exit_killing_the_workers_mid_read_ends_the_run_without_blaming_the_file(
    pool, monkeypatch: pytest.MonkeyPatch
):
    """The app quits while its indexing thread waits on a worker: the exit finalizer kills
    and drops the workers under it. Once this raised ``list.remove(x): x not in list``."""
    real_wait = workers.wait
    calls = 0

    def wait_while_exiting(conns, timeout=None):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            pool._finalizer()  # what interpreter exit does from the main thread
        return real_wait(conns, timeout)

    monkeypatch.setattr(workers, "wait", wait_while_exiting)
    started = time.monotonic()
    out = list(pool.run(["sleep:30"], poll=5))
    assert out == []  # not "the reader crashed on this file": it stays for the next update
    assert time.monotonic() - started < 5 and calls == 1
    assert pool.workers == []


def test_a_worker_killed_while_idle_is_replaced_and_its_next_file_read(pool):
    """A worker killed from outside between two files (the OOM killer, a user's kill):
    the next file is read by a new worker, not failed, and the run does not break."""
    run = pool.run(["a.txt", "b.txt"], poll=0.05)
    path, (name, pid), error = next(r for r in run if r[0])  # idle polls while it starts
    assert (path, name, error) == ("a.txt", "a.txt", None)
    os.kill(pid, signal.SIGKILL)
    while pool.workers[0].alive:
        time.sleep(0.01)
    rest = [r for r in run if r[0]]
    assert [(p, v[0], e) for p, v, e in rest] == [("b.txt", "b.txt", None)]
    assert rest[0][1][1] != pid
