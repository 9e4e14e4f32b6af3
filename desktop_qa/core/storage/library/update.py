"""Bringing the library up to date with its folders, step by step."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from desktop_qa.core.documents.ocr.pages import PAGE_SECONDS
from desktop_qa.core.errors import UserError
from desktop_qa.core.storage import content
from desktop_qa.core.storage.library.names import _under, from_db, to_db
from desktop_qa.core.storage.library.read import Extracted, hash_document
from desktop_qa.core.storage.library.store import FAILED, INDEXED, PENDING, Store
from desktop_qa.core.storage.library.walk import walk
from desktop_qa.core.storage.library.workers import (
    FILE_TIME_LIMIT,
    WorkerPool,
    default_start_method,
    default_workers,
)


# -- progress and report -----------------------------------------------------------------------
@dataclass(frozen=True)
class IndexProgress:
    """Where an update is: files read of those that need reading, pages so far."""

    done: int
    total: int
    pages: int
    seconds: float
    current: str = ""
    file_page: int = 0  # the OCR page being read in ``current`` (0: no OCR under way)
    file_pages: int = 0  # ... of this many pages

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at this run's pace (None before the first file)."""
        if not self.done or self.seconds <= 0:
            return None
        return (self.total - self.done) * self.seconds / self.done


@dataclass
class IndexReport:
    """What one update did (counts a user or test can check)."""

    found: int = 0  # supported files under the folders
    unchanged: int = 0  # skipped: same size and mtime (or same hash)
    extracted: int = 0  # read by a worker this run
    reused: int = 0  # moved, renamed or copied: content found by hash, not re-read
    removed: int = 0  # gone from disk, removed from the index
    failed: int = 0  # could not be read this run (reason recorded)
    pages: int = 0  # pages extracted this run
    seconds: float = 0.0
    cancelled: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # folders not there: documents kept
    retried: int = 0  # failed files read again (stopped while progressing, or asked)

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "unchanged": self.unchanged,
            "extracted": self.extracted,
            "reused": self.reused,
            "removed": self.removed,
            "failed": self.failed,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "absent": self.absent,
            "retried": self.retried,
        }


class Known(NamedTuple):
    """A document row as an update compares it with the disk."""

    id: int
    path: str
    size: int
    mtime: int
    hash: str | None
    state: str
    error: str | None


class Library(Store):
    """The library: its store (``Store``), kept up to date with its folders by ``update``."""

    def update(
        self,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        *,
        workers: int | None = None,
        cancel: Callable[[], bool] | None = None,
        time_limit: float = FILE_TIME_LIMIT,
        start_method: str | None = None,
        retry: bool = False,
        page_seconds: float = PAGE_SECONDS,
    ) -> Generator[IndexProgress, None, IndexReport]:
        """Bring the index up to date with the files under ``folders`` (all by default).

        Yields progress; returns what was done. Each file is committed on its
        own, so cancelling (or killing the process) loses only files in flight.
        A folder that is not there (an unplugged disk) is skipped and its
        documents kept (``report.absent``). Failed files are read again when
        they stopped at the time limit while progressing, or all of them with
        ``retry``. ``page_seconds`` is the OCR limit of one page, as for a document alone.
        """
        started = time.perf_counter()
        report = IndexReport()
        roots = [Path(f).expanduser().resolve() for f in (folders or self.folders())]
        # Absent folders: nothing under them is walked, so nothing is taken as gone.
        report.absent = [str(r) for r in roots if not r.is_dir()]
        roots = [r for r in roots if str(r) not in report.absent]
        known = self._known()
        retrying = {p for p in self._to_retry(retry) if p in known}
        stale = {p for p in self._stale() if p in known}
        for path in retrying | stale:  # read again even if unchanged
            known[path] = known[path]._replace(state=PENDING)
        seen: set[str] = set()
        todo = self._walk(roots, known, seen, report)
        # Gone from disk (under the folders updated): candidates for moves, else removed.
        gone = {
            p: row
            for p, row in known.items()
            if p not in seen and any(_under(p, str(r)) for r in roots)
        }
        total = len(todo)
        yield IndexProgress(0, total, 0, time.perf_counter() - started)
        extract_list, done = self._sort_out(todo, known, gone, cancel, report)
        for row in gone.values():
            self._remove_document(row.id)
            report.removed += 1
        report.retried = sum(1 for p, *_ in extract_list if p in retrying)
        if extract_list and not report.cancelled:
            yield from self._extract_all(
                extract_list,
                report,
                done,
                total,
                started,
                cancel,
                workers,
                time_limit,
                start_method,
                page_seconds,
            )
        report.seconds = time.perf_counter() - started
        return report

    def _known(self) -> dict[str, Known]:
        """Every document of the store by its path."""
        rows = self.conn.execute("SELECT id, path, size, mtime, hash, state, error FROM document")
        return {
            from_db(r["path"]): Known(
                r["id"],
                from_db(r["path"]),
                r["size"],
                r["mtime"],
                r["hash"],
                r["state"],
                r["error"],
            )
            for r in rows
        }

    def _walk(
        self, roots: list[Path], known: dict[str, Known], seen: set[str], report: IndexReport
    ) -> list[tuple[str, int, int]]:
        """Step 1: the files under ``roots`` whose size or mtime changed, as (path, size,
        mtime); links leading outside the folders are recorded as failed, never followed."""
        todo: list[tuple[str, int, int]] = []
        within = {*map(str, roots), *self.folders()}  # where a symbolic link may lead
        for root in roots:
            links: list[tuple[str, str]] = []  # leading outside: recorded, never followed
            for file in walk(root, within, links):
                text = str(file)
                if text in seen:
                    continue
                try:
                    st = os.stat(text)
                except OSError:
                    continue
                seen.add(text)
                report.found += 1
                row = known.get(text)
                if (
                    row is not None
                    and row.state in (INDEXED, FAILED)
                    and row.size == st.st_size
                    and row.mtime == st.st_mtime_ns
                ):
                    report.unchanged += 1
                    continue
                todo.append((text, st.st_size, st.st_mtime_ns))
            for link, reason in links:
                self._record_link(link, reason, known.get(link), seen, report)
        return todo

    def _record_link(
        self, link: str, reason: str, row: Known | None, seen: set[str], report: IndexReport
    ) -> None:
        if link in seen:
            return
        seen.add(link)
        report.found += 1
        if row is not None and row.state == FAILED and not row.hash and row.error == reason:
            report.unchanged += 1
            return
        try:
            st = os.lstat(link)
        except OSError:
            return
        with self.conn:  # the file it replaced (if any) leaves the index
            self._record(link, st.st_size, st.st_mtime_ns, "", FAILED, reason, 0)
        report.failed += 1
        report.errors.append((link, reason))

    def _sort_out(
        self,
        todo: list[tuple[str, int, int]],
        known: dict[str, Known],
        gone: dict[str, Known],
        cancel: Callable[[], bool] | None,
        report: IndexReport,
    ) -> tuple[list[tuple[str, int, int, str]], int]:
        """Step 2: hash what changed; touched, moved or copied content is kept without
        reading. Returns the files to read, as (path, size, mtime, hash), and those done."""
        gone_by_hash: dict[str, list[Known]] = {}
        for row in gone.values():
            if row.hash and row.state == INDEXED:
                gone_by_hash.setdefault(row.hash, []).append(row)
        extract_list: list[tuple[str, int, int, str]] = []
        done = 0
        for path, size, mtime in todo:
            if cancel is not None and cancel():
                report.cancelled = True
                break
            done += 1
            try:
                digest = hash_document(path)
            except (OSError, UserError) as exc:
                why = exc.message if isinstance(exc, UserError) else f"{path}: {exc.strerror}"
                with self.conn:
                    self._record(path, size, mtime, "", FAILED, why, 0)
                report.failed += 1
                report.errors.append((path, why))
                continue
            row = known.get(path)
            if row is not None and row.hash == digest and row.state in (INDEXED, FAILED):
                # Touched, not changed: only size/mtime are new.
                with self.conn:
                    self.conn.execute(
                        "UPDATE document SET size = ?, mtime = ? WHERE id = ?",
                        (size, mtime, row.id),
                    )
                report.unchanged += 1
                continue
            moved = gone_by_hash.get(digest)
            if moved and row is None:
                old = moved.pop()
                gone.pop(old.path, None)
                with self.conn:
                    self.conn.execute(
                        "UPDATE document SET path = ?, size = ?, mtime = ? WHERE id = ?",
                        (to_db(path), size, mtime, old.id),
                    )
                report.reused += 1
                continue
            if self._reuse(path, size, mtime, digest):
                report.reused += 1
                continue
            done -= 1
            extract_list.append((path, size, mtime, digest))
        return extract_list, done

    def _to_retry(self, every: bool) -> list[str]:
        """Failed files to read again: those stopped while progressing (``pages`` > 0 on a
        failed row is the page reached), or every failed file."""
        rows = self.conn.execute(
            "SELECT path FROM document WHERE state = ? AND (pages > 0 OR ?)", (FAILED, every)
        )
        return [from_db(r["path"]) for r in rows]

    def _stale(self) -> list[str]:
        """Indexed documents whose content an older extraction pipeline made: read again, so
        an extraction fix reaches the library as it reaches the document cache.

        ``pipeline`` sits after the text and arrays in each content row, so without
        the covering index this read every stored document (0.8 s of a 10-file
        update at 10,000 documents, docs/performance.md); made once, by an update.
        """
        with self.conn:
            self.conn.execute(
                "CREATE INDEX IF NOT EXISTS content_pipeline ON content(pipeline, hash)"
            )
        rows = self.conn.execute(
            "SELECT d.path FROM document d WHERE d.state = ? AND d.hash IN "
            "(SELECT hash FROM content WHERE pipeline IS NOT ?)",
            (INDEXED, content.PIPELINE_VERSION),
        )
        return [from_db(r["path"]) for r in rows]

    def _reuse(self, path: str, size: int, mtime: int, digest: str) -> bool:
        """A copy of content already in the library: index it without reading the file."""
        row = self.conn.execute(
            "SELECT d.id, d.pages FROM document d JOIN content c ON c.hash = d.hash "
            "WHERE d.hash = ? AND d.state = ? AND c.pipeline = ? LIMIT 1",
            (digest, INDEXED, content.PIPELINE_VERSION),
        ).fetchone()
        if row is None:
            return False
        spans = [
            (r["start"], r["end"])
            for r in self.conn.execute(
                "SELECT start, end FROM passage WHERE doc = ? ORDER BY idx", (row["id"],)
            )
        ]
        with self.conn:
            doc_id = self._record(path, size, mtime, digest, INDEXED, None, row["pages"])
            self._unindex(doc_id, digest)
            self._index_document(doc_id, self._text_of(digest), spans)
        return True

    def _extract_all(
        self,
        items: list[tuple[str, int, int, str]],
        report: IndexReport,
        done: int,
        total: int,
        started: float,
        cancel: Callable[[], bool] | None,
        workers: int | None,
        time_limit: float,
        start_method: str | None,
        page_seconds: float = PAGE_SECONDS,
    ) -> Iterator[IndexProgress]:
        meta = {path: (size, mtime, digest) for path, size, mtime, digest in items}
        failed_before = {
            from_db(r["path"]): int(r["pages"] or 0)
            for r in self.conn.execute(
                "SELECT path, pages FROM document WHERE state = ?", (FAILED,)
            )
            if from_db(r["path"]) in meta
        }
        method = start_method or default_start_method()
        if method == "fork":
            import pymupdf  # noqa: F401  (imported once here, not in every worker)
        size = min(workers or default_workers(False), len(items))
        pool = WorkerPool(size, time_limit, method, page_seconds)
        try:
            for path, extracted, error in pool.run((p, digest) for p, _, _, digest in items):
                if cancel is not None and cancel():
                    report.cancelled = True
                    break
                if not path:
                    name, page, pages = pool.reading()
                    yield IndexProgress(
                        done,
                        total,
                        report.pages,
                        time.perf_counter() - started,
                        Path(name).name if name else "",
                        page,
                        pages,
                    )
                    continue
                size, mtime, digest = meta[path]
                if extracted is None:
                    reached = 0
                    if path in pool.stalled:  # progressing when stopped: the next update resumes
                        page = pool.stalled[path][0]
                        if page > failed_before.get(path, 0):
                            reached = page
                            error = f"{error}; the next update goes on from there"
                        else:
                            error = f"{error} again; it is read again only when asked"
                    with self.conn:
                        self._record(path, size, mtime, digest, FAILED, error, reached)
                    report.failed += 1
                    report.errors.append((path, error or "could not be read"))
                else:
                    pages = extracted.pages
                    self._store(path, size, mtime, digest, extracted)
                    report.extracted += 1
                    report.pages += pages
                done += 1
                yield IndexProgress(
                    done, total, report.pages, time.perf_counter() - started, Path(path).name
                )
        finally:
            pool.close()

    def _store(self, path: str, size: int, mtime: int, digest: str, ex: Extracted) -> None:
        with self.conn:  # one transaction per file: a kill loses only files in flight
            content.put(self.conn, digest, ex.content)
            doc_id = self._record(path, size, mtime, digest, INDEXED, None, ex.pages)
            self._unindex(doc_id, digest)
            self._index_document(doc_id, content.text_of(ex.content), ex.passages)
