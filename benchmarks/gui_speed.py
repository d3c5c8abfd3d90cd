"""GUI speed (issue 4): seeking in a long session, repainting a huge timeline, cold start.

Everything runs offscreen, in the real widgets, against targets the issue sets:

- **seek**: a one-hour session of 100k events (gen_session.py) imported and open in the
  window; the playhead is moved to random instants and each seek is timed from the request
  until the canvas has painted the frame of that instant (worker seek + layout + drawing + the
  canvas update). Target: 95th percentile <= 50 ms.
- **timeline**: the timeline of a 1M-event session (its events, kinds and inactivity read with
  the app's own query) repainted at the window's width: with the bins of the visible range
  cached (the playhead moved) and with new bins (zoomed or panned each time). Target: <= 16 ms
  at the 95th percentile, both.
- **cold start**: a new process, from launch until the main window is shown on an empty
  database; printed, no target.

    python benchmarks/gui_speed.py [--seeks N] [--repaints N] [--skip-1m]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _common import ROOT, synthetic_json

sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from inspector.core.importer import import_paths
from inspector.core.store import Store
from inspector.ui.app import configure_application, make_application
from inspector.ui.main_window import MainWindow
from inspector.ui.session_data import SessionKey, load_timeline
from inspector.ui.settings import Settings
from inspector.ui.timeline import TimelineWidget

SEEK_TARGET_MS = 50.0
REPAINT_TARGET_MS = 16.0
WINDOW = (1440, 900)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(name: str, values: list[float], target: float | None) -> None:
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    line = f"{name:<42} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   max {max(values):7.2f} ms"
    if target is not None:
        verdict = "ok" if p95 <= target else "OVER"
        line += f"   target p95 <= {target:g} ms: {p95 / target:5.2f}x {verdict}"
    print(line, flush=True)


def wait_until(app: QApplication, condition, timeout_s: float = 600.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            sys.exit("benchmark: timed out waiting for the window")
        app.processEvents()
        time.sleep(0.0005)


def only_session(store: Store) -> SessionKey:
    con = store.cursor()
    try:
        (archive_id, session_id), = con.execute(
            "SELECT archive_id, session_id FROM sessions").fetchall()
    finally:
        con.close()
    return SessionKey(archive_id, session_id)


def bench_seek(app: QApplication, folder: Path, seeks: int) -> None:
    recording = synthetic_json(100_000, seed=1)
    store = Store(folder / "seek.duckdb")
    import_paths(store, [recording])
    key = only_session(store)
    settings = Settings(QSettings(str(folder / "seek.ini"), QSettings.Format.IniFormat))
    window = MainWindow(store, settings)
    window.resize(*WINDOW)
    window.show()
    wait_until(app, window.settled_loading)
    started = time.perf_counter()
    window.show_session(key)
    wait_until(app, window.settled)
    print(f"opening the 100k-event session (engine, timeline, overlay): "
          f"{time.perf_counter() - started:.2f} s", flush=True)
    player = window.player
    timeline = player.playback.timeline
    painted: list[int] = []
    player.canvas.frame_painted.connect(painted.append)
    rng = random.Random(4)
    times = []
    for _ in range(seeks):
        at = rng.randrange(timeline.start, timeline.end)
        painted.clear()
        begin = time.perf_counter()
        player.playback.seek(at)
        wait_until(app, lambda at=at: at in painted)
        times.append((time.perf_counter() - begin) * 1000)
    report(f"seek, 100k events / 1 h, {seeks} random instants", times, SEEK_TARGET_MS)
    window.close()
    store.close()


def bench_timeline(app: QApplication, folder: Path, repaints: int) -> None:
    recording = synthetic_json(1_000_000, seed=1)
    store = Store(folder / "timeline.duckdb")
    started = time.perf_counter()
    import_paths(store, [recording])
    print(f"importing 1M events: {time.perf_counter() - started:.1f} s", flush=True)
    con = store.cursor()
    started = time.perf_counter()
    timeline = load_timeline(con, only_session(store), None)
    con.close()
    print(f"reading the timeline of 1M events: {time.perf_counter() - started:.2f} s "
          f"({len(timeline.times):,} events)", flush=True)
    widget = TimelineWidget()
    widget.resize(WINDOW[0] - 480, widget.sizeHint().height())
    widget.show()
    widget.set_timeline(timeline)
    app.processEvents()
    rng = random.Random(5)
    cached, fresh = [], []
    for _ in range(repaints):
        widget.set_position(rng.randrange(timeline.start, timeline.end))
        begin = time.perf_counter()
        widget.repaint()
        cached.append((time.perf_counter() - begin) * 1000)
    span = timeline.end - timeline.start
    for index in range(repaints):
        width = span / (1.5 ** (index % 12))
        t0 = timeline.start + rng.random() * (span - width)
        widget.set_view(t0, t0 + width)
        begin = time.perf_counter()
        widget.repaint()
        fresh.append((time.perf_counter() - begin) * 1000)
    report("timeline repaint, 1M events, playhead moved", cached, REPAINT_TARGET_MS)
    report("timeline repaint, 1M events, new zoom/pan", fresh, REPAINT_TARGET_MS)
    widget.close()
    store.close()


_COLD_START = """
import sys, tempfile
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from inspector.core.store import Store
from inspector.ui.app import configure_application, make_application
from inspector.ui.main_window import MainWindow
from inspector.ui.settings import Settings
app = make_application()
configure_application(app)
folder = Path(tempfile.mkdtemp())
store = Store(folder / "empty.duckdb")
window = MainWindow(store, Settings(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat)))
window.show()
def shown():
    print("shown", flush=True)
    window.close()
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
store.close()
"""


def bench_cold_start(runs: int = 3) -> None:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _COLD_START], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        line = child.stdout.readline()
        elapsed = time.perf_counter() - begin
        child.wait()
        if line.strip() != "shown":
            sys.exit("benchmark: the window was not shown")
        times.append(elapsed * 1000)
    report(f"cold start to the window shown ({runs} runs)", times, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--repaints", type=int, default=100)
    parser.add_argument("--skip-1m", action="store_true",
                        help="skip the 1M-event timeline (its import takes a while)")
    args = parser.parse_args()
    app = make_application()
    configure_application(app)
    with tempfile.TemporaryDirectory(prefix="gui-speed-") as scratch:
        folder = Path(scratch)
        bench_cold_start()
        bench_seek(app, folder, args.seeks)
        if not args.skip_1m:
            bench_timeline(app, folder, args.repaints)
    return 0


if __name__ == "__main__":
    sys.exit(main())
