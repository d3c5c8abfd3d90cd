"""One family of exceptions for everything a user can run into.

Each message names the file and the place (line, member, key) and says what to do, so the
command line can print it on one line and the app can show it in a dialog.
"""

from __future__ import annotations


class InspectorError(Exception):
    """An error a user can act on. ``str(err)`` is the whole one-line message."""

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None,
                 hint: str | None = None) -> None:
        self.path = path
        self.where = where
        self.hint = hint
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        place = ""
        if self.path:
            place = self.path + (f" ({self.where})" if self.where else "") + ": "
        elif self.where:
            place = f"{self.where}: "
        text = place + self.reason
        if self.hint:
            text += f" — {self.hint}"
        return text


class InputError(InspectorError):
    """A file that cannot be read as a recording (or part of one)."""


class UsageError(InspectorError):
    """A command or option that does not make sense (missing file, clashing options)."""


class Cancelled(InspectorError):
    """The user cancelled a long operation; nothing was changed."""

    def __init__(self, message: str = "cancelled; nothing was changed") -> None:
        super().__init__(message)


class SkipFile(InspectorError):
    """A file that is recognised but holds no recording; the importer reports it as skipped."""
