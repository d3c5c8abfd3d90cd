"""Screenshot mode: import, open the window, replay a session to an instant, save a picture, quit.

``inspector --screenshot OUT.png [--session ID] [--at MS] PATH...`` drives the real window, so
the picture is what a person would see; it is how the README's picture is made and what the
smoke tests run. Without ``--session`` the first flagged session (in the table's order) is shown,
or the first session when nothing is flagged; without ``--at``, the middle of its flagged events
(or of the session). ``--at`` below 10^11 is milliseconds from the session's start, above it an
epoch instant.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.compute as pc
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow
from .session_data import SessionKey

POLL_MS = 50
TIMEOUT_MS = 180_000
SETTLED_POLLS = 3  # consecutive settled polls before the picture is taken
EPOCH_MS_FLOOR = 10**11


class Screenshot(QObject):
    """Takes the picture once the window has settled; ``status`` is the exit status."""

    finished = Signal(int)  # the exit status, once the picture is saved or cannot be

    def __init__(self, window: MainWindow, out: Path, session: str | None = None,
                 at: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.out = out
        self.session = session
        self.at = at
        self.status: int | None = None
        self.message = ""
        self._stage = "loading"
        self._settled = 0
        self._elapsed = 0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._elapsed += POLL_MS
        if self._elapsed > TIMEOUT_MS:
            self._finish(2, f"inspector: error: the window did not settle within "
                            f"{TIMEOUT_MS // 1000} s; no screenshot taken")
            return
        window = self.window
        if self._stage == "loading":
            if window.importing or not window.settled_loading():
                return
            chosen = self._choose()
            if chosen is None:
                return
            key, at = chosen
            self._stage = "replaying"
            window.show_session(key, at)
            return
        if window.settled():
            self._settled += 1
            if self._settled >= SETTLED_POLLS:
                self._take()
        else:
            self._settled = 0

    def _choose(self) -> tuple[SessionKey, int | None] | None:
        table = self.window.model.source_table()
        if table.num_rows == 0:
            self._finish(2, "inspector: error: there is no session to show (give recordings "
                            "to import)")
            return None
        if self.session is not None:
            hits = table.filter(pc.equal(table["session_id"], self.session))
            if hits.num_rows == 0:
                self._finish(2, f"inspector: error: no session {self.session!r} — known "
                                f"sessions: {', '.join(table['session_id'].to_pylist()[:5])}")
                return None
        else:
            flagged = table.filter(pc.fill_null(pc.greater(table["flagged"], 0), False))
            hits = flagged if flagged.num_rows else table
        row = hits.slice(0, 1).to_pylist()[0]
        key = SessionKey(row["archive_id"], row["session_id"])
        return key, self._instant(key, row)

    def _instant(self, key: SessionKey, row: dict) -> int | None:
        start = row.get("first_ts")
        if self.at is not None:
            if self.at < EPOCH_MS_FLOOR and start is not None:
                return start + self.at
            return self.at
        audit = self.window.audit
        finding = next((f for f in audit.findings if (f.archive_id, f.session_id)
                        == (key.archive_id, key.session_id)), None) if audit else None
        if finding is not None and finding.first_flagged and finding.last_flagged:
            return (finding.first_flagged.timestamp + finding.last_flagged.timestamp) // 2
        end = row.get("last_ts")
        if start is not None and end is not None:
            return (start + end) // 2
        return None

    def _take(self) -> None:
        QApplication.processEvents()
        image = self.window.grab().toImage()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(self.out)):
            self._finish(2, f"inspector: error: {self.out}: cannot write the screenshot")
            return
        self._finish(0, f"screenshot saved to {self.out}")

    def _finish(self, status: int, message: str) -> None:
        self._timer.stop()
        self.status = status
        self.message = message
        print(message, file=sys.stderr if status else sys.stdout)
        self.window.close()
        self.finished.emit(status)
