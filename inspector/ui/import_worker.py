"""Runs :func:`inspector.core.importer.import_paths` on the global thread pool.

Qt only schedules the import: the core function does the work, checks the cancel token between
batches and reports progress through a callback, which is turned into a queued signal here.
The signals live on a companion ``QObject`` because a ``QRunnable`` cannot have any. The import
writes through its own cursor, never through the connection the UI thread reads with.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from inspector.core.cancel import CancelToken
from inspector.core.importer import ImportProgress, import_paths
from inspector.core.store import Store

from .workers import signal_outcome


class ImportSignals(QObject):
    progress_changed = Signal(object)  # ImportProgress
    imported = Signal(object)  # the ImportReport
    cancelled = Signal()
    failed = Signal(str)  # one line a person can act on
    finished = Signal()  # always last, whatever happened


class ImportWorker(QRunnable):
    """One call of ``import_paths``. Keep a reference to it until ``signals.finished``."""

    def __init__(self, store: Store, paths: Sequence[Path]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = ImportSignals()
        self.paths = list(paths)
        self.token = CancelToken()
        self._con = store.cursor()  # made here, on the thread that owns the store's connection
        self._done = threading.Event()

    def cancel(self) -> None:
        self.token.cancel()

    def wait(self) -> None:
        """Block until :meth:`run` has returned (for quitting; it rolls back when cancelled)."""
        self._done.wait()

    def run(self) -> None:
        try:
            signal_outcome(
                lambda: import_paths(self._con, self.paths, progress=self._on_progress,
                                     cancel=self.token),
                self.token, f"import of {self.paths}", finished=self.signals.imported.emit,
                failed=self.signals.failed.emit, cancelled=self.signals.cancelled.emit)
        finally:
            self._con.close()
            self._done.set()
            self.signals.finished.emit()

    def _on_progress(self, progress: ImportProgress) -> None:
        self.signals.progress_changed.emit(progress)
