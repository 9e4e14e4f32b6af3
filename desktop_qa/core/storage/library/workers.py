"""Worker processes that read files for an update, each killed when it stops progressing."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait
from typing import Any

from desktop_qa.core.documents.ocr.pages import PAGE_SECONDS, OcrOptions
from desktop_qa.core.errors import UserError
from desktop_qa.core.storage.library.read import Extracted, extract
from desktop_qa.core.system import processes
from desktop_qa.core.system.child import Child, ChildCrashed, JobFailed
from desktop_qa.core.system.processes import default_start_method

# Seconds a worker may spend on one file without progress before it is killed: from the
# file's start, or (a scan) from the start of its last OCR page plus that page's own limit.
FILE_TIME_LIMIT = 60.0


# -- worker processes --------------------------------------------------------------------------
def _read_job(job: tuple[str, str, float], note: Callable[[Any], None]) -> Extracted:
    """In a worker (``system.child``): extract one file; each OCR page's start is a note (i, n)."""
    path, key, page_seconds = job
    options = OcrOptions(
        page_seconds=page_seconds,
        resume_key=key,
        progress=lambda page, pages: note((page, pages)),
        jobs=1,  # the workers are already one per core
    )
    try:
        return extract(path, options)
    except UserError as exc:
        raise JobFailed(exc.message) from None
    except MemoryError:
        raise JobFailed(f"{path} is too large to read in memory") from None
    except Exception as exc:  # a reader bug on a strange file: record it, go on
        raise JobFailed(f"{path}: could not be read ({type(exc).__name__}: {exc})") from None


class _Worker(Child):
    """A worker process (not daemonic: a daemonic process may not start children, and OCR
    needs one for its per-page limit and silenced stderr); it still dies with its parent."""

    def __init__(self, start_method: str) -> None:
        super().__init__(_read_job, start_method=start_method, daemon=False)
        self.job: str | None = None
        self.progressed = 0.0  # when the last OCR page started (0: none yet)
        self.page = 0
        self.pages = 0

    def start(self, path: str, key: str, time_limit: float, page_seconds: float) -> None:
        self.job = path
        self.progressed = 0.0
        self.page = self.pages = 0
        self.send((path, key, page_seconds), time_limit)


def _kill_all(workers: list[_Worker], closed: threading.Event) -> None:
    """At exit (or when a pool is dropped unclosed): non-daemonic workers would be waited for.

    At exit this can run while another thread (the app's indexing) is still in ``run``:
    ``closed`` tells it the workers are gone, so it neither drops them again nor blames
    their files for a crash.
    """
    closed.set()
    for worker in list(workers):
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(5)
    workers.clear()


class WorkerPool:
    """Worker processes that each extract one file at a time, killed when they stop progressing.

    A pathological PDF can spin in MuPDF for ever or crash it; only a process
    can be stopped from outside, so each file is read in one (``core.system.child``)
    and a worker that makes no progress for ``time_limit`` or dies is replaced
    and its file marked failed. Progress is an OCR page started: a 200-page
    scan may take as long as it needs, each page bounded by ``page_seconds``
    in the OCR child plus ``time_limit`` for the rest. Files stopped after
    some progress are in ``stalled`` (path: (page, pages)), so they can be retried.
    """

    def __init__(
        self,
        workers: int,
        time_limit: float = FILE_TIME_LIMIT,
        start_method: str | None = None,
        page_seconds: float = PAGE_SECONDS,
    ) -> None:
        self.start_method = (
            processes.start_method(start_method) if start_method else default_start_method()
        )
        self.size = max(1, workers)
        self.time_limit = time_limit
        self.page_seconds = page_seconds
        self.workers: list[_Worker] = []
        self.stalled: dict[str, tuple[int, int]] = {}
        self._closed = threading.Event()
        self._finalizer = weakref.finalize(self, _kill_all, self.workers, self._closed)

    def reading(self) -> tuple[str, int, int]:
        """(path, page, pages) of the file whose OCR page started last, or ("", 0, 0)."""
        busy = [w for w in self.workers if w.job and w.page]
        if not busy:
            return "", 0, 0
        w = max(busy, key=lambda w: w.progressed)
        return w.job or "", w.page, w.pages

    def run(
        self, paths: Iterable[str | tuple[str, str]], poll: float = 0.2
    ) -> Iterator[tuple[str, Extracted | None, str | None]]:
        """Yield (path, extracted, error) as files finish; ("", None, None) on each idle poll
        and each OCR page started. ``paths`` are paths or (path, resume key) pairs.

        Ends, reporting nothing more, once the pool is closed (by ``close`` or, at exit,
        by its finalizer from another thread): the files in flight were not read, not
        failed, so they stay as they were and the next update reads them.
        """
        pending = iter(paths)
        exhausted = False
        while not self._closed.is_set():
            while not exhausted and len([w for w in self.workers if w.job]) < self.size:
                item = next(pending, None)
                if item is None:
                    exhausted = True
                    break
                path, key = (item, "") if isinstance(item, str) else item
                self._start(path, key)
            busy = [w for w in self.workers if w.job]
            if not busy:
                return
            ready = wait([w.conn for w in busy], timeout=poll)
            ticked = False
            for worker in busy:
                if self._closed.is_set():
                    return
                if worker not in self.workers:  # dropped while a result was handed out
                    continue
                if worker.conn in ready:
                    path = worker.job or ""
                    try:
                        status, value = worker.receive()
                    except ChildCrashed:
                        if self._closed.is_set():
                            return  # killed by the exit finalizer, not by its file
                        status, value = "error", f"{path}: the reader crashed on this file"
                        self._replace(worker)
                    if status == "note":  # an OCR page started: the limit starts again
                        worker.page, worker.pages = value
                        worker.progressed = time.monotonic()
                        worker.extend(self.time_limit + self.page_seconds)
                        ticked = True
                        continue
                    worker.job = None
                    if status == "ok":
                        yield path, value, None
                    else:
                        yield path, None, value
                elif worker.overdue():
                    path = worker.job or ""
                    page, pages = worker.page, worker.pages
                    self._replace(worker)
                    if page:
                        self.stalled[path] = (page, pages)
                        yield (
                            path,
                            None,
                            f"{path}: reading stopped at page {page} of {pages}, "
                            f"no progress for {self.time_limit + self.page_seconds:.0f} s",
                        )
                    else:
                        yield (
                            path,
                            None,
                            f"{path}: reading took longer than {self.time_limit:.0f} s; "
                            "the file may be damaged or pathological",
                        )
            if not ready or ticked:
                yield "", None, None

    def _start(self, path: str, key: str) -> None:
        """Give a file to an idle worker, or a new one: a worker that died while idle
        (killed from outside) is replaced, so its next file is not blamed for a crash."""
        idle = next((w for w in self.workers if w.job is None), None)
        if idle is not None and not idle.alive:
            self._replace(idle)
            idle = None
        for attempt in range(2):
            if idle is None:
                idle = _Worker(self.start_method)
                self.workers.append(idle)
            try:
                idle.start(path, key, self.time_limit, self.page_seconds)
                return
            except OSError:  # it died between the check and the send
                self._replace(idle)
                idle = None
                if attempt:
                    raise

    def _replace(self, worker: _Worker) -> None:
        """Kill and drop a worker; it may be gone already (closed, or killed at exit)."""
        worker.kill()
        with contextlib.suppress(ValueError):
            self.workers.remove(worker)

    def close(self) -> None:
        self._closed.set()
        for worker in list(self.workers):
            if worker.job:
                worker.kill()
            else:
                worker.stop()
        self.workers.clear()
        self._finalizer.detach()


def default_workers(app: bool) -> int:
    """Cores - 1 in the app (the UI keeps one), every core on the command line."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if app else cores
