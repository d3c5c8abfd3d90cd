"""Shared test set-up: Qt draws offscreen, and no test may leave a worker thread running."""

from __future__ import annotations

import os
import sys

import pytest

# Before anything imports Qt: no display on CI, and a developer's screen stays untouched.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

GRACE_MS = 1000


@pytest.fixture(autouse=True)
def _private_user_folders(tmp_path_factory, monkeypatch):
    """Tests never touch the user's real database, settings or recent files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@pytest.fixture(autouse=True)
def _no_threads_left_running():
    """Fail a test that returns while a runnable is still busy on Qt's global thread pool."""
    yield
    if "PySide6.QtCore" not in sys.modules:  # core tests never load Qt
        return
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    # A worker that has just emitted its last signal is still returning from run(): allow it
    # that moment, not the seconds real work would take.
    if not pool.waitForDone(GRACE_MS):
        busy = pool.activeThreadCount()
        pool.waitForDone()  # so the next test starts clean
        pytest.fail(f"the test left {busy} thread(s) running in QThreadPool")
