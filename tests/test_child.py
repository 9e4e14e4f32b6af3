"""The one child-process runner (``core.system.child``) that OCR and library workers share."""

from __future__ import annotations

import os
import time

import pytest

from desktop_qa.core.errors import Cancelled
from desktop_qa.core.system import child


def job(value, note):  # runs in the child
    if value == "crash":
        os._exit(3)
    if value == "sleep":
        time.sleep(3600)
    if value == "hold":  # C code that keeps the GIL (as MuPDF drawing does): libc sleep via PyDLL
        import ctypes

        ctypes.PyDLL(None).sleep(60)
    if value == "fail":
        raise child.JobFailed("a.pdf: could not be read")
    if value == "bug":
        raise KeyError("x")
    note("started")
    return os.getpid()


@pytest.mark.parametrize("method", ["fork", "spawn"])  # spawn: how Windows and macOS start them
def test_a_crashed_or_overdue_child_is_replaced_and_errors_come_back_as_text(method):
    notes = []
    with child.Runner(job, start_method=method) as runner:
        first = runner.call("ok", 10, on_note=notes.append)
        assert notes == ["started"] and first != os.getpid()
        assert runner.call("ok", 10) == first  # one child serves job after job
        with pytest.raises(child.ChildError, match="^a.pdf: could not be read$"):
            runner.call("fail", 10)
        with pytest.raises(child.ChildError, match="^KeyError: 'x'$"):
            runner.call("bug", 10)
        assert runner.call("ok", 10) == first  # a failed job does not end the child
        with pytest.raises(child.ChildCrashed):
            runner.call("crash", 10)
        second = runner.call("ok", 10)
        assert second != first  # replaced
        started = time.monotonic()
        with pytest.raises(child.ChildTimeout):
            runner.call("sleep", 0.3)
        assert time.monotonic() - started < 5
        assert not os.path.exists(f"/proc/{second}") or _zombie(second)  # killed
        with pytest.raises(Cancelled):
            runner.call("sleep", 60, cancel=lambda: True)
        assert runner.call("ok", 10) not in (first, second)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_child_outlives_the_thread_that_started_it(method):
    """The app starts children from pool threads that retire when idle: the child must
    serve on for the life of the process, not of that thread (PR_SET_PDEATHSIG did not)."""
    import threading

    runner = child.Runner(job, start_method=method)
    started: list[int] = []
    thread = threading.Thread(target=lambda: started.append(runner.call("ok", 30)))
    thread.start()
    thread.join()
    try:
        assert started and started[0] != os.getpid()
        time.sleep(0.5)  # a death signal would have landed by now
        assert runner.child is not None and runner.child.alive
        assert runner.call("ok", 30) == started[0]  # the same child, from another thread
    finally:
        runner.close()


def test_a_child_killed_while_idle_is_replaced_and_the_job_still_runs():
    """Killed from outside between jobs: the job is not lost, a new child runs it."""
    import signal

    with child.Runner(job, start_method="spawn") as runner:
        first = runner.call("ok", 30)
        os.kill(first, signal.SIGKILL)
        lone = child.Child(job, start_method="fork")
        try:
            pid = lone.call("ok", 30)
            os.kill(pid, signal.SIGKILL)
            lone.process.join(5)
            with pytest.raises(child.ChildGone):  # not a BrokenPipeError from the pipe
                lone.send("ok")
        finally:
            lone.kill()
        runner.child.process.join(5)  # dead, but not yet noticed by the runner
        second = runner.call("ok", 30)
        assert second not in (first, os.getpid())


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


SCRIPT = """
import sys
from desktop_qa.core.system import child
from tests.test_child import job
c = child.Child(job, start_method=sys.argv[1], daemon=False)
print(c.process.pid, flush=True)
c.call("sleep", 3600)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_child_dies_with_its_parent_killed_mid_job(method):
    """SIGKILL the parent while its child is busy: the child does not outlive it."""
    import signal
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, method], stdout=subprocess.PIPE, env=env, cwd=root
    )
    try:
        pid = int(proc.stdout.readline())
        time.sleep(0.5)  # into the job
        assert not _zombie(pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _zombie(pid):
        time.sleep(0.05)
    assert _zombie(pid), "the child outlived its killed parent"


HOLD_SCRIPT = """
import sys
from desktop_qa.core.system import child
from tests.test_child import job
c = child.Child(job, start_method="spawn", daemon=False, hold=5.0)
c.call("ok", 60)
print(c.process.pid, flush=True)
c.call("hold", 3600)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")
def test_a_child_holding_the_gil_in_c_code_still_ends_after_its_killed_parent():
    """MuPDF keeps the GIL while it draws: the watching thread cannot run then, so an alarm
    it re-arms while it can ends the child ``hold`` seconds after the GIL was last free
    (longer than any job's deadline: a live parent kills such a child first)."""
    import signal
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT], stdout=subprocess.PIPE, env=env, cwd=root
    )
    try:
        pid = int(proc.stdout.readline())
        time.sleep(1.5)  # into the C call
        assert not _zombie(pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 20  # 5 s of hold, far less than the 60 s C call
    while time.monotonic() < deadline and not _zombie(pid):
        time.sleep(0.1)
    assert _zombie(pid), "the child outlived its killed parent while holding the GIL"


def test_a_child_killed_from_two_threads_at_once_closes_its_pipe_once():
    """A page's reader seeing its cancel and the document's close both kill the page's
    child: its pipe is closed once ("Bad file descriptor" came from the second close, a
    CI failure of an OCR cancel; a reused descriptor would have closed another file)."""
    import threading

    errors: list[BaseException] = []
    for _ in range(12):
        c = child.Child(job, start_method="fork")
        closes: list[int] = []
        real = c.conn._close

        def slow_close(_real=real, _closes=closes, _conn=c.conn) -> None:
            _closes.append(_conn._handle)
            time.sleep(0.05)  # widen the window two closers meet in
            _real()

        c.conn._close = slow_close
        gate = threading.Barrier(4)

        def kill(c=c, gate=gate) -> None:
            gate.wait()
            try:
                c.kill()
            except BaseException as exc:  # noqa: BLE001 - what a killer thread would raise
                errors.append(exc)

        threads = [threading.Thread(target=kill) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(closes) == 1, closes
    assert errors == []
