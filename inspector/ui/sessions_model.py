"""The sessions table as a Qt model, read straight from the Arrow table the store returns.

Rows are turned into Python values a page at a time and only when a view asks for them, so the
model costs the same whether the database holds ten sessions or a million. Sorting is an Arrow
``sort_indices`` over the whole column, and the filter (text, "only sessions with findings") an
Arrow mask, never a comparison per row through ``data()`` or a proxy model.

:func:`query_sessions` is what a worker runs to fill it: the store's sessions with the person
each belongs to (identity links followed) and the pages each visited. The audit's flagged counts
arrive later through :meth:`SessionsModel.set_flags`.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from inspector.core.audit import AuditResult, IdentityGraph

#: (header, source column) in display order; "duration" is computed from first_ts/last_ts.
COLUMNS = (
    ("Person", "person"),
    ("Flagged", "flagged"),
    ("Subject", "subject"),
    ("Device", "device"),
    ("Start", "first_ts"),
    ("Duration", "duration"),
    ("Pages", "pages"),
    ("Events", "events"),
    ("Session", "session_id"),
    ("First URL", "first_url"),
)
_RIGHT_ALIGNED = {"duration", "events", "pages", "flagged"}
#: Columns the text filter searches.
FILTERED = ("person", "subject", "device", "session_id", "first_url")
#: The flagged count as an int (None before an audit), for the badge delegate.
COUNT_ROLE = Qt.ItemDataRole.UserRole + 1
#: (archive_id, session_id) of a row, any column.
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
_OPTIONAL = {"person": pa.string(), "pages": pa.int64(), "flagged": pa.int64(),
             "undetermined": pa.int64(), "archive_id": pa.int32()}
PAGE_ROWS = 256
PAGES_KEPT = 8

_Index = QModelIndex | QPersistentModelIndex


class SessionsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._source = _empty_sessions()
        self._flags: pa.Table | None = None
        self._table = _prepared(self._source, None)
        self._order: pa.Array = pa.array([], pa.uint64())
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._filter_text = ""
        self._only_findings = False
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()

    def set_table(self, table: pa.Table) -> None:
        """Show ``table`` (``Store.sessions()`` or :func:`query_sessions`), keeping the current
        sort, filter and flags."""
        self._source = table
        self._reset()

    def set_flags(self, flags: pa.Table | None) -> None:
        """Flagged and undetermined counts per session (:func:`flag_counts`); None: unknown."""
        self._flags = flags
        self._reset()

    def set_filter(self, text: str, only_findings: bool) -> None:
        """Show only rows whose person, subject, device, session id or first URL contains
        ``text`` (any case), and with ``only_findings`` only sessions the audit flagged."""
        text = text.strip()
        if (text, only_findings) == (self._filter_text, self._only_findings):
            return
        self._filter_text, self._only_findings = text, only_findings
        self.beginResetModel()
        self._order = self._sorted_order()
        self._pages.clear()
        self.endResetModel()

    def source_table(self) -> pa.Table:
        """Every loaded session with its flags, in the store's order (filter and sort aside)."""
        return self._table

    @property
    def total_rows(self) -> int:
        """Sessions loaded, whether the filter shows them or not."""
        return self._table.num_rows

    def key(self, row: int) -> tuple[int, str] | None:
        if not 0 <= row < len(self._order):
            return None
        source = self._order[row].as_py()
        return (self._table["archive_id"][source].as_py(),
                self._table["session_id"][source].as_py())

    def row_of(self, archive_id: int, session_id: str) -> int | None:
        """The row showing that session, or None (not loaded, or filtered out)."""
        table = self._table
        hits = pc.indices_nonzero(pc.and_(pc.equal(table["archive_id"], archive_id),
                                          pc.equal(table["session_id"], session_id)))
        if len(hits) == 0:
            return None
        where = pc.index(self._order, hits[0].cast(pa.uint64())).as_py()
        return None if where < 0 else where

    def _reset(self) -> None:
        self.beginResetModel()
        self._table = _prepared(self._source, self._flags)
        self._order = self._sorted_order()
        self._pages.clear()
        self.endResetModel()

    # -- Qt overrides -------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._order)

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
        if not (0 <= row < len(self._order) and 0 <= column < len(COLUMNS)):
            return None
        name = COLUMNS[column][1]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if name in _RIGHT_ALIGNED:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == KEY_ROLE:
            values = self._row(row)
            return (values[-2], values[-1])
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, COUNT_ROLE):
            return None
        value = self._row(row)[column]
        if role == COUNT_ROLE:
            return value if name == "flagged" else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(name, value, self._row(row))
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
        after = [self.index(new_row_of[old_order[i.row()]], i.column())
                 if 0 <= i.row() < len(old_order) else QModelIndex() for i in before]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    # -- internals ----------------------------------------------------------------------------
    def _sorted_order(self) -> pa.Array:
        if self._sort is None:  # the store's own order: by start time
            order = pa.array(range(self._table.num_rows), pa.uint64())
        else:
            column, direction_flag = self._sort
            direction = ("descending" if direction_flag == Qt.SortOrder.DescendingOrder
                         else "ascending")
            key = COLUMNS[column][1]
            order = pc.sort_indices(self._table, sort_keys=[(key, direction)])  # nulls last
        shown = self._shown_mask()
        if shown is None:
            return order
        return pc.filter(order, pc.take(shown, order))

    def _shown_mask(self) -> pa.Array | None:
        table = self._table
        mask = None
        if self._filter_text:
            for name in FILTERED:
                hit = pc.fill_null(pc.match_substring(table[name], self._filter_text,
                                                      ignore_case=True), False)
                mask = hit if mask is None else pc.or_(mask, hit)
        if self._only_findings:
            found = pc.fill_null(pc.or_(pc.greater(table["flagged"], 0),
                                        pc.greater(table["undetermined"], 0)), False)
            mask = found if mask is None else pc.and_(mask, found)
        if isinstance(mask, pa.ChunkedArray):
            mask = mask.combine_chunks()
        return mask

    def _row(self, row: int) -> tuple[Any, ...]:
        number = row // PAGE_ROWS
        page = self._pages.get(number)
        if page is None:
            picked = self._table.take(self._order[number * PAGE_ROWS:(number + 1) * PAGE_ROWS])
            columns = [picked.column(name).to_pylist() for _, name in COLUMNS]
            columns += [picked.column("archive_id").to_pylist(),
                        picked.column("session_id").to_pylist()]
            page = list(zip(*columns, strict=True))
            self._pages[number] = page
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[row % PAGE_ROWS]


def _empty_sessions() -> pa.Table:
    return pa.table({"archive_id": pa.array([], pa.int32()),
                     "session_id": pa.array([], pa.string()), "subject": pa.array([], pa.string()),
                     "device": pa.array([], pa.string()), "first_ts": pa.array([], pa.int64()),
                     "last_ts": pa.array([], pa.int64()), "events": pa.array([], pa.int64()),
                     "first_url": pa.array([], pa.string())})


def _prepared(table: pa.Table, flags: pa.Table | None) -> pa.Table:
    """``table`` with a duration, every optional column (null when unknown) and the flags."""
    table = table.drop_columns([n for n in ("flagged", "undetermined", "duration")
                                if n in table.column_names])
    if flags is not None:
        table = _joined(table, flags)
    for name, kind in _OPTIONAL.items():
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
    return table.append_column("duration", pc.subtract(table["last_ts"], table["first_ts"]))


def _joined(table: pa.Table, flags: pa.Table) -> pa.Table:
    """The flag counts joined on, rows kept in ``table``'s order; 0 where nothing flagged."""
    if "archive_id" not in table.column_names:
        return table
    numbered = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    flags = flags.select(["archive_id", "session_id", "flagged", "undetermined"]).cast(
        pa.schema([("archive_id", table.schema.field("archive_id").type),
                   ("session_id", pa.string()), ("flagged", pa.int64()),
                   ("undetermined", pa.int64())]))
    joined = numbered.join(flags, keys=["archive_id", "session_id"], join_type="left outer")
    joined = joined.take(pc.sort_indices(joined, sort_keys=[("_row", "ascending")]))
    joined = joined.drop_columns(["_row"])
    for name in ("flagged", "undetermined"):
        position = joined.column_names.index(name)
        joined = joined.set_column(position, name, pc.fill_null(joined[name], 0))
    return joined


def flag_counts(audit: AuditResult) -> pa.Table:
    """Per session with a finding: flagged and undetermined event counts."""
    return pa.table({
        "archive_id": pa.array([f.archive_id for f in audit.findings], pa.int32()),
        "session_id": pa.array([f.session_id for f in audit.findings], pa.string()),
        "flagged": pa.array([f.flagged_events for f in audit.findings], pa.int64()),
        "undetermined": pa.array([f.undetermined_events for f in audit.findings], pa.int64()),
    })


_SESSIONS_SQL = """
SELECT s.*, a.path AS archive_path,
       coalesce(ks.person, s.subject, kd.person, s.device) AS person,
       coalesce(p.pages, 0) AS pages
FROM sessions s JOIN archives a USING (archive_id)
LEFT JOIN inspector_key_person ks ON ks.key = s.subject
LEFT JOIN inspector_key_person kd ON kd.key = s.device
LEFT JOIN (SELECT archive_id, session_id, count(*) AS pages FROM events WHERE type = 4
           GROUP BY ALL) p USING (archive_id, session_id)
ORDER BY s.first_ts NULLS LAST, s.archive_id, s.session_id
"""


def query_sessions(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every session with its person and page count (for a worker: ``con`` is its cursor).

    A session's person is its subject's, following identity links as the audit does; a
    session without a subject takes its device's.
    """
    graph = IdentityGraph.load(con)
    con.register("inspector_key_person", graph.table())
    try:
        return con.sql(_SESSIONS_SQL).to_arrow_table()
    finally:
        con.unregister("inspector_key_person")


def _display(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "first_ts":
        return _local_time(value).strftime("%Y-%m-%d %H:%M:%S")
    if name == "duration":
        return format_duration(value)
    if name in ("events", "pages", "flagged"):
        return f"{value:,}"
    return str(value)


def _tooltip(name: str, value: Any, row: tuple[Any, ...]) -> str | None:
    if value is None:
        return None
    if name == "first_ts":
        return _local_time(value).isoformat(timespec="milliseconds")
    if name in ("person", "session_id", "subject", "device", "first_url"):
        return str(value)
    if name == "flagged":
        return (f"{value:,} events recorded while the person had opted out" if value
                else "nothing flagged by the audit")
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
