"""The model's state in the window: the status-bar label, the test-model banner, and the
first-run panel (shown while no model is loaded) with its download.

``ModelStatus`` only draws what the session's model and download signals
say; choosing a pack folder stays the window's (a file dialog over it).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from desktop_qa.core.reading.pack import ModelPack
from desktop_qa.gui.panels import Banner, FirstRunPanel
from desktop_qa.gui.session import Session


class ModelStatus(QObject):
    """Keeps ``label``, ``banner`` and ``first_run`` in step with the session's model."""

    def __init__(
        self,
        session: Session,
        *,
        label: QLabel,
        banner: Banner,
        first_run: FirstRunPanel,
        status: Callable[..., None],
        error: Callable[[str, str], None],
    ) -> None:
        """``status(text, ms)``: the status bar's message; ``error(title, text)``: a dialog."""
        super().__init__(session)
        self.session, self.label, self.banner, self.first_run = session, label, banner, first_run
        self.status, self.error = status, error
        s = session
        s.modelLoading.connect(lambda _p: label.setText("Model: loading…"))
        s.modelChanged.connect(self._changed)
        s.modelMissing.connect(self._missing)
        s.modelFailed.connect(self._failed)
        s.downloadStarted.connect(self._download_started)
        s.downloadProgress.connect(self._download_progress)
        s.downloadFinished.connect(self._download_finished)
        s.downloadFailed.connect(self._download_failed)
        s.downloadCancelled.connect(self._download_cancelled)
        # An error is said once: the next action (a question, a document) clears it.
        s.queryStarted.connect(lambda _q: first_run.clear_error())
        s.documentLoading.connect(lambda _p: first_run.clear_error())
        first_run.downloadRequested.connect(self.download)
        first_run.cancelRequested.connect(self.cancel_download)
        if s.pack is not None:
            self._changed(s.pack)

    def download(self) -> None:
        """First-run panel: the same download as 'desktop-qa model download', in the background."""
        self.session.download_model()

    def cancel_download(self) -> bool:
        """Stop the download shown in the first-run panel; True if one was running."""
        if not self.session.cancel_download():
            return False
        self.first_run.set_cancelling()
        return True

    def _changed(self, pack: ModelPack) -> None:
        quant = "not quantized" if pack.quantization == "none" else pack.quantization
        self.label.setText(f"Model: {pack.name} · {quant}")
        self.label.setToolTip(pack.describe())
        self.banner.show_for(pack)
        self.first_run.hide()

    def _missing(self, message: str) -> None:
        self.label.setText("Model: none (keyword search only)")
        self.first_run.set_reason("")  # none installed: the panel's own line says so
        self.first_run.show()

    def _failed(self, message: str) -> None:
        if self.session.reader is None:
            self.label.setText("Model: not loaded")
            self.first_run.set_reason(message)
            self.first_run.show()
        else:
            self.error("Cannot use model pack", message)

    def _download_started(self, repo_id: str) -> None:
        self.first_run.start_download(repo_id)
        self.status(f"Downloading {repo_id}…")

    def _download_progress(self, step: str) -> None:
        if not self.session.download_cancelling:
            self.first_run.set_step(step)

    def _download_finished(self, pack: ModelPack) -> None:
        self.first_run.reset_download()
        self.status(f"Installed {pack.name} in {pack.path}", 10000)

    def _download_failed(self, message: str) -> None:
        self.first_run.reset_download(message)
        self.status("Download failed", 5000)

    def _download_cancelled(self) -> None:
        self.first_run.reset_download()
        self.status("Download cancelled; nothing was installed", 5000)
