"""Everything the app remembers between runs, behind one typed wrapper around ``QSettings``.

Keys and types live here only, so a misspelt key or a value read back as the wrong type (QSettings
hands back strings from INI files) cannot spread through the widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "session-replay-inspector"
APPLICATION = "Session Replay Inspector"
#: How many entries File → Open Recent keeps.
MAX_RECENT = 10


class Settings:
    """Read and write the user's settings. Names must be set on the application first."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._qs = store if store is not None else QSettings()

    @property
    def recent_paths(self) -> list[str]:
        value = self._qs.value("recent/paths", [], type=list)
        return [str(path) for path in value if path]

    def add_recent(self, path: str) -> None:
        paths = [path] + [p for p in self.recent_paths if p != path]
        self._qs.setValue("recent/paths", paths[:MAX_RECENT])

    def clear_recent(self) -> None:
        self._qs.remove("recent/paths")

    @property
    def last_directory(self) -> str:
        return self._qs.value("dialogs/last_directory", "", type=str)

    @last_directory.setter
    def last_directory(self, path: str) -> None:
        self._qs.setValue("dialogs/last_directory", path)

    @property
    def window_geometry(self) -> QByteArray:
        return self._qs.value("window/geometry", QByteArray(), type=QByteArray)

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray:
        return self._qs.value("window/state", QByteArray(), type=QByteArray)

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._qs.setValue("window/state", value)

    @property
    def sessions_header(self) -> QByteArray:
        return self._qs.value("window/sessions_header", QByteArray(), type=QByteArray)

    @sessions_header.setter
    def sessions_header(self, value: QByteArray) -> None:
        self._qs.setValue("window/sessions_header", value)

    def sync(self) -> None:
        self._qs.sync()
