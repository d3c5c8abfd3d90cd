"""Guard against PySide6 6.12.0 on CPython 3.11, which drops a reference to None on every Qt call
that returns nothing; after a few thousand calls None is freed and the process aborts with
``Fatal Python error: none_dealloc``. CPython 3.12+ makes None immortal, so only 3.11 can tell.

The calls run in a child process so that the abort shows as a failed test, not a dead run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CALLS_PER_KIND = 30_000

CHILD = textwrap.dedent("""
    import sys

    from PySide6.QtGui import QImage, QPainter, QPen
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication([])
    label = QLabel()
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    pens = [QPen(), QPen()]
    pens[1].setWidth(3)

    def calls(n):
        for i in range(n):
            label.setText("row")  # QLabel.setText: void
            painter.drawLine(0, 0, i & 63, 63)  # QPainter.drawLine: void
            painter.setPen(pens[i & 1])  # QPainter.setPen on a QImage: void

    calls(100)  # first calls create caches that hold None for good
    before = sys.getrefcount(None)
    calls(int(sys.argv[1]))
    after = sys.getrefcount(None)
    painter.end()
    print(before, after)
""")


def test_void_qt_calls_do_not_lose_references_to_none():
    done = subprocess.run([sys.executable, "-c", CHILD, str(CALLS_PER_KIND)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    before, after = map(int, done.stdout.split())
    assert after >= before, (
        f"{before - after} references to None lost in {3 * CALLS_PER_KIND} void Qt calls: "
        f"this PySide6 has the 6.12.0 refcount bug (pin PySide6<6.12 on Python 3.11)")
