"""Fixtures for the Qt shell: a configured application, private settings, a window on a real
database file in tmp_path, and the sample archive imported once per test module."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt

from inspector.core.audit import run_audit
from inspector.core.importer import import_paths
from inspector.core.store import Store
from inspector.ui.app import configure_application
from inspector.ui.main_window import MainWindow
from inspector.ui.page_view import prepare_chromium
from inspector.ui.settings import Settings

from .support import RRWEB, SAMPLE, SHARED

# What Qt WebEngine needs before the application exists (pytest-qt makes it later): shared GL
# contexts, and --no-sandbox when the tests run as root.
prepare_chromium()
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


@pytest.fixture(scope="session", autouse=True)
def _configured_app(qapp):
    configure_application(qapp)
    return qapp


@pytest.fixture(autouse=True)
def settings_dir(tmp_path_factory) -> Path:
    """Every test gets its own settings files, never the developer's."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "ui.duckdb") as opened:
        yield opened


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    """The sample archive imported once for the whole module; tests must only read it."""
    with Store(tmp_path_factory.mktemp("sample") / "sample.duckdb") as opened:
        import_paths(opened, [SAMPLE])
        yield opened


@pytest.fixture(scope="module")
def sample_audit(sample_store):
    return run_audit(sample_store)


@pytest.fixture
def make_window(qtbot, request):
    """Build main windows (on ``store``, or on the store given); each is closed (saving its
    settings) after the test."""
    made: list[MainWindow] = []

    def make(on: Store | None = None) -> MainWindow:
        window = MainWindow(on if on is not None else request.getfixturevalue("store"),
                            Settings())
        qtbot.addWidget(window)
        made.append(window)
        window.show()
        return window

    yield make
    for window in made:
        window.close()  # waits for a running import, as quitting does


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


@pytest.fixture
def fixture_zip(tmp_path) -> Path:
    """A zip of two real recordings, as someone would mail them."""
    path = tmp_path / "two-recordings.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("posthog-local-docs.json", "rrweb-player-demoit.json"):
            archive.write(RRWEB / name, arcname=f"exports/{name}")
    return path


@pytest.fixture(scope="session")
def big_recording(tmp_path_factory) -> Path:
    """200,000 synthetic events: an import that takes seconds, long enough to cancel."""
    out = tmp_path_factory.mktemp("big") / "synth-200k.json"
    subprocess.run([sys.executable, str(SHARED / "tools" / "gen_session.py"), "--events",
                    "200000", "--seed", "7", "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out

