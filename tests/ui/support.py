"""Helpers for the Qt tests: where the shared recordings are, database row counts, drops."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from inspector.core.store import Store

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
RRWEB = SHARED / "fixtures" / "rrweb"
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
