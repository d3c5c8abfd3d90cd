"""File → Export Redacted Copy… in the window: a background task with progress and Cancel."""

from __future__ import annotations

import zipfile

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from inspector.cli import main
from inspector.core.sources import sha256_file
from inspector.ui.export_dialogs import RedactDialog, suggested_copy

from .support import SAMPLE


@pytest.fixture
def loaded(qtbot, window):
    """The window with the sample archive imported and audited."""
    with qtbot.waitSignal(window.audit_finished, timeout=120_000):
        window.open_paths([SAMPLE])
    return window


def _accept_with(monkeypatch, out, **fields):
    """Stand in for the person filling in the dialog: set the copy's path, press Export."""
    seen: dict = {}

    def exec_(dialog: RedactDialog) -> int:
        seen["sources"] = [dialog.source.itemData(i) for i in range(dialog.source.count())]
        seen["suggested"] = dialog.out.text()
        dialog.out.setText(str(out))
        for name, value in fields.items():
            getattr(dialog, name).setChecked(value)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RedactDialog, "exec", exec_)
    return seen


def _file_action(window, text):
    return next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == text)


def test_the_menu_exports_a_redacted_copy_that_audits_clean(qtbot, loaded, monkeypatch,
                                                           tmp_path, capsys):
    out = tmp_path / "handover.zip"
    seen = _accept_with(monkeypatch, out)
    before = sha256_file(SAMPLE)

    with qtbot.waitSignal(loaded.task_finished, timeout=300_000) as finished:
        _file_action(loaded, "Export &Redacted Copy…").trigger()

    assert seen["sources"] == [str(SAMPLE)]
    assert seen["suggested"] == str(suggested_copy(SAMPLE))
    title, result = finished.args
    assert title == "Export Redacted Copy"
    assert result.out == out and result.flagged_removed > 0 and result.masked > 0
    assert sha256_file(SAMPLE) == before  # the input is never written to
    assert zipfile.is_zipfile(out)
    assert loaded.findChild(QMessageBox, "task_result") is not None
    capsys.readouterr()
    assert main(["audit", str(out)]) == 0  # the carried ledger flags nothing in the copy


def test_an_existing_output_is_refused_and_left_alone(qtbot, loaded, monkeypatch, tmp_path):
    out = tmp_path / "taken.zip"
    out.write_bytes(b"someone else's file")
    _accept_with(monkeypatch, out)

    with (qtbot.waitSignal(loaded.task_ended, timeout=120_000),
          qtbot.assertNotEmitted(loaded.task_finished)):
        _file_action(loaded, "Export &Redacted Copy…").trigger()

    assert out.read_bytes() == b"someone else's file"
    boxes = [b for b in loaded.findChildren(QMessageBox) if b.isVisible()]
    assert any("nothing was written" in b.text() for b in boxes)
    assert any(str(out) in b.informativeText() for b in boxes)


def test_cancel_leaves_nothing_at_the_output(qtbot, loaded, tmp_path):
    from inspector.ui.export_dialogs import RedactOptions

    out = tmp_path / "cancelled.zip"
    with qtbot.waitSignal(loaded.task_ended, timeout=120_000):
        assert loaded.export_redacted(RedactOptions(SAMPLE, out))
        loaded._task.cancel()  # as the progress dialog's Cancel button does
    assert not out.exists()
    assert list(tmp_path.glob("*cancelled*")) == []
    assert "cancelled" in loaded.statusBar().currentMessage()


def test_one_export_at_a_time(qtbot, loaded, tmp_path):
    from inspector.ui.export_dialogs import RedactOptions

    with qtbot.waitSignal(loaded.task_ended, timeout=300_000):
        assert loaded.export_redacted(RedactOptions(SAMPLE, tmp_path / "a.zip"))
        assert not loaded.export_redacted(RedactOptions(SAMPLE, tmp_path / "b.zip"))
    assert not (tmp_path / "b.zip").exists()


def test_suggested_names_sit_beside_the_source(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    assert suggested_copy(folder) == tmp_path / "archive-redacted"
    assert suggested_copy(tmp_path / "s.json.gz") == tmp_path / "s.redacted.json.gz"
    assert suggested_copy(tmp_path / "export") == tmp_path / "export.redacted"
