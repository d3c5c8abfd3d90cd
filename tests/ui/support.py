"""Helpers for the Qt tests: where the shared recordings are, database row counts, drops."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from inspector.core.store import Store

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
RRWEB = SHARED / "fixtures" / "rrweb"
REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data" / "demo-archive.zip"
EXPECTED = REPO / "sample_data" / "expected.json"
TABLES = ("archives", "sessions", "events", "consent", "identities", "import_problems")


def table_counts(store: Store) -> dict[str, int]:
    """Row counts of every table, read through a cursor of our own."""
    con = store.cursor()
    try:
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in TABLES}
    finally:
        con.close()


def mime_with(urls: list[QUrl]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(urls)
    return mime


def drag_enter(target: QWidget, mime: QMimeData, *, flag_before: bool) -> bool:
    """Send a drag entering ``target``; True when the widget accepted it.

    A widget that does not handle the event leaves the accepted flag as it came, so a test
    expecting acceptance sends it with ``flag_before=False`` and one expecting refusal with True.
    """
    event = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    event.setAccepted(flag_before)
    QApplication.sendEvent(target, event)
    return event.isAccepted()


def drop(target: QWidget, mime: QMimeData, *, flag_before: bool) -> bool:
    """Send a drop on ``target``; True when the widget accepted it (see :func:`drag_enter`)."""
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    event.setAccepted(flag_before)
    QApplication.sendEvent(target, event)
    return event.isAccepted()


def expected_sessions() -> dict[str, dict]:
    """The sample archive's ground truth, by label ("alice-2")."""
    import json

    return {s["label"]: s for s in json.loads(EXPECTED.read_text())["sessions"]}


def wait_settled(qtbot, window, timeout: int = 60_000) -> None:
    """Until the window has read, audited and drawn everything it is asked to show."""
    qtbot.waitUntil(window.settled, timeout=timeout)


def select_session(qtbot, window, session_id: str, archive_id: int = 1) -> None:
    """Click the session's row, as a person would, and wait for the player to show it."""
    qtbot.waitUntil(window.settled_loading, timeout=60_000)
    row = window.model.row_of(archive_id, session_id)
    assert row is not None, session_id
    table = window.table
    table.scrollTo(window.model.index(row, 0))
    rect = table.visualRect(window.model.index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.player.data is not None
                    and window.player.data.key.session_id == session_id, timeout=60_000)
    wait_settled(qtbot, window)


def painted_fraction(image, background) -> float:
    """The share of pixels (sampled on a grid) that differ from ``background``."""
    step = 4
    total = differ = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            total += 1
            if image.pixelColor(x, y) != background:
                differ += 1
    return differ / max(total, 1)
