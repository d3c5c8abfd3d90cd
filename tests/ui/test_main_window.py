"""The main window driven as a person would: drops, the Open Recent menu, Cancel, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QSize, Qt, QTimer, QUrl
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMessageBox,
    QProgressBar,
    QPushButton,
)

from inspector.core.importer import import_paths
from inspector.core.store import Store
from inspector.ui.app import run
from inspector.ui.main_window import MainWindow, droppable_paths
from inspector.ui.sessions_model import COLUMNS
from inspector.ui.settings import MAX_RECENT, Settings

from .support import RRWEB, drag_enter, drop, mime_with, table_counts

SESSION = [name for _, name in COLUMNS].index("session_id")
EVENTS = [name for _, name in COLUMNS].index("events")


def shown_sessions(window: MainWindow) -> list[str]:
    model = window.model
    return [model.index(row, SESSION).data() for row in range(model.rowCount())]


def sessions_in(db: Path) -> list[str]:
    with Store(db, read_only=True) as other:
        return other.sessions().column("session_id").to_pylist()


def core_import(paths: list[Path], db: Path) -> list[str]:
    """What the core alone makes of ``paths``: the session ids, in the store's order."""
    with Store(db) as other:
        import_paths(other, paths)
    return sessions_in(db)


def error_boxes(window: MainWindow) -> list[QMessageBox]:
    return [box for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_dropping_a_zip_lists_its_sessions(qtbot, window, fixture_zip, tmp_path):
    expected = core_import([fixture_zip], tmp_path / "reference.duckdb")
    assert len(expected) == 2

    mime = mime_with([QUrl.fromLocalFile(str(fixture_zip))])
    assert drag_enter(window, mime, flag_before=False)
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        assert drop(window, mime, flag_before=False)

    assert shown_sessions(window) == expected
    assert not error_boxes(window)
    assert Settings().recent_paths[0] == str(fixture_zip)


def test_dropping_a_folder_imports_every_file_in_it(qtbot, window, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("posthog-homepage.json", "posthog-with-pageviews.json"):
        (folder / name).write_bytes((RRWEB / name).read_bytes())
    expected = core_import([folder], tmp_path / "reference.duckdb")

    mime = mime_with([QUrl.fromLocalFile(str(folder))])
    assert drag_enter(window, mime, flag_before=False)
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        assert drop(window, mime, flag_before=False)

    assert sorted(shown_sessions(window)) == sorted(expected)
    assert len(expected) == 2


def refused_mimes(tmp_path: Path) -> dict[str, QMimeData]:
    real = QUrl.fromLocalFile(str(RRWEB / "posthog-local-docs.json"))
    cases = {
        "remote": [QUrl("https://example.com/recording.json")],
        "one-local-one-remote": [real, QUrl("https://example.com/recording.json")],
        "missing-file": [QUrl.fromLocalFile(str(tmp_path / "gone.json"))],
        "no-urls": [],
    }
    mimes = {name: mime_with(urls) for name, urls in cases.items()}
    text_only = QMimeData()
    text_only.setText(str(RRWEB / "posthog-local-docs.json"))
    mimes["text-only"] = text_only
    return mimes


REFUSED = ["remote", "one-local-one-remote", "missing-file", "no-urls", "text-only"]


@pytest.mark.parametrize("case", REFUSED)
def test_a_drag_is_refused_unless_every_url_is_a_readable_local_path(qtbot, window, store,
                                                                       tmp_path, case):
    mime = refused_mimes(tmp_path)[case]
    assert not drag_enter(window, mime, flag_before=True)
    drop(window, mime, flag_before=False)  # what a drop after the refusal would do

    assert not window.importing
    assert table_counts(store)["archives"] == 0
    assert Settings().recent_paths == []


@pytest.mark.parametrize("case", REFUSED)
def test_droppable_paths_refuses_the_same_drops(tmp_path, case):
    assert droppable_paths(refused_mimes(tmp_path)[case]) is None


def test_droppable_paths_accepts_local_files_and_folders(tmp_path):
    files = [RRWEB / "posthog-local-docs.json", tmp_path]
    mime = mime_with([QUrl.fromLocalFile(str(p)) for p in files])
    assert droppable_paths(mime) == files


def test_cancel_during_an_import_leaves_the_database_unchanged(qtbot, window, store,
                                                               big_recording):
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.open_paths([RRWEB / "posthog-local-docs.json"])
    before = table_counts(store)
    assert before["events"] > 0
    shown_before = shown_sessions(window)

    progress = window.findChild(QProgressBar)
    cancel = window.findChild(QPushButton, "cancel_import")
    # A small file first, committed before the big one starts: cancelling must remove it too.
    window.open_paths([RRWEB / "posthog-homepage.json", big_recording])
    qtbot.waitUntil(lambda: progress.maximum() > 0 and cancel.isVisible(), timeout=60_000)
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)

    assert "cancelled" in window.statusBar().currentMessage()
    assert table_counts(store) == before
    assert shown_sessions(window) == shown_before
    assert not progress.isVisible() and not cancel.isVisible()


def test_each_failing_file_is_listed_with_its_message(qtbot, window, tmp_path):
    not_json = tmp_path / "notes.json"
    not_json.write_text("this is not a recording\n")
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    good = RRWEB / "posthog-local-docs.json"
    expected = core_import([good], tmp_path / "reference.duckdb")

    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.open_paths([not_json, good, empty])

    assert shown_sessions(window) == expected
    boxes = error_boxes(window)
    assert len(boxes) == 1
    entries = boxes[0].informativeText().split("\n\n")
    assert len(entries) == 2
    assert str(not_json) in entries[0] and str(empty) in entries[1]
    assert all("\n" not in entry for entry in entries)  # one line each
    assert "Traceback" not in boxes[0].informativeText()
    assert "2 files" in boxes[0].text()
    boxes[0].accept()


def test_a_missing_path_is_reported_not_raised(qtbot, window, tmp_path):
    missing = tmp_path / "nowhere.zip"
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.open_paths([missing])
    boxes = error_boxes(window)
    assert len(boxes) == 1 and str(missing) in boxes[0].informativeText()
    assert Settings().recent_paths == []  # never offered again
    boxes[0].accept()


def test_paths_opened_during_an_import_are_imported_after_it(qtbot, window):
    first, second = RRWEB / "posthog-homepage.json", RRWEB / "posthog-local-docs.json"
    window.open_paths([first])
    window.open_paths([second])
    qtbot.waitUntil(lambda: not window.importing, timeout=60_000)
    assert len(shown_sessions(window)) == 2


def test_open_recent_reopens_a_path_and_survives_a_restart(qtbot, make_window, store):
    window = make_window()
    path = RRWEB / "posthog-local-docs.json"
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        window.open_paths([path])
    window.close()

    again = make_window()
    entries = [a for a in again.recent_menu.actions() if a.data() == str(path)]
    assert len(entries) == 1 and entries[0].isEnabled()
    with qtbot.waitSignal(again.import_finished, timeout=60_000):
        entries[0].trigger()
    assert "1 duplicate" in again.statusBar().currentMessage()
    assert table_counts(store)["archives"] == 1


def test_recent_paths_are_unique_newest_first_and_capped():
    settings = Settings()
    for number in range(MAX_RECENT + 3):
        settings.add_recent(f"/data/{number}.zip")
    settings.add_recent("/data/5.zip")
    settings.sync()
    recent = Settings().recent_paths
    assert recent[0] == "/data/5.zip"
    assert len(recent) == MAX_RECENT == len(set(recent))


def test_geometry_and_sort_order_are_restored(qtbot, make_window):
    window = make_window()
    size = QSize(611, 433)
    window.resize(size)
    window.table.sortByColumn(EVENTS, Qt.SortOrder.DescendingOrder)
    window.close()

    again = make_window()
    assert again.size() == size
    header = again.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == \
        (EVENTS, Qt.SortOrder.DescendingOrder)


def test_run_imports_command_line_paths(qtbot, tmp_path, fixture_zip):
    db = tmp_path / "cli.duckdb"
    expected = core_import([fixture_zip], tmp_path / "reference.duckdb")

    def close_when_done() -> None:
        window = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, MainWindow) and w.isVisible())
        if window.importing:
            window.import_finished.connect(window.close)
        else:
            window.close()

    QTimer.singleShot(0, close_when_done)
    assert run([str(fixture_zip)], str(db)) == 0
    assert sessions_in(db) == expected


def test_quitting_during_an_import_cancels_it(qtbot, window, store, big_recording):
    before = table_counts(store)
    progress = window.findChild(QProgressBar)
    window.open_paths([big_recording])
    qtbot.waitUntil(lambda: progress.maximum() > 0, timeout=60_000)
    window.close()  # returns once the worker has rolled back
    assert table_counts(store) == before


def test_file_open_and_open_folder_import_what_the_dialogs_return(qtbot, window, monkeypatch,
                                                                  tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.json").write_bytes((RRWEB / "posthog-homepage.json").read_bytes())
    picked_file = str(RRWEB / "posthog-local-docs.json")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args: ([picked_file], "Recordings"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(folder))
    actions = {a.text(): a for a in window.menuBar().actions()[0].menu().actions()}

    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        actions["&Open…"].trigger()
    with qtbot.waitSignal(window.import_finished, timeout=60_000):
        actions["Open &Folder…"].trigger()

    assert len(shown_sessions(window)) == 2
    assert Settings().recent_paths == [str(folder), picked_file]


def test_the_readme_sample_archive_opens(qtbot, window, tmp_path):
    sample = Path(__file__).resolve().parents[2] / "sample_data" / "demo-archive.zip"
    expected = core_import([sample], tmp_path / "reference.duckdb")
    with qtbot.waitSignal(window.import_finished, timeout=120_000):
        window.open_paths([sample])
    assert not error_boxes(window)
    assert sorted(shown_sessions(window)) == sorted(expected)
    assert expected
