"""The one exception type users see: a one-line message naming the file and what is wrong."""

from __future__ import annotations

from collections.abc import Mapping

# How the core names a setting in its own messages; the CLI and the GUI name it in theirs.
SETTING_NAMES = {
    "top_k": "the number of answers",
    "depth": "the reading depth",
    "threshold": "the no-answer threshold",
    "ocr_mode": "the OCR mode",
    "limit": "the number of questions",
}


class UserError(Exception):
    """A problem with the user's input (file, question, model pack).

    The CLI prints ``error: <message>`` on one line and exits 2; the GUI shows
    the line in the window. Never raise it for programming errors.

    The core says what is wrong; it never quotes a command-line flag or a menu.
    What the user can do about it is a ``hint`` (a key, such as ``"ocr_on"``)
    and a value out of range names its ``setting`` (a key of ``SETTING_NAMES``;
    the message then goes on from the setting's name): each front end words
    both in its own terms through ``describe``.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, setting: str | None = None
    ) -> None:
        self.problem = " ".join(message.split())
        self.hint = hint
        self.setting = setting
        super().__init__(self.describe())

    def describe(
        self, names: Mapping[str, str] | None = None, hints: Mapping[str, str] | None = None
    ) -> str:
        """The one line in a front end's terms: its name for the setting, its hint suffix."""
        text = self.problem
        if self.setting is not None:
            name = (names or {}).get(self.setting) or SETTING_NAMES.get(self.setting, self.setting)
            text = f"{name} {text}"
        suffix = (hints or {}).get(self.hint or "", "")
        return text + suffix

    @property
    def message(self) -> str:
        """The core's line: what is wrong, in no front end's terms."""
        return str(self)


def short_reason(exc: BaseException) -> str:
    """An exception as a short clause of a user's line (one line, at most 120 characters)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:120]


def mb(n: int) -> str:
    """A size or a limit as a user's line states it ("96 MB"): the same words everywhere."""
    return f"{n / (1024 * 1024):.0f} MB"


class Cancelled(Exception):
    """Raised inside long operations when the caller asked to stop."""


class PasswordRequired(UserError):
    """A protected document needs its password: none was given (``wrong`` False) or a wrong one.

    The CLI prompts (on a terminal) or prints the one line; the app asks in a dialog.
    """

    def __init__(self, message: str, *, wrong: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.wrong = wrong
