"""The one error type that reaches the user: a clear sentence, where it happened, exit code 2."""

from __future__ import annotations


class DbtruthError(Exception):
    """Bad input, configuration or connection. The CLI prints it and exits with code 2.

    `where` is "file:line" (or "file:line:column") when the problem has a place, so an editor or
    CI annotation can jump to it.
    """

    def __init__(self, message: str, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text
