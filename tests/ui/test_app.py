"""The whole app: a real archive dropped anywhere, screenshot mode, palettes, restored layout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QApplication, QProgressBar

from inspector.ui.app import SCREENSHOT_SIZE, run
from inspector.ui.sessions_model import COLUMNS
from inspector.ui.settings import Settings
from inspector.ui.theme import apply_color_scheme, is_dark

from .support import REPO, SAMPLE, drag_enter, drop, expected_sessions, mime_with, painted_fraction

EXPECTED = expected_sessions()
NAMES = [name for _, name in COLUMNS]


def test_dropping_the_sample_archive_on_the_canvas_lists_and_flags_its_sessions(qtbot, window):
    target = window.player.canvas
    progress = window.findChild(QProgressBar)
    mime = mime_with([QUrl.fromLocalFile(str(SAMPLE))])
    with qtbot.waitSignal(window.audit_finished, timeout=120_000):
        assert drag_enter(target, mime, flag_before=False)  # as a real drag: enter, then drop
        assert drop(target, mime, flag_before=False)
        assert progress.isVisible()  # the import runs in the background, the window paints
        QApplication.processEvents()
    model = window.model
    ids = [model.index(r, NAMES.index("session_id")).data() for r in range(model.rowCount())]
    flagged = [model.index(r, NAMES.index("flagged")).data() for r in range(model.rowCount())]
    assert sorted(ids) == sorted(s["session_id"] for s in EXPECTED.values())
    assert dict(zip(ids, flagged, strict=True)) == {
        s["session_id"]: f"{len(s['flagged_seqs']):,}" for s in EXPECTED.values()}
    assert "6 flagged" in window.findChild(type(window.player.bar.clock), "counts").text()


def test_screenshot_mode_saves_a_replay_of_the_first_flagged_session(qtbot, tmp_path):
    out = tmp_path / "shot.png"
    assert run([str(SAMPLE)], None, screenshot=str(out)) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    background = image.pixelColor(2, image.height() // 2)
    assert painted_fraction(image, background) > 0.2
    assert image.pixelColor(image.width() // 2, image.height() // 3) != background


def test_screenshot_mode_refuses_an_unknown_session(qtbot, tmp_path, capsys):
    out = tmp_path / "none.png"
    assert run([str(SAMPLE)], None, screenshot=str(out), session="no-such-session") == 2
    assert not out.exists()
    assert "no session 'no-such-session'" in capsys.readouterr().err


def test_the_screenshot_command_runs_offscreen_with_a_session_and_an_instant(tmp_path):
    out = tmp_path / "cli.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "--screenshot", str(out), "--session",
         EXPECTED["frank-1"]["session_id"], "--at", "60000", "--db", str(tmp_path / "c.duckdb"),
         str(SAMPLE)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert QImage(str(out)).width() == SCREENSHOT_SIZE[0]


@pytest.fixture
def restore_palette(qapp):
    yield
    apply_color_scheme(qapp, Qt.ColorScheme.Light)


def test_a_dark_system_scheme_gives_dark_palettes_and_back(qtbot, qapp, make_window,
                                                           sample_store, restore_palette):
    window = make_window(sample_store)
    assert not is_dark(qapp.palette())
    light = window.player.timeline.grab().toImage().pixelColor(5, 60)
    apply_color_scheme(qapp, Qt.ColorScheme.Dark)
    assert is_dark(qapp.palette())
    assert is_dark(window.player.canvas.palette())
    dark = window.player.timeline.grab().toImage().pixelColor(5, 60)
    assert dark.lightness() < 100 < light.lightness()
    apply_color_scheme(qapp, Qt.ColorScheme.Light)
    assert not is_dark(qapp.palette())
    assert window.player.canvas.palette().color(QPalette.ColorRole.Base).lightness() > 128


def test_the_layout_and_player_settings_are_restored(qtbot, make_window, sample_store):
    window = make_window(sample_store)
    window.findChild(type(window._findings_dock), "findings_dock").hide()
    window.player.bar.mask.setChecked(True)
    window.player.bar.speed.setCurrentIndex(4)
    window.player.bar.skip.setChecked(False)
    window.close()
    assert Settings().mask_personal_data

    again = make_window(sample_store)
    assert not again.findChild(type(again._findings_dock), "findings_dock").isVisible()
    assert again.player.mask and again.mask_action.isChecked()
    assert again.player.playback.speed == 8.0
    assert not again.player.playback.skip_inactive


def test_cycles_are_collected_on_the_gui_thread_only(qtbot):
    import gc
    import threading

    assert not gc.isenabled()  # no collection in whichever thread allocates
    freed: list[bool] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed.append(threading.current_thread() is threading.main_thread())

    def allocate_in_a_worker() -> None:
        for _ in range(5):
            Cycle()
        kept.extend([] for _ in range(5_000))  # far past the first threshold

    kept: list = []
    worker = threading.Thread(target=allocate_in_a_worker)
    worker.start()
    worker.join()
    assert freed == []
    qtbot.waitUntil(lambda: len(freed) == 5, timeout=10_000)
    assert all(freed)
