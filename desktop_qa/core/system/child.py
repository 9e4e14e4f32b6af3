"""One child-process runner: jobs over a Pipe, killed past a deadline or on cancel.

MuPDF and Tesseract run in C and cannot be interrupted from Python; a
pathological file can spin there for ever or crash the process. Only a
process can be stopped from outside, so OCR pages (``core.documents.ocr.pages``) and library
files (``core.storage.library``) are read in a ``Child``:

* it serves jobs received over a Pipe until it receives ``None``; each job's
  value goes back as ("ok", value), an exception as ("error", text), and
  the job may send notes on the way (("note", value): an OCR page started);
* it ends with its parent, even a parent killed by SIGKILL, on every
  platform alike: it waits for its next job on the pipe *and* the parent's
  sentinel (multiprocessing's handle that becomes ready when the parent
  process ends), and while a job runs a thread watching that sentinel ends
  it (and, on POSIX, an alarm that thread re-arms ends a child stuck in C
  code with the GIL held: ``HOLD_SECONDS``). Nothing ties it to the *thread*
  that started it (Linux's PR_SET_PDEATHSIG did, and killed a child whose
  starting pool thread retired while the app went on);
* its C stderr can go to the null device (Tesseract prints diagnostics,
  and the CLI keeps its one-line error contract);
* it starts with a given multiprocessing start method (fork starts in
  milliseconds; spawn is safe with other threads running), daemonic or not
  (a daemonic process may not start children of its own);
* the parent kills it past a deadline or on cancel, and replaces it when it
  crashes (``Runner``; ``library.WorkerPool`` keeps several).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from desktop_qa.core.errors import Cancelled
from desktop_qa.core.system import processes

# Longer than any job's deadline here (a page: 20 s, an OCR page: 60 s, a library file:
# 60 s + an OCR page between signs of progress): see _die_with_parent.
HOLD_SECONDS = 300.0

Note = Callable[[Any], None]
# A job function runs in the child: job -> value, calling note(value) on the way.
JobFn = Callable[[Any, Note], Any]
CancelFn = Callable[[], bool]


class ChildError(Exception):
    """A job failed in the child (its exception's text) or the child ended (``ChildCrashed``)."""


class ChildCrashed(ChildError):
    """The child process ended while it had a job (a crash, a kill)."""


class ChildGone(ChildCrashed):
    """The child had ended before it was given the job (killed while idle): the job never ran."""


class ChildTimeout(Exception):
    """A job ran past its deadline; the child was killed."""


class ChildUnavailable(Exception):
    """No child process can be started here (a sandbox, a frozen-app oddity)."""


class JobFailed(Exception):
    """Raised by a job function: its message goes back to the parent as it is."""


# -- in the child ------------------------------------------------------------------------------
def _die_with_parent(hold: float) -> None:
    """End this child when its parent process ends, even by SIGKILL, even mid-job.

    A thread waits on the parent's sentinel (a pipe end on POSIX, the parent's
    process handle on Windows) and ends this process at once. It works with
    fork and spawn alike and whatever thread of the parent started the child.
    A job in C code that holds the GIL keeps that thread from running; for
    that case (POSIX) the thread also re-arms an alarm clock, ``hold`` seconds
    ahead, whose default action ends the process without Python: a child whose
    GIL stays held for ``hold`` seconds ends, its parent alive or not. ``hold``
    is longer than any job's deadline, so a live parent has killed such a
    child before (a page past ``render.RENDER_SECONDS``, an OCR page past its
    limit); a dead one no longer can.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if not parent.is_alive():  # gone before this thread could watch it
        os._exit(1)
    if hold > 0 and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # not a Python handler (needs the GIL)
    else:
        hold = 0.0
    threading.Thread(
        target=_exit_when_gone, args=(parent.sentinel, hold), daemon=True, name="parent-watch"
    ).start()


def _exit_when_gone(sentinel: Any, hold: float) -> None:
    every = min(5.0, hold / 4) if hold else None
    while True:
        if hold:
            signal.setitimer(signal.ITIMER_REAL, hold)
        if wait([sentinel], every):
            os._exit(1)


def _ignore_ctrl_c() -> None:
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass


def _silence_stderr() -> None:
    """Send the C stderr (fd 2) to the null device."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, JobFailed) else f"{exc.__class__.__name__}: {exc}"


def _serve(conn: Connection, job_fn: JobFn, quiet: bool, hold: float = 0.0) -> None:
    """Child process: run ``job_fn`` on each job received until None (or the parent is gone).

    Ctrl+C is the parent's: the terminal sends SIGINT to every process of its group,
    and a child dying of it first made the parent's unwinding meet closed pipes ("Bad
    file descriptor", exit 2 instead of "cancelled", 130). The parent kills its
    children as it stops.
    """
    _ignore_ctrl_c()
    _die_with_parent(hold)
    if quiet:
        _silence_stderr()
    parent = multiprocessing.parent_process()
    watch: list[Any] = [conn] + ([parent.sentinel] if parent is not None else [])

    def note(value: Any) -> None:
        conn.send(("note", value))

    while True:
        try:
            if conn not in wait(watch):
                return  # the parent is gone
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", job_fn(job, note))
        except Exception as exc:  # reported to the parent, which goes on
            if parent is not None and not parent.is_alive():
                return  # a note failed because the parent went away
            reply = ("error", _error_text(exc))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


# -- in the parent -----------------------------------------------------------------------------
class Child:
    """One child process serving ``job_fn``; ``deadline`` is when its job in hand is due.

    ``hold``: seconds a child stuck in C code (the GIL held) outlives a parent
    that died meanwhile (POSIX; 0: none). Raises ``ChildUnavailable`` when no
    process can be started.
    """

    def __init__(
        self,
        job_fn: JobFn,
        *,
        start_method: str = "spawn",
        daemon: bool = True,
        quiet_stderr: bool = False,
        name: str | None = None,
        hold: float = HOLD_SECONDS,
    ) -> None:
        try:
            ctx = multiprocessing.get_context(processes.start_method(start_method))
            self.conn, child = ctx.Pipe()
            self.process = ctx.Process(
                target=_serve, args=(child, job_fn, quiet_stderr, hold), daemon=daemon, name=name
            )
            self.process.start()
            child.close()
        except Exception as exc:
            raise ChildUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        self.deadline = math.inf
        # kill/stop may come from two threads at once (a page's reader seeing its cancel,
        # and the document's close killing the page still being read): the pipe is
        # closed once, under this lock. Two threads in ``Connection.close`` both reached
        # ``os.close`` of the same descriptor ("Bad file descriptor" on the second, or
        # worse, a descriptor the first close had freed and another file had reused).
        self._closing = threading.Lock()
        self._closed = False

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, job: Any, seconds: float = math.inf) -> None:
        """Start ``job``, due within ``seconds``; ``ChildGone`` if the child had ended."""
        try:
            self.conn.send(job)
        except (OSError, ValueError):  # a broken or closed pipe: the child is gone
            self.kill()
            raise ChildGone("the child process had ended") from None
        self.extend(seconds)

    def extend(self, seconds: float) -> None:
        """The job made progress: it is now due ``seconds`` from now."""
        self.deadline = time.monotonic() + seconds

    def overdue(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) > self.deadline

    def receive(self) -> tuple[str, Any]:
        """The next message: ("note", value), ("ok", value) or ("error", text).

        Raises ``ChildCrashed`` (after killing what is left) if the child ended.
        """
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise ChildCrashed("the child process ended unexpectedly") from None
        if kind != "note":
            self.deadline = math.inf
        return kind, value

    def call(
        self,
        job: Any,
        seconds: float,
        cancel: CancelFn | None = None,
        on_note: Note | None = None,
        poll: float = 0.05,
    ) -> Any:
        """Run one job and return its value; raise ChildTimeout, Cancelled, ChildError."""
        self.send(job, seconds)
        while True:
            try:
                ready = self.conn.poll(poll)
            except (OSError, ValueError):  # another thread killed this child meanwhile
                self.kill()
                if cancel is not None and cancel():
                    raise Cancelled() from None
                raise ChildCrashed("the child process was ended") from None
            if ready:
                kind, value = self.receive()
                if kind == "note":
                    if on_note is not None:
                        on_note(value)
                    continue
                if kind == "ok":
                    return value
                raise ChildError(value)
            if cancel is not None and cancel():
                self.kill()
                raise Cancelled()
            if self.overdue():
                self.kill()
                raise ChildTimeout()
            if not self.alive:
                self.kill()
                raise ChildCrashed("the child process ended unexpectedly")

    def kill(self) -> None:
        """At once, whatever it is doing (and reap it: no zombie is left). Any thread, any
        number of times."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self._close_pipe()

    def _close_pipe(self) -> None:
        with self._closing:
            if self._closed:
                return
            self._closed = True
            self.conn.close()

    def stop(self) -> None:
        """Ask it to end after its job; kill it if it does not within 2 s."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self._close_pipe()


class Runner:
    """One child at a time for one job function, started when needed, replaced when it died."""

    def __init__(self, job_fn: JobFn, **child_options: Any) -> None:
        self.job_fn = job_fn
        self.child_options = child_options
        self.child: Child | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, job: Any, seconds: float, cancel: CancelFn | None = None, **kw: Any) -> Any:
        """``Child.call`` in a live child; a child killed on the way is dropped.

        A child found gone when given the job (killed while idle) is replaced
        and the job given to the new one: only a job that ends a child fails.
        """
        for attempt in (1, 2):
            if self.child is None or not self.child.alive:
                self.kill()
                self.child = Child(self.job_fn, **self.child_options)
            try:
                return self.child.call(job, seconds, cancel, **kw)
            except ChildGone:
                self.child = None  # killed already
                if attempt == 2:
                    raise
            except (ChildTimeout, Cancelled, ChildCrashed):
                self.child = None  # killed already
                raise
        raise AssertionError("unreachable")

    def kill(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            child.kill()

    def close(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            child.stop()
