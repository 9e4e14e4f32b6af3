"""The one exception type users see: a one-line message naming the file and what to do."""


class UserError(Exception):
    """A problem with the user's input (file, question, model pack).

    The CLI prints ``error: <message>`` on one line and exits 2; the GUI shows
    the same line in a dialog. Never raise it for programming errors.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class Cancelled(Exception):
    """Raised inside long operations when the caller asked to stop."""


class PasswordRequired(UserError):
    """A protected document needs its password: none was given (``wrong`` False) or a wrong one.

    The CLI prompts (on a terminal) or prints the one line; the app asks in a dialog.
    """

    def __init__(self, message: str, *, wrong: bool) -> None:
        super().__init__(message)
        self.wrong = wrong
