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
    if value == "fail":
        raise child.JobFailed("a.pdf: could not be read")
    if value == "bug":
        raise KeyError("x")
    note("started")
    return os.getpid()


def test_a_crashed_or_overdue_child_is_replaced_and_errors_come_back_as_text():
    notes = []
    with child.Runner(job, start_method="fork") as runner:
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
