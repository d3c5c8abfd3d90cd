"""The sessions panel: a filter box, an "only sessions with findings" switch, and the table.

The table is a plain ``QTableView`` on :class:`~.sessions_model.SessionsModel` with fixed row
heights (a 100k-row model scrolls without measuring rows); the flagged column is drawn as a
badge by :class:`BadgeDelegate`.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .sessions_model import COLUMNS, COUNT_ROLE, SessionsModel

FILTER_DELAY_MS = 150
FLAGGED_COLUMN = [name for _, name in COLUMNS].index("flagged")


class BadgeDelegate(QStyledItemDelegate):
    """A red pill with the count when the audit flagged events; "0" in grey when not."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        count = index.data(COUNT_ROLE)
        if not count:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        text = option.text
        option.text = ""
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter,
                              option.widget)
        metrics = option.fontMetrics
        width = metrics.horizontalAdvance(text) + 12
        height = min(metrics.height() + 2, option.rect.height() - 2)
        rect = QRectF(option.rect.right() - width - 4,
                      option.rect.top() + (option.rect.height() - height) / 2, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(200, 35, 35))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(QColor("white"))
        font = option.font
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def initStyleOption(self, option: QStyleOptionViewItem,
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        if index.data(COUNT_ROLE) == 0:
            option.palette.setColor(QPalette.ColorRole.Text,
                                    option.palette.color(QPalette.ColorRole.PlaceholderText))


class SessionsPanel(QWidget):
    filter_changed = Signal(str, bool)

    def __init__(self, model: SessionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessions_panel")
        self.filter = QLineEdit(self)
        self.filter.setObjectName("session_filter")
        self.filter.setPlaceholderText("Filter by person, URL or id")
        self.filter.setClearButtonEnabled(True)
        self.only_findings = QCheckBox("Only with findings", self)
        self.only_findings.setObjectName("only_findings")
        self.only_findings.setToolTip("Show only sessions the audit flagged")
        self.table = QTableView(self)
        self.table.setObjectName("sessions")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setItemDelegateForColumn(FLAGGED_COLUMN, BadgeDelegate(self.table))
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        rows.hide()
        self.table.horizontalHeader().setStretchLastSection(True)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.only_findings)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(FILTER_DELAY_MS)
        self._delay.timeout.connect(self._on_delay_timeout)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.only_findings.toggled.connect(self._on_delay_timeout)

    @Slot(str)
    def _on_filter_text_changed(self, text: str) -> None:
        self._delay.start()

    @Slot()
    def _on_delay_timeout(self) -> None:
        self._delay.stop()
        self.filter_changed.emit(self.filter.text(), self.only_findings.isChecked())
