"""The window's dialogs: a document's password, the settings, About, and an error.

Each opens over ``parent`` and reports back by the callables it is given (or
its return value), so the window keeps only which box is open on top.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_qa.core.reading.pack import ModelPack
from desktop_qa.core.storage.settings import Settings
from desktop_qa.gui.panels import PasswordDialog, SettingsDialog, about_html


def ask_password(
    parent: QWidget,
    path: str,
    wrong: bool,
    *,
    unlock: Callable[[str], None],
    cancelled: Callable[[], None],
) -> PasswordDialog:
    """Ask for ``path``'s password (non-blocking): ``unlock(password)`` or ``cancelled()``.

    The typed password is cleared from the field as soon as the dialog ends.
    """
    dialog = PasswordDialog(path, wrong, parent)

    def done(code: int) -> None:
        if code:
            unlock(dialog.password())
        else:
            cancelled()
        dialog.field.clear()
        dialog.deleteLater()

    dialog.finished.connect(done)
    dialog.open()
    return dialog


def edit_settings(parent: QWidget, settings: Settings, apply: Callable[..., None]) -> None:
    """Tools ▸ Settings (modal); ``apply(**changes)`` (``Session.update_settings``) on OK."""
    dialog = SettingsDialog(settings, parent)
    if dialog.exec():
        top_k, strictness, exhaustive = dialog.values()
        ocr_mode, ocr_languages = dialog.ocr_values()
        apply(
            top_k=top_k,
            strictness=strictness,
            exhaustive=exhaustive,
            cache_protected=dialog.cache_protected.isChecked(),
            ocr_mode=ocr_mode,
            ocr_languages=ocr_languages,
        )


def about_box(parent: QWidget, pack: ModelPack | None) -> QMessageBox:
    """Help ▸ About (non-blocking): the version, the model in use."""
    box = QMessageBox(parent)
    box.setWindowTitle("About desktop-qa")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_html(pack))
    box.setIcon(QMessageBox.Icon.Information)
    box.open()
    return box


def error_box(parent: QWidget, title: str, text: str) -> QMessageBox:
    """A short, non-blocking dialog with the core's one-line message."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.open()
    return box
