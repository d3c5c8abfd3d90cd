"""Background work for the window: one :class:`Lane` per kind of job, newest request wins.

Qt only schedules: a job is a plain function run as a ``QRunnable`` on the global thread pool,
its outcome comes back as queued signals on a companion ``QObject``. A lane runs one job at a
time, so a job may use state that only its lane touches (a replay session, a DuckDB cursor).
Submitting while a job runs keeps only the newest request: the older pending one is dropped,
and the running one is cancelled through its :class:`~inspector.core.cancel.CancelToken`
(lanes whose jobs are quick let it finish instead). Results of anything but the newest request
are never delivered, which is what disconnecting a superseded load amounts to.

A job that reads the database gets a cursor of its own, made on the UI thread when the job is
submitted (the thread that owns the store's connection) and closed when it ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from inspector.core.cancel import CancelToken
from inspector.core.errors import Cancelled, InspectorError
from inspector.core.store import Store

log = logging.getLogger(__name__)

#: At least this many pool threads: an import, an audit and a session load may all be running
#: while the player still needs a thread for frames.
MIN_POOL_THREADS = 6

Job = Callable[..., Any]  # fn(token) or, with a database, fn(con, token)


def signal_outcome(call: Callable[[], Any], token: CancelToken, name: str, *,
                   finished: Callable[[Any], Any], failed: Callable[[str], Any],
                   cancelled: Callable[[], Any]) -> None:
    """Run ``call`` on a worker thread and signal how it ended: ``finished(result)``,
    ``cancelled()`` or ``failed(one line)``. Errors a person can act on come back as their
    message; a bug as one line, its traceback logged; whatever a cancelled job raises counts
    as cancelled."""
    try:
        result = call()
    except Cancelled:
        cancelled()
    except InspectorError as exc:
        failed(str(exc))
    except Exception as exc:
        if token.cancelled:
            cancelled()
        else:
            log.exception("background job %s failed", name)
            failed(f"internal error: {type(exc).__name__}: {exc}")
    else:
        finished(result)


def ensure_pool_threads(minimum: int = MIN_POOL_THREADS) -> None:
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < minimum:
        pool.setMaxThreadCount(minimum)


class _LaneSignals(QObject):
    finished = Signal(int, object)  # generation, result
    failed = Signal(int, str)
    cancelled = Signal(int)
    done = Signal(int)  # always last


class _Runnable(QRunnable):
    def __init__(self, generation: int, job: Job, con: Any, signals: _LaneSignals,
                 name: str) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.generation = generation
        self.token = CancelToken()
        self._job = job
        self._con = con
        self._signals = signals
        self._name = name
        self.ended = threading.Event()

    def run(self) -> None:
        def call() -> Any:
            self.token.check()
            return (self._job(self.token) if self._con is None
                    else self._job(self._con, self.token))

        try:
            signals, generation = self._signals, self.generation
            signal_outcome(call, self.token, self._name,
                           finished=lambda value: signals.finished.emit(generation, value),
                           failed=lambda message: signals.failed.emit(generation, message),
                           cancelled=lambda: signals.cancelled.emit(generation))
        finally:
            if self._con is not None:
                self._con.close()
            self.ended.set()
            self._signals.done.emit(self.generation)


class Lane(QObject):
    """Jobs of one kind, one at a time, the newest request winning."""

    finished = Signal(object)  # the result of the newest request
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, name: str, store: Store | None = None, *, cancel_running: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._store = store
        self._cancel_running = cancel_running
        self._generation = 0
        self._running: _Runnable | None = None
        self._pending: tuple[int, Job, bool] | None = None
        self._signals = _LaneSignals(self)
        self._signals.finished.connect(self._on_job_finished)
        self._signals.failed.connect(self._on_job_failed)
        self._signals.done.connect(self._on_job_done)

    @property
    def busy(self) -> bool:
        """A job runs or waits, or a result is still on its way to the UI thread."""
        return self._running is not None or self._pending is not None

    def submit(self, job: Job, *, needs_db: bool = False) -> None:
        """Run ``job`` (``job(token)``, or ``job(con, token)`` when it ``needs_db``)."""
        was_busy = self.busy
        self._generation += 1
        request = (self._generation, job, needs_db)
        if self._running is not None:
            self._pending = request
            if self._cancel_running:
                self._running.token.cancel()
        else:
            self._start(request)
        if not was_busy:
            self.busy_changed.emit(True)

    def cancel(self) -> None:
        """Forget the pending request, stop the running one; nothing more is delivered."""
        self._generation += 1
        self._pending = None
        if self._running is not None:
            self._running.token.cancel()

    def shutdown(self) -> None:
        """Cancel, then wait for the running job to return (for closing the window)."""
        self.cancel()
        running = self._running
        if running is not None:
            running.ended.wait()

    def _start(self, request: tuple[int, Job, bool]) -> None:
        generation, job, needs_db = request
        con = None
        if needs_db:
            if self._store is None:
                raise ValueError(f"lane {self.name} has no store")
            con = self._store.cursor()
        runnable = _Runnable(generation, job, con, self._signals, self.name)
        self._running = runnable  # the strong reference the runnable needs until it ends
        QThreadPool.globalInstance().start(runnable)

    @Slot(int, object)
    def _on_job_finished(self, generation: int, result: object) -> None:
        if generation == self._generation:
            self.finished.emit(result)

    @Slot(int, str)
    def _on_job_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.failed.emit(message)

    @Slot(int)
    def _on_job_done(self, generation: int) -> None:
        if self._running is not None and self._running.generation == generation:
            self._running = None
        if self._pending is not None:
            request, self._pending = self._pending, None
            self._start(request)
        elif self._running is None:
            self.busy_changed.emit(False)
