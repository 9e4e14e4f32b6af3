"""The session's model: the pack and its Reader, found, chosen or downloaded off the UI thread.

Loading a pack (seconds) runs on its own single-thread pool; downloading one
(minutes) on another, so choosing a pack folder or asking by keyword is never
queued behind a download. Without a model, questions get keyword answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThreadPool

from desktop_qa.core.errors import UserError
from desktop_qa.core.reading.pack import ModelPack, find_pack, load_pack
from desktop_qa.core.reading.reader import DEFAULT_BATCH_SIZE, Reader
from desktop_qa.core.system.runtime import physical_cores
from desktop_qa.gui.compat import emit
from desktop_qa.gui.events import SessionSignals
from desktop_qa.gui.workers import Handle, Jobs, error_text, single_pool


def reader_threads() -> int:
    """onnxruntime threads for the GUI: one core fewer than the CLI, kept for the UI.

    With every core busy in inference, the UI and page-render threads get
    descheduled while holding the GIL, and the window stutters.
    """
    return max(1, physical_cores() - 1)


def make_reader(pack: ModelPack) -> Reader:
    """The pack's Reader with the GUI's threads and the pack's batch size (as ``ask``)."""
    batch = int(pack.extra.get("batch_size", DEFAULT_BATCH_SIZE))
    return Reader(pack, threads=reader_threads(), batch_size=batch)


class ModelSlot:
    """The one model of a session; every change is told on the session's signals.

    ``settled()`` runs whenever a load ends so that a waiting question may run
    now: with the new model, or (none could be loaded) with keyword answers.
    """

    def __init__(
        self,
        jobs: Jobs,
        signals: SessionSignals,
        settled: Callable[[], None],
        *,
        hub: Any = None,
    ) -> None:
        """``hub``: the model hub for downloads (a ``packs.hub.Hub``; None: the real one)."""
        self.jobs, self.signals, self.settled, self.hub = jobs, signals, settled, hub
        self.pool = single_pool()
        self.download_pool = single_pool()
        self.pack: ModelPack | None = None
        self.reader: Reader | None = None
        self._worker: Handle | None = None
        self._download_worker: Handle | None = None

    @property
    def loading(self) -> bool:
        return self._worker is not None

    @property
    def downloading(self) -> bool:
        return self._download_worker is not None

    @property
    def download_cancelling(self) -> bool:
        return self._download_worker is not None and self._download_worker.cancelling

    def pools(self) -> tuple[QThreadPool, QThreadPool]:
        return self.pool, self.download_pool

    # -- loading ------------------------------------------------------------------
    def load(self, model_dir: str | os.PathLike[str] | None = None) -> None:
        """Find (or load the given) pack and build its Reader off the UI thread."""
        explicit = str(model_dir) if model_dir else None

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            pack = find_pack(explicit)
            return pack, make_reader(pack)

        emit(self.signals.modelLoading, explicit or "")
        self._start(job, missing=True)

    def choose_folder(self, folder: str | os.PathLike[str]) -> None:
        """A pack folder the user picked: install it if the installer exists, else use it."""

        def job(report: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            pack = load_pack(folder)
            try:
                from desktop_qa.packs.install import install_pack
            except ImportError:
                install_pack = None
            if install_pack is not None:
                pack = install_pack(pack.path)
            return pack, make_reader(pack)

        emit(self.signals.modelLoading, str(folder))
        self._start(job, missing=False)

    def use(self, reader: Reader) -> None:
        """Use an already built reader (tests, embedding)."""
        self._drop_load()
        self._ready((reader.pack, reader))

    def _start(self, job: Callable[..., Any], *, missing: bool) -> None:
        """``missing``: a pack not found is "none installed" (the first-run panel)."""
        self._drop_load()
        self._worker = self.jobs.start(
            self.pool,
            job,
            returned=self._ready,
            errored=lambda exc: self._error(exc, missing=missing),
            aborted=lambda: None,
        )

    def _drop_load(self) -> None:
        """An older load must not replace the model about to be used."""
        if self._worker is not None:
            self._worker.cancel(quiet=True)
            self._worker = None

    def _ready(self, out: tuple[ModelPack, Reader]) -> None:
        self._worker = None
        self.pack, self.reader = out
        emit(self.signals.modelChanged, self.pack)
        self.settled()

    def _error(self, exc: BaseException, *, missing: bool) -> None:
        self._worker = None
        message = error_text(exc)
        if self.reader is not None:  # keep the working model
            emit(self.signals.modelFailed, message)
            return
        if missing and isinstance(exc, UserError) and exc.hint == "install_pack":
            emit(self.signals.modelMissing, message)
        else:
            emit(self.signals.modelFailed, message)
        self.settled()  # without a model: keyword answers

    # -- downloading --------------------------------------------------------------
    def download(self, repo_id: str | None = None) -> bool:
        """Download, build and install a pack off the UI thread, then load it.

        The same pipeline as ``desktop-qa model download``; False if a download
        is already running. Meanwhile questions keep their keyword answers.
        """
        if self._download_worker is not None:
            return False
        hub = self.hub

        # download_pack polls ``cancelled`` between steps, and the job's outcome then
        # says what really happened (a cancel that comes after the last check still
        # ends in an installed pack: ``returned``, and the pack is used).
        def job(report: Callable[..., None], cancelled: Callable[[], bool]) -> Any:
            from desktop_qa.packs import download
            from desktop_qa.packs.hub import HfHub

            pack = download.download_pack(
                repo_id or download.DEFAULT_REPO,
                progress=lambda text: report(text, True),  # every step, unthrottled
                cancel=cancelled,
                hub=hub if hub is not None else HfHub(progress_bars=False),
            )
            report("loading the model", True)
            return pack, make_reader(pack)

        from desktop_qa.packs.download import DEFAULT_REPO

        emit(self.signals.downloadStarted, repo_id or DEFAULT_REPO)
        self._download_worker = self.jobs.start(
            self.download_pool,
            job,
            yielded=lambda text: emit(self.signals.downloadProgress, str(text)),
            returned=self._download_ready,
            errored=self._download_error,
            aborted=self._download_cancelled,
        )
        return True

    def cancel_download(self) -> bool:
        """Ask the running download to stop at its next step; True if one was running.

        ``downloadCancelled`` (or, if it was already installing, the usual
        ``downloadFinished``) follows once the worker has stopped.
        """
        worker = self._download_worker
        if worker is None or worker.cancelling:
            return False
        return worker.cancel()  # ``downloadCancelled`` once it has stopped

    def _download_ready(self, out: tuple[ModelPack, Reader]) -> None:
        self._download_worker = None
        self._drop_load()
        emit(self.signals.downloadFinished, out[0])
        self._ready(out)

    def _download_error(self, exc: BaseException) -> None:
        self._download_worker = None
        emit(self.signals.downloadFailed, error_text(exc))

    def _download_cancelled(self) -> None:
        self._download_worker = None
        emit(self.signals.downloadCancelled)
