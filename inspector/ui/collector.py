"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed, and
a worker (an import, a session load) allocates the most. A collection there can free a cycle
holding Qt objects (a closed window, a dialog, the lambdas connected to them), and a QObject
destroyed outside its thread crashes the process later (seen: a segmentation fault entering a
slot, in the test suite). So the app turns automatic collection off and collects from a timer
on the GUI thread, by the same thresholds Python would use. Core code that pauses collection
around large loads (:mod:`inspector.core.gcpause`) then leaves it off and collects nothing
itself.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return


def install(app: QObject) -> GuiThreadCollector:
    """Once per application: later calls return the collector already installed."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
