"""Small pieces around the main view: first-run panel, test-model banner, dialogs."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_qa import __version__
from desktop_qa.core.documents.ocr import languages as ocr_languages
from desktop_qa.core.reading.pack import ModelPack
from desktop_qa.core.storage.settings import STRICTNESS_RANGE, TOP_K_RANGE, Settings
from desktop_qa.core.system import paths
from desktop_qa.gui.messages import CHOOSE_PACK_MENU

TEST_MODEL_WARNING = "Test model: answers are meaningless"
DOWNLOAD_TOOLTIP = (
    "Download {repo} from the Hugging Face Hub, quantize it to int8, check that it "
    "answers, and install it: the same as 'desktop-qa model download'."
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
    """Shown while no model pack is available: what is missing and how to fix it.

    *Download model…* runs the CLI's download in the background: an
    indeterminate bar, the current step, and *Cancel* (honoured between steps).
    """

    chooseFolder = Signal()
    downloadRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *, repo_id: str | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(4)
        # Compact: a line and two buttons, so the answers keep the column.
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text)
        self.choose = QPushButton("Choose pack folder…")
        self.choose.setToolTip(f"The same as {CHOOSE_PACK_MENU}")
        self.choose.clicked.connect(self.chooseFolder)
        self.download = QPushButton("Download model…")
        if repo_id is None:
            from desktop_qa.packs.download import DEFAULT_REPO

            repo_id = DEFAULT_REPO
        self.download.setToolTip(DOWNLOAD_TOOLTIP.format(repo=repo_id))
        self.download.clicked.connect(self.downloadRequested)
        for button in (self.download, self.choose):  # never narrower than their words
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.download)
        buttons.addWidget(self.choose)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        # Shown while downloading: bar + Cancel, and the step under them.
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # the steps take very different times: indeterminate
        self.progress.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the download after the current step; nothing is installed")
        self.cancel.clicked.connect(self.cancelRequested)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel)
        self.busy = QWidget()
        self.busy.setLayout(row)
        layout.addWidget(self.busy)
        self.step = QLabel()
        self.step.setWordWrap(True)
        self.step.setTextFormat(Qt.TextFormat.PlainText)
        self.step.setStyleSheet("color: #555;")
        layout.addWidget(self.step)
        # The last download's error: the CLI's one line, selectable for copying.
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_reason("")
        self.reset_download()

    # -- download states --------------------------------------------------------
    def reset_download(self, error: str = "") -> None:
        """The initial state (after a cancel or success), or after a failure with its line."""
        self.busy.hide()
        self.step.clear()
        self.step.hide()
        self.error.setText(error)
        self.error.setVisible(bool(error))
        self.download.setEnabled(True)
        self.choose.setEnabled(True)
        self.cancel.setEnabled(True)

    def clear_error(self) -> None:
        """The last download's error goes at the user's next action (a question, an open)."""
        self.error.clear()
        self.error.hide()

    def start_download(self, repo_id: str) -> None:
        self.download.setEnabled(False)
        self.choose.setEnabled(False)  # one model change at a time
        self.error.clear()
        self.error.hide()
        self.cancel.setEnabled(True)
        self.busy.show()
        self.set_step(f"downloading {repo_id}")

    def set_step(self, text: str) -> None:
        self.step.setText(text[:1].upper() + text[1:] + "…" if text else "")
        self.step.setVisible(bool(text))

    def set_cancelling(self) -> None:
        self.cancel.setEnabled(False)
        self.step.setText("Cancelling after the current step…")
        self.step.show()

    @property
    def downloading(self) -> bool:
        return not self.busy.isHidden()

    def set_reason(self, reason: str) -> None:
        """One line: keyword search until a pack is installed; ``reason``, why the pack
        found could not be used (a broken pack; "" when none is installed), follows once
        in red."""
        where = html.escape(str(paths.user_models_dir()))
        self.setToolTip(
            "Answering questions needs a model pack: a folder holding model.json, model.onnx "
            f"and tokenizer.json. Packs are looked for in {paths.user_models_dir()}."
        )
        text = (
            "<b>No model installed</b>: questions are answered by keyword search. "
            f"<span style='color:#555'>(Packs: <tt>{where}</tt>)</span>"
        )
        if reason:
            text += f"<br><span style='color:#a00'>{html.escape(reason)}</span>"
        self.text.setText(text)


class SettingsDialog(QDialog):
    """Top-k, strictness (the no-answer threshold offset), OCR mode and languages."""

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
        self.cache_protected = QCheckBox(
            "Keep the text of password-protected documents in the cache"
        )
        self.cache_protected.setToolTip(
            "Off: a protected document is read again each time it is opened, and its text "
            "never reaches the disk. Passwords are never stored."
        )
        self.cache_protected.setChecked(settings.cache_protected)
        form.addRow("", self.cache_protected)
        self.ocr_mode = QComboBox()
        for mode, label in (
            ("auto", "Pages without text (scans)"),
            ("never", "Never"),
            ("always", "Every page (ignore the text layer)"),
        ):
            self.ocr_mode.addItem(label, mode)
        self.ocr_mode.setCurrentIndex(max(0, self.ocr_mode.findData(settings.ocr_mode)))
        self.ocr_mode.setToolTip("Read scanned pages with OCR (Tesseract, on this computer).")
        form.addRow("OCR:", self.ocr_mode)
        self.ocr_languages = QListWidget()
        chosen = set(settings.ocr_languages.split("+"))
        for lang in sorted(ocr_languages.available_languages()) or ["eng"]:
            item = QListWidgetItem(lang)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if lang in chosen else Qt.CheckState.Unchecked)
            self.ocr_languages.addItem(item)
        self.ocr_languages.setMaximumHeight(90)
        self.ocr_languages.setToolTip(
            f"Installed OCR languages. More: docs/ocr.md, or put <lang>.traineddata in "
            f"{ocr_languages.user_tessdata_dir()}"
        )
        form.addRow("OCR languages:", self.ocr_languages)
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

    def ocr_values(self) -> tuple[str, str]:
        """OCR mode and languages ("eng+deu"; English when none is ticked)."""
        items = [self.ocr_languages.item(i) for i in range(self.ocr_languages.count())]
        langs = [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]
        return str(self.ocr_mode.currentData()), "+".join(langs) or "eng"


class PasswordDialog(QDialog):
    """Asks for a protected document's password; says so when the last one was wrong.

    Esc (or Cancel) rejects. The password is handed to the session and never kept here.
    """

    def __init__(self, path: str, wrong: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Password required")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        name = html.escape(path.rsplit("/", 1)[-1])
        self.label = QLabel(f"<b>{name}</b> is password-protected. Enter its password:")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.error = QLabel("Wrong password; try again.")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setVisible(wrong)
        layout.addWidget(self.error)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.field)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.field.setFocus()

    def password(self) -> str:
        return self.field.text()


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
