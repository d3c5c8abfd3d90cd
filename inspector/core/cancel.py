"""Cancellation shared between a long core operation and whoever started it (CLI, app, test).

The operation calls :meth:`CancelToken.check` between batches; a statement running inside
DuckDB is stopped through the interrupt callbacks registered while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import Cancelled


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._interrupts: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            callbacks = list(self._interrupts)
        for callback in callbacks:
            callback()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Register ``callback`` (e.g. a DuckDB interrupt); returns a function removing it."""
        with self._lock:
            self._interrupts.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._interrupts:
                    self._interrupts.remove(callback)

        return remove
