"""Small pieces around the main view: first-run panel, test-model banner, dialogs."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_qa import __version__
from desktop_qa.core import paths
from desktop_qa.core.pack import ModelPack
from desktop_qa.core.settings import STRICTNESS_RANGE, TOP_K_RANGE, Settings

TEST_MODEL_WARNING = "Test model: answers are meaningless"
DOWNLOAD_TOOLTIP = (
    "Downloading a model from inside the app comes in a later version. For now, "
    "choose a model pack folder, or run 'desktop-qa model download'."
)


class Banner(QLabel):
    """A permanent warning strip (an untrained pack must never pass for a real one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(
            "background: #fff3b0; color: #5a4300; border: 1px solid #e0c050; padding: 5px 8px;"
        )
        self.hide()

    def show_for(self, pack: ModelPack | None) -> None:
        if pack is not None and not pack.trained:
            self.setText(f"⚠ <b>{TEST_MODEL_WARNING}</b> ({html.escape(pack.name)})")
            self.show()
        else:
            self.hide()


class FirstRunPanel(QWidget):
    """Shown while no model pack is available: what is missing and how to fix it."""

    chooseFolder = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        title = QLabel("<h3>No model installed</h3>")
        layout.addWidget(title)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.choose = QPushButton("Choose model pack folder…")
        self.choose.clicked.connect(self.chooseFolder)
        layout.addWidget(self.choose)
        self.download = QPushButton("Download model…")
        self.download.setEnabled(False)
        self.download.setToolTip(DOWNLOAD_TOOLTIP)
        layout.addWidget(self.download)
        layout.addStretch(1)
        self.set_reason("")

    def set_reason(self, reason: str) -> None:
        self.text.setText(
            "Answering questions needs a <i>model pack</i>: a folder holding "
            "<tt>model.json</tt>, <tt>model.onnx</tt> and <tt>tokenizer.json</tt>. "
            "You can still open and read documents, and questions are answered by "
            "keyword search until a model is installed.<br><br>"
            f"Packs are looked for in <tt>{html.escape(str(paths.user_models_dir()))}</tt>."
            + (f"<br><br><span style='color:#a00'>{html.escape(reason)}</span>" if reason else "")
        )


class SettingsDialog(QDialog):
    """Top-k and strictness (the no-answer threshold offset)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.top_k = QSpinBox()
        self.top_k.setRange(*TOP_K_RANGE)
        self.top_k.setValue(settings.top_k)
        form.addRow("Answers to list:", self.top_k)
        row = QHBoxLayout()
        row.addWidget(QLabel("lenient"))
        self.strictness = QSlider(Qt.Orientation.Horizontal)
        lo, hi = STRICTNESS_RANGE
        self.strictness.setRange(int(lo * 2), int(hi * 2))  # half-logit steps
        self.strictness.setValue(round(settings.strictness * 2))
        self.strictness.setToolTip(
            "How sure the model must be before it answers instead of saying "
            "'No answer found'. Middle: the model's own threshold."
        )
        row.addWidget(self.strictness, 1)
        row.addWidget(QLabel("strict"))
        self.value = QLabel()
        row.addWidget(self.value)
        self.strictness.valueChanged.connect(self._show_value)
        self._show_value(self.strictness.value())
        form.addRow("Strictness:", row)
        self.exhaustive = QCheckBox("Read the whole document (slower, finds more)")
        self.exhaustive.setChecked(settings.exhaustive)
        form.addRow("", self.exhaustive)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _show_value(self, v: int) -> None:
        self.value.setText(f"{v / 2:+.1f}")

    def values(self) -> tuple[int, float, bool]:
        return self.top_k.value(), self.strictness.value() / 2, self.exhaustive.isChecked()


def about_html(pack: ModelPack | None) -> str:
    """App version and license, and the model pack's name, source and license."""
    if pack is not None:
        model = (
            f"<p><b>Model pack:</b> {html.escape(pack.name)} ({html.escape(pack.quantization)})"
            f"{'' if pack.trained else ' — <b>untrained test model</b>'}<br>"
            f"<b>Source:</b> {html.escape(pack.source)}<br>"
            f"<b>License:</b> {html.escape(pack.license)}</p>"
        )
    else:
        model = "<p><b>Model pack:</b> none installed</p>"
    return (
        f"<h3>desktop-qa {html.escape(__version__)}</h3>"
        "<p>Offline find-in-document question answering.</p>"
        "<p><b>License:</b> AGPL-3.0-or-later</p>" + model
    )
