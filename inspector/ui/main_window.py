"""The main window: sessions, the player, the event inspector, findings, and the one way in.

File → Open, File → Open Recent, drag and drop anywhere on the window and command-line paths all
end in :meth:`MainWindow.open_paths`. Imports run one at a time on the thread pool (DuckDB
writes go through one lane); paths opened while one runs wait their turn. After the last one,
the sessions are read again and the opt-out audit runs, both in workers; the audit's flagged
counts, findings and opted-out intervals then reach the sessions table, the findings panel and
the player. The window lays out what the workers hand back; it never queries or parses itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from PySide6.QtCore import (
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpacerItem,
    QWidget,
)

from inspector.core.audit import AuditResult, run_audit
from inspector.core.importer import ImportProgress, ImportReport
from inspector.core.store import Store

from .export_dialogs import PathField, PathsDialog, RedactDialog, RedactOptions
from .findings_panel import FindingsPanel
from .import_worker import ImportWorker
from .playback import SPEEDS
from .player import Player
from .session_data import SessionData, SessionKey
from .sessions_model import COLUMNS, SessionsModel, flag_counts, query_sessions
from .sessions_panel import SessionsPanel
from .settings import APPLICATION, Settings
from .tasks import Progress, Task, TaskJob
from .workers import Lane, ensure_pool_threads

RECORDING_FILTER = ("Recordings (*.zip *.json *.jsonl *.ndjson *.gz *.ph-recording.json);;"
                    "All files (*)")
_TYPICAL_TEXT = {"person": "0" * 10, "session_id": "0" * 36, "subject": "0" * 10,
                 "device": "0" * 10, "first_ts": "2000-00-00 00:00:00", "duration": "0:00:00",
                 "pages": "000", "events": "00,000", "flagged": "00,000"}
_STAGES = {"importing": "Reading the recording…", "auditing": "Finding what was recorded after "
           "opt-outs…", "writing": "Writing the copy…", "verifying": "Checking the copy…"}
_START_COLUMN = next(i for i, (_, name) in enumerate(COLUMNS) if name == "first_ts")


class MainWindow(QMainWindow):
    import_finished = Signal()  # an import ended, whatever its outcome, and the queue is empty
    sessions_loaded = Signal()  # the sessions table shows the database as it is now
    audit_finished = Signal()  # flags, findings and opt-outs are those of the latest audit
    task_finished = Signal(str, object)  # an export's title and result, when it succeeded
    task_ended = Signal()  # an export ended, whatever its outcome

    def __init__(self, store: Store, settings: Settings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ensure_pool_threads()
        self._store = store
        self._settings = settings if settings is not None else Settings()
        self._worker: ImportWorker | None = None
        self._task: Task | None = None
        self._queued: list[list[Path]] = []
        self._after_import = False  # the sessions are being read again after an import
        self._imported = False  # something was imported since the last audit
        self._closing = False
        self._loaded_once = False
        self.audit: AuditResult | None = None
        self._sessions = pa.table({})

        self.setWindowTitle(f"{APPLICATION} — {store.path.name}")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.model = SessionsModel(self)
        self.sessions_panel = SessionsPanel(self.model, self)
        self.table = self.sessions_panel.table
        header = self.table.horizontalHeader()
        header.setSortIndicator(_START_COLUMN, Qt.SortOrder.AscendingOrder)

        self.player = Player(store, self)
        self.setCentralWidget(self.player)
        self.inspector = self.player.inspector
        self.findings_panel = FindingsPanel(self)
        self._sessions_dock = self._dock("sessions_dock", "Sessions", self.sessions_panel,
                                         Qt.DockWidgetArea.LeftDockWidgetArea)
        self._inspector_dock = self._dock("inspector_dock", "Event", self.inspector,
                                          Qt.DockWidgetArea.RightDockWidgetArea)
        self._findings_dock = self._dock("findings_dock", "Findings", self.findings_panel,
                                         Qt.DockWidgetArea.BottomDockWidgetArea)
        for widget in (self.sessions_panel.filter, self.player.address, self.inspector.text):
            widget.setAcceptDrops(False)  # a dropped file is imported wherever it lands

        self._sessions_lane = Lane("sessions", store, parent=self)
        self._sessions_lane.finished.connect(self._on_sessions_lane_finished)
        self._sessions_lane.failed.connect(self._on_lane_failed)
        self._audit_lane = Lane("audit", store, parent=self)
        self._audit_lane.finished.connect(self._on_audit_lane_finished)
        self._audit_lane.failed.connect(self._on_lane_failed)
        self._audit_lane.busy_changed.connect(self._on_audit_lane_busy_changed)

        self._build_menus()
        self._build_status_bar()
        self._connect()

        if not header.restoreState(self._settings.sessions_header):
            self._set_default_column_widths()
        self.table.setSortingEnabled(True)  # sorts by the (restored) indicator
        self.restoreGeometry(self._settings.window_geometry)
        self.restoreState(self._settings.window_state)
        if self._settings.window_geometry.isEmpty():
            self.resize(1400, 860)
            self.resizeDocks([self._sessions_dock], [460], Qt.Orientation.Horizontal)
            self.resizeDocks([self._findings_dock], [170], Qt.Orientation.Vertical)
        playback = self.player.playback
        speed = self._settings.playback_speed
        playback.set_speed(speed if speed in SPEEDS else 1.0)
        playback.set_skip_inactive(self._settings.skip_inactivity)
        self.player.set_mask(self._settings.mask_personal_data)
        self.player.tabs.setCurrentIndex(self._settings.replay_view)

        self.reload_sessions()

    # -- the one way in -----------------------------------------------------------------------
    def open_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Import files and folders; the sessions reload when the import succeeds."""
        chosen = [Path(p).expanduser().absolute() for p in paths]
        if not chosen or self._closing:
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
        return self._worker is not None or self._after_import

    def settled_loading(self) -> bool:
        """The sessions are read and audited as the database holds them now."""
        return (self._loaded_once and not self.importing and not self._sessions_lane.busy
                and not self._audit_lane.busy
                and (self.audit is not None or self._sessions.num_rows == 0))

    def settled(self) -> bool:
        """Nothing is being imported, read or audited, and the player shows its playhead."""
        return self.settled_loading() and self.player.settled()

    @Slot()
    def cancel_import(self) -> None:
        """Stop the running import (nothing of it is kept) and drop the queued ones."""
        self._queued.clear()
        if self._worker is not None:
            self._worker.cancel()
            self._cancel_button.setEnabled(False)
            self._progress.setFormat("Cancelling…")

    def reload_sessions(self) -> None:
        """Read the sessions again (in a worker); ``sessions_loaded`` follows."""
        self._sessions_lane.submit(lambda con, token: query_sessions(con), needs_db=True)

    @Slot()
    def run_audit(self) -> None:
        """Audit the whole database in a worker; ``audit_finished`` follows."""
        if self._closing:
            return
        self._imported = False
        self._audit_lane.submit(lambda con, token: run_audit(con, cancel=token), needs_db=True)

    def run_task(self, title: str, job: TaskJob, *, writes: bool = True) -> bool:
        """Run one export in the background with a progress dialog; False if one is running.

        Its result is shown and sent with ``task_finished``; an error is shown in a dialog
        (saying that nothing was written, when the job ``writes``).
        """
        if self._task is not None or self._closing:
            if self._task is not None:
                self.statusBar().showMessage(f"{self._task.title} is still running")
            return False
        task = Task(self._store, title, job, self)
        task.setProperty("writes", writes)
        task.finished.connect(self._on_task_finished)
        task.failed.connect(self._on_task_failed)
        task.cancelled.connect(self._on_task_cancelled)
        task.done.connect(self._on_task_done)
        self._task = task
        self.statusBar().showMessage(f"{title}…")
        task.start()
        return True

    def export_redacted(self, options: RedactOptions) -> bool:
        """Write a redacted copy of ``options.source`` (docs/redaction.md) as a task."""
        from inspector.core import custody
        from inspector.core.audit.ledger import CONSENT, IDENTITIES, records_files
        from inspector.core.redact import redact
        from inspector.core.redact.log_entry import custody_refs

        def job(con, progress: Progress, token) -> object:
            ledger = records_files(con)
            result = redact(options.source, options.out, consent=ledger[CONSENT],
                            identities=ledger[IDENTITIES], tolerance_ms=options.tolerance_ms,
                            mask_pii=options.mask_pii,
                            pseudonymize_key=options.pseudonymize_key, force=options.force,
                            progress=lambda p: progress(p.fraction, _STAGES.get(p.stage, "")),
                            cancel=token)
            custody.append(con, "redact", **custody_refs(options.source, result))
            return result

        return self.run_task("Export Redacted Copy", job)

    def export_report(self, out: Path) -> bool:
        """Write the audit's report (``.html``, or ``.pdf`` drawn by Qt) as a task."""
        from inspector.core import custody
        from inspector.core.errors import UsageError
        from inspector.core.report import make_report, write_html

        from .report_pdf import write_pdf

        audit = self.audit
        if audit is None:
            self._show_error("There is no audit to report yet", "Open a recording first.")
            return False
        kind = out.suffix.lower().lstrip(".")

        def job(con, progress: Progress, token) -> str:
            if kind not in ("html", "pdf"):
                raise UsageError("the report must be a .html or .pdf file", path=str(out))
            progress(0.1, "Gathering the findings…")
            report = make_report(con, audit=audit, tolerance_ms=audit.tolerance_ms)
            token.check()
            progress(0.5, "Writing the report…")
            if kind == "pdf":
                written = f"{write_pdf(report, out).pages} pages"
            else:
                write_html(report, out)
                written = "HTML"
            archives = con.execute("SELECT path, sha256 FROM archives ORDER BY archive_id"
                                   ).fetchall()
            custody.append(con, "report", inputs=archives, outputs=[custody.file_ref(out)],
                           details={"format": kind, "tolerance_ms": audit.tolerance_ms})
            affected = report.aggregates.people_affected
            return (f"wrote {out} ({written}): {affected.part:,} of {affected.whole:,} "
                    f"opted-out people recorded after opting out, "
                    f"{report.flagged_events:,} flagged events\n")

        return self.run_task("Export Report", job)

    def make_bundle(self, out: Path, *, sign_key: Path | None = None, tolerance_ms: int = 0,
                    force: bool = False) -> bool:
        """Package every recording loaded, with its ledger, as an evidence bundle (a task)."""
        from inspector.core import custody
        from inspector.core.audit.ledger import CONSENT, IDENTITIES, records_files
        from inspector.core.bundle import make_bundle

        paths = self.archive_paths()

        def job(con, progress: Progress, token) -> object:
            ledger = records_files(con)
            result = make_bundle(paths, out, consent=ledger[CONSENT],
                                 identities=ledger[IDENTITIES], tolerance_ms=tolerance_ms,
                                 sign_key=sign_key, force=force,
                                 progress=lambda p: progress(p.fraction, f"{p.stage.title()}…"),
                                 cancel=token)
            custody.copy_entries(result.custody, con, origin="the bundle's own database")
            return result

        return self.run_task("Create Evidence Bundle", job)

    def verify_bundle(self, bundle: Path, public_key: Path | None = None) -> bool:
        """Check an evidence bundle (a task); a failed check is shown as an error."""
        from inspector.core.bundle import verify_bundle
        from inspector.core.errors import InputError

        def job(con, progress: Progress, token) -> object:
            progress(0.0, f"Checking {bundle.name}…")
            report = verify_bundle(bundle, public_key=public_key)
            if not report.ok:
                raise InputError(report.failure or "failed", path=str(bundle))
            return report

        return self.run_task("Verify Evidence Bundle", job, writes=False)

    def show_custody_log(self) -> bool:
        """The database's custody log and whether its chain holds (a task)."""
        from inspector.core import custody

        def job(con, progress: Progress, token) -> str:
            return custody.format_log(custody.entries(con), custody.check(con))

        return self.run_task("Custody Log", job, writes=False)

    def archive_paths(self) -> list[Path]:
        """The recordings the sessions came from, in import order."""
        table = self._sessions
        if table.num_rows == 0 or "archive_path" not in table.column_names:
            return []
        pairs = sorted(set(zip(table["archive_id"].to_pylist(),
                               table["archive_path"].to_pylist(), strict=True)))
        return [Path(path) for _, path in pairs if path]

    def show_session(self, key: SessionKey, at: int | None = None) -> None:
        """Open ``key`` in the player at ``at`` and select it in the table."""
        self.player.open_session(key, at)
        self._select_row_of(key)

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
        if not self._closing:
            self.player.tabs.currentChanged.disconnect(self._on_player_tabs_current_changed)
        self._closing = True
        if self._worker is not None:
            worker = self._worker
            self.cancel_import()
            worker.wait()
        if self._task is not None:
            self._task.cancel()
            self._task.wait()
        for lane in (self._sessions_lane, self._audit_lane):
            lane.shutdown()
        self.player.shutdown()
        settings = self._settings
        settings.window_geometry = self.saveGeometry()
        settings.window_state = self.saveState()
        settings.sessions_header = self.table.horizontalHeader().saveState()
        settings.mask_personal_data = self.player.mask
        settings.skip_inactivity = self.player.playback.skip_inactive
        settings.playback_speed = self.player.playback.speed
        settings.replay_view = self.player.tabs.currentIndex()
        settings.sync()
        super().closeEvent(event)

    # -- building -----------------------------------------------------------------------------
    def _dock(self, name: str, title: str, widget: QWidget,
              area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

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
        self.export_redacted_action = QAction("Export &Redacted Copy…", self)
        self.export_redacted_action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.export_redacted_action.triggered.connect(self._on_export_redacted_triggered)
        file_menu.addAction(self.export_redacted_action)
        self.report_action = QAction("Export Re&port…", self)
        self.report_action.triggered.connect(self._on_report_triggered)
        file_menu.addAction(self.report_action)
        self.bundle_action = QAction("Create Evidence &Bundle…", self)
        self.bundle_action.triggered.connect(self._on_bundle_triggered)
        file_menu.addAction(self.bundle_action)
        self.verify_action = QAction("&Verify Evidence Bundle…", self)
        self.verify_action.triggered.connect(self._on_verify_triggered)
        file_menu.addAction(self.verify_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        playback = self.player.playback
        play_menu = self.menuBar().addMenu("&Playback")
        self.playback_actions: dict[str, QAction] = {}
        for name, text, keys, slot in (
                ("play", "&Play / Pause", "Space", playback.toggle),
                ("previous_event", "Previous &Event", "Left",
                 lambda: playback.step_event(-1)),
                ("next_event", "&Next Event", "Right", lambda: playback.step_event(1)),
                ("previous_flagged", "Previous &Flagged Event", "Shift+Left",
                 lambda: playback.step_flagged(-1)),
                ("next_flagged", "Next F&lagged Event", "Shift+Right",
                 lambda: playback.step_flagged(1))):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            play_menu.addAction(action)
            self.addAction(action)  # works with the menu bar hidden too
            self.playback_actions[name] = action

        audit_menu = self.menuBar().addMenu("&Audit")
        self.audit_action = QAction("&Run Opt-out Audit", self)
        self.audit_action.setShortcut(QKeySequence("Ctrl+R"))
        self.audit_action.triggered.connect(self.run_audit)
        audit_menu.addAction(self.audit_action)
        self.custody_action = QAction("Custody &Log", self)
        self.custody_action.triggered.connect(self.show_custody_log)
        audit_menu.addAction(self.custody_action)

        view_menu = self.menuBar().addMenu("&View")
        views = QActionGroup(self)
        for index, text in enumerate(("&Wireframe", "&Page (WebEngine)")):
            action = QAction(text, self)
            action.setCheckable(True)
            action.setData(index)
            action.triggered.connect(self._on_view_action_triggered)
            views.addAction(action)
            view_menu.addAction(action)
        self._view_actions = views
        self.mask_action = QAction("&Mask Personal Data", self)
        self.mask_action.setCheckable(True)
        self.mask_action.setShortcut(QKeySequence("Ctrl+M"))
        self.mask_action.toggled.connect(self.player.set_mask)
        view_menu.addAction(self.mask_action)
        view_menu.addSeparator()
        for dock in (self._sessions_dock, self._inspector_dock, self._findings_dock):
            view_menu.addAction(dock.toggleViewAction())

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self._db_label = QLabel(str(self._store.path), self)
        self._db_label.setToolTip("The database these sessions are stored in")
        self._db_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._db_label.setMinimumWidth(1)  # a long path may be clipped, never widen the window
        self._archive_label = QLabel(self)
        self._archive_label.setObjectName("archive")
        self._archive_label.setToolTip("The archive the open session came from")
        self._archive_label.setMinimumWidth(1)
        self._counts_label = QLabel(self)
        self._counts_label.setObjectName("counts")
        self._audit_label = QLabel(self)
        self._audit_label.setObjectName("audit_status")
        self._progress = QProgressBar(self)
        self._progress.setTextVisible(True)
        self._progress.hide()
        self._cancel_button = QPushButton("Cancel", self)
        self._cancel_button.setObjectName("cancel_import")
        self._cancel_button.clicked.connect(self.cancel_import)
        self._cancel_button.hide()
        for widget in (self._db_label, self._archive_label, self._counts_label,
                       self._audit_label, self._progress, self._cancel_button):
            bar.addPermanentWidget(widget)

    def _connect(self) -> None:
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.sessions_panel.filter_changed.connect(self._on_sessions_panel_filter_changed)
        self.findings_panel.finding_activated.connect(self._on_findings_panel_finding_activated)
        self.findings_panel.instant_activated.connect(self.player.playback.seek)
        self.player.session_loaded.connect(self._on_player_session_loaded)
        self.player.failed.connect(self._on_player_failed)
        self.player.mask_changed.connect(self._on_player_mask_changed)
        self.player.tabs.currentChanged.connect(self._on_player_tabs_current_changed)

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
        if counts.get("imported"):
            self._imported = True
        summary = f"Imported {_count(sessions, 'session')} ({_count(events, 'event')})"
        extra = [f"{n} {status}" for status, n in sorted(counts.items()) if status != "imported"]
        self.statusBar().showMessage(summary + (f"; {', '.join(extra)}" if extra else ""))
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
        if self._closing:
            return
        if self._queued:
            self._start_import(self._queued.pop(0))
            return
        self._progress.hide()
        self._cancel_button.hide()
        self._after_import = True
        self.reload_sessions()

    # -- sessions and audit -------------------------------------------------------------------
    @Slot(object)
    def _on_sessions_lane_finished(self, table: pa.Table) -> None:
        self._sessions = table
        self._loaded_once = True
        self.model.set_table(table)
        self._restore_selection()
        self._update_counts()
        self.sessions_loaded.emit()
        if self._after_import:
            self._after_import = False
            self.import_finished.emit()
        if table.num_rows and (self._imported or self.audit is None):
            self.run_audit()

    @Slot(object)
    def _on_audit_lane_finished(self, audit: AuditResult) -> None:
        self.audit = audit
        self.model.set_flags(flag_counts(audit))
        self._restore_selection()
        self.findings_panel.set_audit(audit)
        self.player.set_audit(audit)
        self._update_counts()
        self.audit_finished.emit()

    @Slot(bool)
    def _on_audit_lane_busy_changed(self, busy: bool) -> None:
        self._audit_label.setText("Auditing…" if busy else "")

    @Slot(str)
    def _on_lane_failed(self, message: str) -> None:
        self.statusBar().showMessage(message)
        self._show_error("A background task failed", message)

    def _update_counts(self) -> None:
        table = self._sessions
        if table.num_rows == 0:
            self._counts_label.setText("no sessions yet: drop recordings here")
            return
        events = pc.sum(table["events"]).as_py() or 0
        archives = pc.count_distinct(table["archive_id"]).as_py()
        text = (f"{_count(table.num_rows, 'session')} · {_count(events, 'event')} · "
                f"{_count(archives, 'archive')}")
        if self.audit is not None:
            text += f" · {self.audit.flagged_sessions:,} flagged"
        self._counts_label.setText(text)

    # -- selection ----------------------------------------------------------------------------
    @Slot(QModelIndex, QModelIndex)
    def _on_table_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        key = self.model.key(current.row()) if current.isValid() else None
        if key is None:
            return
        session = SessionKey(*key)
        if session != self.player.key:
            self.player.open_session(session)

    def _restore_selection(self) -> None:
        key = self.player.key
        if key is not None:
            self._select_row_of(key)

    def _select_row_of(self, key: SessionKey) -> None:
        row = self.model.row_of(key.archive_id, key.session_id)
        if row is None:
            return
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    @Slot(str, bool)
    def _on_sessions_panel_filter_changed(self, text: str, only_findings: bool) -> None:
        self.model.set_filter(text, only_findings)
        self._restore_selection()

    @Slot(object, object)
    def _on_findings_panel_finding_activated(self, key: SessionKey, at: int) -> None:
        self.show_session(key, at if at >= 0 else None)

    @Slot(object)
    def _on_player_session_loaded(self, data: SessionData) -> None:
        self.findings_panel.set_logs(data.console, data.network)
        table = self._sessions
        if table.num_rows and "archive_path" in table.column_names:
            hits = table.filter(pc.equal(table["archive_id"], data.key.archive_id))
            path = hits["archive_path"][0].as_py() if hits.num_rows else ""
            self._archive_label.setText(Path(path).name if path else "")
            self._archive_label.setToolTip(path)

    @Slot(str)
    def _on_player_failed(self, message: str) -> None:
        self.statusBar().showMessage(message)

    @Slot(bool)
    def _on_player_mask_changed(self, mask: bool) -> None:
        self.mask_action.setChecked(mask)
        self.findings_panel.set_mask(mask)

    @Slot(int)
    def _on_player_tabs_current_changed(self, index: int) -> None:
        for action in self._view_actions.actions():
            action.setChecked(action.data() == index)

    @Slot()
    def _on_view_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.player.tabs.setCurrentIndex(int(action.data()))

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

    @Slot()
    def _on_export_redacted_triggered(self) -> None:
        sources = self.archive_paths()
        if not sources:
            self._show_error("There is nothing to export yet",
                             "Open a recording first: a replay archive, or an rrweb or PostHog "
                             "file.")
            return
        current = None
        key = self.player.key
        if key is not None:
            table = self._sessions
            hits = table.filter(pc.equal(table["archive_id"], key.archive_id))
            current = Path(hits["archive_path"][0].as_py()) if hits.num_rows else None
        dialog = RedactDialog(sources, current, self)
        if dialog.exec() == RedactDialog.DialogCode.Accepted:
            self.export_redacted(dialog.options())

    @Slot()
    def _on_report_triggered(self) -> None:
        if self.audit is None:
            self._show_error("There is no audit to report yet", "Open a recording first.")
            return
        dialog = PathsDialog("Export Report", [
            PathField("out", "Report:", "save", "PDF (*.pdf);;HTML (*.html)",
                      default=str(Path(self._settings.last_directory or Path.home())
                                  / "opt-out-audit.pdf"))],
            note="The audit of everything loaded: inputs, method, each person recorded after "
                 "opting out, aggregates and limitations. Personal data appears only as kinds "
                 "and counts. A .pdf or an .html file.", action="Export", parent=self)
        if dialog.exec() == PathsDialog.DialogCode.Accepted:
            self.export_report(dialog.value("out"))

    @Slot()
    def _on_bundle_triggered(self) -> None:
        if not self.archive_paths():
            self._show_error("There is nothing to bundle yet", "Open a recording first.")
            return
        dialog = PathsDialog("Create Evidence Bundle", [
            PathField("out", "Bundle:", "save", "Zip files (*.zip)",
                      default=str(Path(self._settings.last_directory or Path.home())
                                  / "evidence-bundle.zip")),
            PathField("sign_key", "Sign with key:", "open", required=False,
                      placeholder="none: unsigned (inspector keygen FILE makes a key)")],
            note="The recordings loaded, untouched, with the consent and identity files, the "
                 "findings, the report and the custody log, as a BagIt package.",
            action="Create", tolerance=True, force=True, parent=self)
        if dialog.exec() == PathsDialog.DialogCode.Accepted:
            self.make_bundle(dialog.value("out"), sign_key=dialog.value("sign_key"),
                             tolerance_ms=dialog.tolerance_ms, force=dialog.replace)

    @Slot()
    def _on_verify_triggered(self) -> None:
        dialog = PathsDialog("Verify Evidence Bundle", [
            PathField("bundle", "Bundle:", "open", "Zip files (*.zip);;All files (*)"),
            PathField("public_key", "Signed by (public key):", "open", required=False,
                      placeholder="any: check the signature against the key inside")],
            note="Every file's hash, the signature and the custody log are checked, and the "
                 "audit is run again on the bundled recordings.", action="Verify", parent=self)
        if dialog.exec() == PathsDialog.DialogCode.Accepted:
            self.verify_bundle(dialog.value("bundle"), dialog.value("public_key"))

    # -- tasks --------------------------------------------------------------------------------
    @Slot(object)
    def _on_task_finished(self, result: object) -> None:
        title = self._task.title if self._task is not None else ""
        text = result.as_text() if hasattr(result, "as_text") else str(result)
        self.statusBar().showMessage(f"{title}: done")
        box = QMessageBox(QMessageBox.Icon.Information, APPLICATION, f"{title}: done",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("task_result")
        lines = text.rstrip("\n").splitlines()
        if len(lines) > 12:  # the whole text one click away, the verdict (last line) in view
            box.setInformativeText(lines[-1])
            box.setDetailedText(text)
        else:
            box.setInformativeText(text)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.task_finished.emit(title, result)

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        task = self._task
        title = task.title if task is not None else "The export"
        self.statusBar().showMessage(f"{title} failed")
        writes = task is None or bool(task.property("writes"))
        self._show_error(f"{title} failed" + ("; nothing was written" if writes else ""),
                         message)

    @Slot()
    def _on_task_cancelled(self) -> None:
        title = self._task.title if self._task is not None else "The export"
        self.statusBar().showMessage(f"{title} cancelled; nothing was written")

    @Slot()
    def _on_task_done(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.deleteLater()
        self.task_ended.emit()

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

