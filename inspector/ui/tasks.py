"""One long export at a time (redacted copy, report, evidence bundle, verification), with a
progress dialog and Cancel.

Unlike the lanes of :mod:`.workers`, where the newest request wins, an export is something the
user asked for by name and waits for: it runs to its end unless they press Cancel. The work is
a core function called as ``job(con, progress, token)``: ``con`` a cursor of the app's database
made on the UI thread, ``progress(fraction, text)`` callable from the worker thread, ``token``
the :class:`~inspector.core.cancel.CancelToken` that Cancel sets. Qt only schedules it; the
outcome comes back as queued signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from inspector.core.cancel import CancelToken
from inspector.core.store import Store

from .workers import signal_outcome

Progress = Callable[[float, str], None]
TaskJob = Callable[[Any, Progress, CancelToken], Any]


class _TaskSignals(QObject):
    progress_changed = Signal(float, str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # always last


class _TaskRunnable(QRunnable):
    def __init__(self, job: TaskJob, con: Any, signals: _TaskSignals, name: str) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.token = CancelToken()
        self.ended = threading.Event()
        self._job = job
        self._con = con
        self._signals = signals
        self._name = name

    def run(self) -> None:
        try:
            signal_outcome(
                lambda: self._job(self._con, self._signals.progress_changed.emit, self.token),
                self.token, self._name, finished=self._signals.finished.emit,
                failed=self._signals.failed.emit, cancelled=self._signals.cancelled.emit)
        finally:
            self._con.close()
            self.ended.set()
            self._signals.done.emit()


class Task(QObject):
    """A running export. Keep it until ``done``; its dialog closes by itself."""

    finished = Signal(object)  # the job's result
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # whatever happened, after the three above

    def __init__(self, store: Store, title: str, job: TaskJob,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._signals = _TaskSignals(self)
        self._signals.progress_changed.connect(self._on_runnable_progress_changed)
        self._signals.finished.connect(self.finished)
        self._signals.failed.connect(self.failed)
        self._signals.cancelled.connect(self.cancelled)
        self._signals.done.connect(self._on_runnable_done)
        self._runnable = _TaskRunnable(job, store.cursor(), self._signals, title)
        self.dialog = QProgressDialog(f"{title}…", "Cancel", 0, 1000, parent)
        self.dialog.setObjectName("task_progress")
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(300)
        self.dialog.canceled.connect(self.cancel)

    @property
    def running(self) -> bool:
        return not self._runnable.ended.is_set()

    def start(self) -> None:
        self.dialog.setValue(0)
        QThreadPool.globalInstance().start(self._runnable)

    @Slot()
    def cancel(self) -> None:
        self._runnable.token.cancel()
        self.dialog.setLabelText("Cancelling…")

    def wait(self) -> None:
        """Block until the job has returned (the window is closing)."""
        self._runnable.ended.wait()

    @Slot(float, str)
    def _on_runnable_progress_changed(self, fraction: float, text: str) -> None:
        if self._runnable.token.cancelled:
            return
        self.dialog.setValue(round(1000 * min(max(fraction, 0.0), 1.0)))
        if text:
            self.dialog.setLabelText(text)

    @Slot()
    def _on_runnable_done(self) -> None:
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.close()
        self.dialog.deleteLater()
        self.done.emit()
