"""The audit's findings for what is loaded, and the session's console and network events.

Three small tables in one tabbed panel. A finding leads to its session and its first flagged
instant; a console message or a request leads to its instant in the open session. The models
are plain lists (findings number in the hundreds, a session's logs in the thousands), built by
workers and handed over whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QTabWidget,
    QWidget,
)

from inspector.core.audit import AuditResult, Finding
from inspector.core.audit.findings import display_key
from inspector.core.audit.report import duration
from inspector.core.pii import mask_text, mask_url

from .session_data import LogRow, RequestRow, SessionKey

_Index = QModelIndex | QPersistentModelIndex
Column = tuple[str, Callable[[Any], Any]]
_SEVERITY_HUES = {"high": 0, "medium": 30, "low": 200, "undetermined": 270}


class RowsModel(QAbstractTableModel):
    """A read-only table of Python rows with a display function per column."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_object(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self._columns)):
            return self._columns[section][0]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= column < len(self._columns)):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self._columns[column][1](self._rows[row])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(self._rows[row], column)
        return None

    def foreground(self, row: Any, column: int) -> QColor | None:
        return None


class FindingsModel(RowsModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__([
            ("Severity", lambda f: f.severity.upper()),
            ("Person", lambda f: display_key(f.person)),
            ("Session", lambda f: f.session_id),
            ("Flagged", lambda f: f"{f.flagged_events:,}"),
            ("First flagged", lambda f: _time(f.first_flagged.timestamp)
             if f.first_flagged else "-"),
            ("Captured after opt-out", lambda f: duration(f.captured_after_opt_out_ms)),
            ("Personal data", lambda f: ", ".join(f"{k} ×{n}" for k, n in f.pii.items())),
        ], parent)

    def foreground(self, row: Finding, column: int) -> QColor | None:
        if column == 0:
            return QColor.fromHsl(_SEVERITY_HUES.get(row.severity, 0), 200, 110)
        return None


class ConsoleModel(RowsModel):
    def __init__(self, parent: Any = None) -> None:
        self.mask = False
        super().__init__([
            ("Time", lambda r: _time(r.timestamp)),
            ("Level", lambda r: r.level),
            ("Message", lambda r: mask_text(r.text)[0] if self.mask else r.text),
        ], parent)

    def foreground(self, row: LogRow, column: int) -> QColor | None:
        if row.level in ("error", "assert"):
            return QColor.fromHsl(0, 200, 110)
        if row.level == "warn":
            return QColor.fromHsl(35, 220, 100)
        return None


class NetworkModel(RowsModel):
    def __init__(self, parent: Any = None) -> None:
        self.mask = False
        super().__init__([
            ("Time", lambda r: _time(r.timestamp)),
            ("Method", lambda r: r.method),
            ("Status", lambda r: r.status),
            ("Type", lambda r: r.kind),
            ("URL", lambda r: mask_url(r.url)[0] if self.mask else r.url),
        ], parent)

    def foreground(self, row: RequestRow, column: int) -> QColor | None:
        if row.status and row.status[0] in "45":
            return QColor.fromHsl(0, 200, 110)
        return None


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone().strftime("%H:%M:%S.%f")[:-3]


class FindingsPanel(QTabWidget):
    """Findings, console and network, as tabs."""

    #: A finding was chosen: its session and the instant to show (epoch ms).
    finding_activated = Signal(object, object)
    #: A console message or request was chosen: its instant in the open session.
    instant_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findings_panel")
        self.findings_model = FindingsModel(self)
        self.console_model = ConsoleModel(self)
        self.network_model = NetworkModel(self)
        self.findings_view = self._view(self.findings_model, "findings")
        self.console_view = self._view(self.console_model, "console")
        self.network_view = self._view(self.network_model, "network")
        self.addTab(self.findings_view, "Findings")
        self.addTab(self.console_view, "Console")
        self.addTab(self.network_view, "Network")
        self.findings_view.activated.connect(self._on_findings_view_activated)
        self.findings_view.clicked.connect(self._on_findings_view_activated)
        self.console_view.activated.connect(self._on_log_view_activated)
        self.console_view.clicked.connect(self._on_log_view_activated)
        self.network_view.activated.connect(self._on_log_view_activated)
        self.network_view.clicked.connect(self._on_log_view_activated)

    def _view(self, model: RowsModel, name: str) -> QTableView:
        view = QTableView(self)
        view.setObjectName(name)
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setWordWrap(False)
        view.setAlternatingRowColors(True)
        rows = view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(view.fontMetrics().height() + 6)
        rows.hide()
        view.horizontalHeader().setStretchLastSection(True)
        view.setMinimumHeight(3 * rows.defaultSectionSize())  # a small window stays possible
        return view

    def set_audit(self, audit: AuditResult | None) -> None:
        findings = audit.findings if audit is not None else []
        self.findings_model.set_rows(findings)
        flagged = sum(1 for f in findings if f.flagged_events)
        self.setTabText(0, f"Findings ({flagged})" if audit is not None else "Findings")

    def set_logs(self, console: Sequence[LogRow], network: Sequence[RequestRow]) -> None:
        self.console_model.set_rows(console)
        self.network_model.set_rows(network)
        errors = sum(1 for row in console if row.level in ("error", "assert"))
        self.setTabText(1, f"Console ({len(console)}" + (f", {errors} errors)" if errors
                                                         else ")"))
        self.setTabText(2, f"Network ({len(network)})")

    def set_mask(self, mask: bool) -> None:
        for model in (self.console_model, self.network_model):
            model.mask = mask
            model.set_rows([model.row_object(r) for r in range(model.rowCount())])

    @Slot(QModelIndex)
    def _on_findings_view_activated(self, index: QModelIndex) -> None:
        finding = self.findings_model.row_object(index.row())
        if finding is None:
            return
        instant = finding_instant(finding)
        self.finding_activated.emit(SessionKey(finding.archive_id, finding.session_id),
                                    -1 if instant is None else instant)

    @Slot(QModelIndex)
    def _on_log_view_activated(self, index: QModelIndex) -> None:
        model = index.model()
        row = model.row_object(index.row()) if isinstance(model, RowsModel) else None
        if row is not None and row.timestamp is not None:
            self.instant_activated.emit(row.timestamp)


def finding_instant(finding: Finding) -> int | None:
    """Where a finding is best seen: its first flagged event."""
    if finding.first_flagged is not None:
        return finding.first_flagged.timestamp
    return None
