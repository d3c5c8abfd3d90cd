"""The main window: the sessions table, the one way to open recordings, and import progress.

File → Open, File → Open Recent, drag and drop and command-line paths all end in
:meth:`MainWindow.open_paths`. Imports run one at a time on the thread pool (DuckDB writes go
through one lane); paths opened while one runs wait their turn.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow.compute as pc
from PySide6.QtCore import QMimeData, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpacerItem,
    QTableView,
    QWidget,
)

from inspector.core.importer import ImportProgress, ImportReport
from inspector.core.store import Store

from .import_worker import ImportWorker
from .sessions_model import COLUMNS, SessionsModel
from .settings import APPLICATION, Settings

RECORDING_FILTER = ("Recordings (*.zip *.json *.jsonl *.ndjson *.gz *.ph-recording.json);;"
                    "All files (*)")
_TYPICAL_TEXT = {"session_id": "0" * 36, "subject": "0" * 16, "device": "0" * 12,
                 "first_ts": "2000-00-00 00:00:00", "duration": "00:00:00", "events": "000,000"}
_START_COLUMN = next(i for i, (_, name) in enumerate(COLUMNS) if name == "first_ts")


class MainWindow(QMainWindow):
    import_finished = Signal()  # an import ended, whatever its outcome, and the queue is empty

    def __init__(self, store: Store, settings: Settings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._settings = settings if settings is not None else Settings()
        self._worker: ImportWorker | None = None
        self._queued: list[list[Path]] = []

        self.setWindowTitle(f"{APPLICATION} — {store.path.name}")
        self.setAcceptDrops(True)

        self.model = SessionsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("sessions")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        rows.hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSortIndicator(_START_COLUMN, Qt.SortOrder.AscendingOrder)
        self.setCentralWidget(self.table)

        self._build_menus()
        self._build_status_bar()

        if not header.restoreState(self._settings.sessions_header):
            self._set_default_column_widths()
        self.table.setSortingEnabled(True)  # sorts by the (restored) indicator
        self.restoreGeometry(self._settings.window_geometry)
        self.restoreState(self._settings.window_state)
        if self._settings.window_geometry.isEmpty():
            self.resize(1100, 650)

        self.reload_sessions()

    # -- the one way in -----------------------------------------------------------------------
    def open_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Import files and folders; the sessions reload when the import succeeds."""
        chosen = [Path(p).expanduser().absolute() for p in paths]
        if not chosen:
            return
        for path in chosen:
            if path.exists():
                self._settings.add_recent(str(path))
        self._rebuild_recent_menu()
        if self._worker is not None:
            self._queued.append(chosen)
            self.statusBar().showMessage(f"{_describe(chosen)} will be imported next")
            return
        self._start_import(chosen)

    @property
    def importing(self) -> bool:
        return self._worker is not None

    @Slot()
    def cancel_import(self) -> None:
        """Stop the running import (nothing of it is kept) and drop the queued ones."""
        self._queued.clear()
        if self._worker is not None:
            self._worker.cancel()
            self._cancel_button.setEnabled(False)
            self._progress.setFormat("Cancelling…")

    def reload_sessions(self) -> None:
        table = self._store.sessions()
        self.model.set_table(table)
        events = pc.sum(table["events"]).as_py() or 0
        archives = pc.count_distinct(table["archive_id"]).as_py()
        self._counts_label.setText(f"{_count(table.num_rows, 'session')} · "
                                   f"{_count(events, 'event')} · {_count(archives, 'archive')}")

    # -- Qt overrides -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._judge_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._judge_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = droppable_paths(event.mimeData())
        if paths is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._worker is not None:
            worker = self._worker
            self.cancel_import()
            worker.wait()
        self._settings.window_geometry = self.saveGeometry()
        self._settings.window_state = self.saveState()
        self._settings.sessions_header = self.table.horizontalHeader().saveState()
        self._settings.sync()
        super().closeEvent(event)

    # -- building -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_files = QAction("&Open…", self)
        open_files.setShortcut(QKeySequence.StandardKey.Open)
        open_files.triggered.connect(self._on_open_files_triggered)
        file_menu.addAction(open_files)
        open_folder = QAction("Open &Folder…", self)
        open_folder.setShortcut(QKeySequence("Ctrl+Shift+O"))
        open_folder.triggered.connect(self._on_open_folder_triggered)
        file_menu.addAction(open_folder)
        self.recent_menu = QMenu("Open &Recent", self)
        file_menu.addMenu(self.recent_menu)
        self._rebuild_recent_menu()
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self._db_label = QLabel(str(self._store.path), self)
        self._db_label.setToolTip("The database these sessions are stored in")
        self._db_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._db_label.setMinimumWidth(1)  # a long path may be clipped, never widen the window
        self._counts_label = QLabel(self)
        self._progress = QProgressBar(self)
        self._progress.setTextVisible(True)
        self._progress.hide()
        self._cancel_button = QPushButton("Cancel", self)
        self._cancel_button.setObjectName("cancel_import")
        self._cancel_button.clicked.connect(self.cancel_import)
        self._cancel_button.hide()
        bar.addPermanentWidget(self._db_label)
        bar.addPermanentWidget(self._counts_label)
        bar.addPermanentWidget(self._progress)
        bar.addPermanentWidget(self._cancel_button)

    def _set_default_column_widths(self) -> None:
        """Room for typical values, measured once; sizing to every row's contents is too slow."""
        metrics = self.table.fontMetrics()
        padding = 4 * metrics.averageCharWidth()
        for column, (_, name) in enumerate(COLUMNS):
            if name in _TYPICAL_TEXT:
                width = metrics.horizontalAdvance(_TYPICAL_TEXT[name]) + padding
                self.table.setColumnWidth(column, width)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._settings.recent_paths
        for number, path in enumerate(recent, start=1):
            label = path.replace("&", "&&")  # a literal & in a menu text is written &&
            action = self.recent_menu.addAction(f"&{number} {label}" if number < 10 else label)
            action.setData(path)
            action.setEnabled(os.path.exists(path))
            action.triggered.connect(self._on_recent_triggered)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("&Clear Menu")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(self._on_clear_recent_triggered)
        self.recent_menu.setEnabled(bool(recent))

    # -- import lane --------------------------------------------------------------------------
    def _start_import(self, paths: list[Path]) -> None:
        worker = ImportWorker(self._store, paths)
        worker.signals.progress_changed.connect(self._on_worker_progress_changed)
        worker.signals.imported.connect(self._on_worker_imported)
        worker.signals.cancelled.connect(self._on_worker_cancelled)
        worker.signals.failed.connect(self._on_worker_failed)
        worker.signals.finished.connect(self._on_worker_finished)
        self._worker = worker  # the strong reference the runnable needs until it finishes
        self._progress.setRange(0, 0)
        self._progress.setFormat("Importing…")
        self._progress.show()
        self._cancel_button.setEnabled(True)
        self._cancel_button.show()
        self.statusBar().showMessage(f"Importing {_describe(paths)}…")
        QThreadPool.globalInstance().start(worker)

    @Slot(object)
    def _on_worker_progress_changed(self, progress: ImportProgress) -> None:
        if self._worker is None or self._worker.token.cancelled:
            return
        self._progress.setRange(0, 1000)
        self._progress.setValue(round(1000 * progress.fraction))
        self._progress.setFormat(f"%p% · {progress.events:,} events")
        self._progress.setToolTip(f"{progress.path} ({progress.index + 1} of {progress.total})")

    @Slot(object)
    def _on_worker_imported(self, report: ImportReport) -> None:
        failed = report.failed
        counts: dict[str, int] = {}
        for archive in report.archives:
            counts[archive.status] = counts.get(archive.status, 0) + 1
        sessions = sum(a.sessions for a in report.archives if a.status == "imported")
        events = sum(a.events for a in report.archives if a.status == "imported")
        summary = f"Imported {_count(sessions, 'session')} ({_count(events, 'event')})"
        extra = [f"{n} {status}" for status, n in sorted(counts.items()) if status != "imported"]
        self.statusBar().showMessage(summary + (f"; {', '.join(extra)}" if extra else ""))
        self.reload_sessions()
        if failed:
            noun = "file" if len(failed) == 1 else "files"
            self._show_error(f"{len(failed)} {noun} could not be imported",
                             "\n\n".join(_failure_line(a.path, a.error) for a in failed))

    @Slot()
    def _on_worker_cancelled(self) -> None:
        self.statusBar().showMessage("Import cancelled; nothing was changed")

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self.statusBar().showMessage("Import failed")
        self._show_error("The import failed", message)

    @Slot()
    def _on_worker_finished(self) -> None:
        self._worker = None
        if self._queued:
            self._start_import(self._queued.pop(0))
            return
        self._progress.hide()
        self._cancel_button.hide()
        self.import_finished.emit()

    # -- menu slots ---------------------------------------------------------------------------
    @Slot()
    def _on_open_files_triggered(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open recordings",
                                                self._settings.last_directory, RECORDING_FILTER)
        if files:
            self._settings.last_directory = str(Path(files[0]).parent)
            self.open_paths(files)

    @Slot()
    def _on_open_folder_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of recordings",
                                                  self._settings.last_directory)
        if folder:
            self._settings.last_directory = str(Path(folder).parent)
            self.open_paths([folder])

    @Slot()
    def _on_recent_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_paths([action.data()])

    @Slot()
    def _on_clear_recent_triggered(self) -> None:
        self._settings.clear_recent()
        self._rebuild_recent_menu()

    # -- helpers ------------------------------------------------------------------------------
    def _judge_drag(self, event: QDragEnterEvent | QDragMoveEvent) -> None:
        if droppable_paths(event.mimeData()) is None:
            event.ignore()
        else:
            event.acceptProposedAction()

    def _show_error(self, text: str, details: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, APPLICATION, text,
                          QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(details)
        box.setTextFormat(Qt.TextFormat.PlainText)
        layout = box.layout()
        if isinstance(layout, QGridLayout):  # wide enough that a path and its message fit a line
            width = 60 * box.fontMetrics().averageCharWidth()
            layout.addItem(QSpacerItem(width, 0, QSizePolicy.Policy.Minimum,
                                       QSizePolicy.Policy.Expanding),
                           layout.rowCount(), 0, 1, layout.columnCount())
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()


def droppable_paths(mime: QMimeData) -> list[Path] | None:
    """The dropped paths, or None unless every URL is a local file or folder we can read."""
    if not mime.hasUrls() or not mime.urls():
        return None
    paths = []
    for url in mime.urls():
        if not url.isLocalFile():
            return None
        path = Path(url.toLocalFile())
        if path.is_dir():
            readable = os.access(path, os.R_OK | os.X_OK)
        else:
            readable = path.is_file() and os.access(path, os.R_OK)
        if not readable:
            return None
        paths.append(path)
    return paths


def _describe(paths: list[Path]) -> str:
    return paths[0].name if len(paths) == 1 else f"{len(paths)} items"


def _failure_line(path: str, error: str | None) -> str:
    """One line naming the file; core messages usually name it already."""
    if error and path in error:
        return error
    return f"{path}: {error or 'failed'}"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
