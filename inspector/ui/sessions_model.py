"""The sessions table as a Qt model, read straight from the Arrow table the store returns.

Rows are turned into Python values a page at a time and only when a view asks for them, so the
model costs the same whether the database holds ten sessions or a million. Sorting is an Arrow
``sort_indices`` over the whole column, not a comparison per row through ``data()``.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

#: (header, source column) in display order; "duration" is computed from first_ts/last_ts.
COLUMNS = (
    ("Session", "session_id"),
    ("Subject", "subject"),
    ("Device", "device"),
    ("Start", "first_ts"),
    ("Duration", "duration"),
    ("Events", "events"),
    ("First URL", "first_url"),
)
_RIGHT_ALIGNED = {"duration", "events"}
PAGE_ROWS = 256
PAGES_KEPT = 8

_Index = QModelIndex | QPersistentModelIndex


class SessionsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._table = _with_duration(_empty_sessions())
        self._order: pa.Array = pa.array([], pa.uint64())
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()

    def set_table(self, table: pa.Table) -> None:
        """Show ``table`` (as returned by ``Store.sessions()``), keeping the current sort."""
        self.beginResetModel()
        self._table = _with_duration(table)
        self._order = self._sorted_order()
        self._pages.clear()
        self.endResetModel()

    # -- Qt overrides -------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._table.num_rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(COLUMNS)):
            return COLUMNS[section][0]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < self._table.num_rows and 0 <= column < len(COLUMNS)):
            return None
        name = COLUMNS[column][1]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if name in _RIGHT_ALIGNED:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        value = self._row(row)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(name, value)
        return _display(name, value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        old_order = self._order.to_pylist()
        self._sort = (column, order)
        self._order = self._sorted_order()
        self._pages.clear()
        new_row_of = {source: row for row, source in enumerate(self._order.to_pylist())}
        before = self.persistentIndexList()
        after = [self.index(new_row_of[old_order[i.row()]], i.column()) for i in before]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    # -- internals ----------------------------------------------------------------------------
    def _sorted_order(self) -> pa.Array:
        if self._sort is None:  # the store's own order: by start time
            return pa.array(range(self._table.num_rows), pa.uint64())
        column, order = self._sort
        direction = "descending" if order == Qt.SortOrder.DescendingOrder else "ascending"
        key = COLUMNS[column][1]
        return pc.sort_indices(self._table, sort_keys=[(key, direction)])  # nulls go last

    def _row(self, row: int) -> tuple[Any, ...]:
        number = row // PAGE_ROWS
        page = self._pages.get(number)
        if page is None:
            picked = self._table.take(self._order[number * PAGE_ROWS:(number + 1) * PAGE_ROWS])
            columns = [picked.column(name).to_pylist() for _, name in COLUMNS]
            page = list(zip(*columns, strict=True))
            self._pages[number] = page
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[row % PAGE_ROWS]


def _empty_sessions() -> pa.Table:
    return pa.table({"session_id": pa.array([], pa.string()), "subject": pa.array([], pa.string()),
                     "device": pa.array([], pa.string()), "first_ts": pa.array([], pa.int64()),
                     "last_ts": pa.array([], pa.int64()), "events": pa.array([], pa.int64()),
                     "first_url": pa.array([], pa.string())})


def _with_duration(table: pa.Table) -> pa.Table:
    return table.append_column("duration", pc.subtract(table["last_ts"], table["first_ts"]))


def _display(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "first_ts":
        return _local_time(value).strftime("%Y-%m-%d %H:%M:%S")
    if name == "duration":
        return format_duration(value)
    if name == "events":
        return f"{value:,}"
    return str(value)


def _tooltip(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if name == "first_ts":
        return _local_time(value).isoformat(timespec="milliseconds")
    if name in ("session_id", "subject", "device", "first_url"):
        return str(value)
    return None


def _local_time(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).astimezone()


def format_duration(ms: int) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above; negative spans (clock skew) keep their sign."""
    sign = "-" if ms < 0 else ""
    seconds = abs(ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{minutes}:{seconds:02d}"
