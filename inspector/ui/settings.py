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

    @property
    def mask_personal_data(self) -> bool:
        return self._qs.value("replay/mask_personal_data", False, type=bool)

    @mask_personal_data.setter
    def mask_personal_data(self, value: bool) -> None:
        self._qs.setValue("replay/mask_personal_data", bool(value))

    @property
    def skip_inactivity(self) -> bool:
        return self._qs.value("replay/skip_inactivity", True, type=bool)

    @skip_inactivity.setter
    def skip_inactivity(self, value: bool) -> None:
        self._qs.setValue("replay/skip_inactivity", bool(value))

    @property
    def playback_speed(self) -> float:
        return self._qs.value("replay/speed", 1.0, type=float)

    @playback_speed.setter
    def playback_speed(self, value: float) -> None:
        self._qs.setValue("replay/speed", float(value))

    @property
    def replay_view(self) -> int:
        """0: the wireframe, 1: the page view."""
        return self._qs.value("replay/view", 0, type=int)

    @replay_view.setter
    def replay_view(self, value: int) -> None:
        self._qs.setValue("replay/view", int(value))

    def sync(self) -> None:
        self._qs.sync()
