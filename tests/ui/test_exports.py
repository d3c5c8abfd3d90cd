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


def _finished(qtbot, window, trigger, timeout=300_000):
    """Run ``trigger`` and wait until its task has ended; the task's (title, result)."""
    results: list = []
    window.task_finished.connect(lambda title, result: results.append((title, result)))
    with qtbot.waitSignal(window.task_ended, timeout=timeout):
        trigger()
    assert results, "the task did not succeed"
    return results[-1]


def _file_action(window, text):
    return next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == text)


def test_the_menu_exports_a_redacted_copy_that_audits_clean(qtbot, loaded, monkeypatch,
                                                           tmp_path, capsys):
    out = tmp_path / "handover.zip"
    seen = _accept_with(monkeypatch, out)
    before = sha256_file(SAMPLE)

    title, result = _finished(qtbot, loaded,
                              _file_action(loaded, "Export &Redacted Copy…").trigger)

    assert seen["sources"] == [str(SAMPLE)]
    assert seen["suggested"] == str(suggested_copy(SAMPLE))
    assert title == "Export Redacted Copy"
    assert result.out == out and result.flagged_removed > 0 and result.masked > 0
    assert sha256_file(SAMPLE) == before  # the input is never written to
    assert zipfile.is_zipfile(out)
    assert loaded.findChild(QMessageBox, "task_result") is not None
    from inspector.core import custody

    entry = custody.entries(loaded._store)[-1]
    assert entry.operation == "redact" and entry.outputs[0]["path"] == str(out)
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


def _fill_paths(monkeypatch, **values):
    """Stand in for the person filling in a file form: set its paths, press its button."""
    from inspector.ui.export_dialogs import PathsDialog

    def exec_(dialog: PathsDialog) -> int:
        for name, value in values.items():
            dialog.paths[name].setText(str(value))
        assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PathsDialog, "exec", exec_)


def _menu_action(window, menu: int, text: str):
    return next(a for a in window.menuBar().actions()[menu].menu().actions() if a.text() == text)


def test_a_bundle_made_in_the_app_verifies_and_a_changed_byte_does_not(qtbot, loaded,
                                                                       monkeypatch, tmp_path):
    from inspector.core import custody

    out = tmp_path / "evidence.zip"
    _fill_paths(monkeypatch, out=out)
    _, result = _finished(qtbot, loaded,
                          _menu_action(loaded, 0, "Create Evidence &Bundle…").trigger)
    assert result.flagged_events > 0 and zipfile.is_zipfile(out)
    operations = [e.operation for e in custody.entries(loaded._store)]
    assert operations[:2] == ["import", "audit"] and operations[-1] == "bundle"
    assert custody.check(loaded._store).intact

    _fill_paths(monkeypatch, bundle=out)
    _, verified = _finished(qtbot, loaded,
                            _menu_action(loaded, 0, "&Verify Evidence Bundle…").trigger)
    assert verified.ok

    tampered = tmp_path / "tampered.zip"
    data = bytearray(out.read_bytes())
    at = data.index(b"findings")  # a byte inside the zip's listing of findings.json
    data[at] ^= 0x01
    tampered.write_bytes(bytes(data))
    _fill_paths(monkeypatch, bundle=tampered)
    with (qtbot.waitSignal(loaded.task_ended, timeout=300_000),
          qtbot.assertNotEmitted(loaded.task_finished)):
        _menu_action(loaded, 0, "&Verify Evidence Bundle…").trigger()
    boxes = [b for b in loaded.findChildren(QMessageBox) if b.isVisible()]
    assert any(b.text() == "Verify Evidence Bundle failed" and str(tampered) in
               b.informativeText() for b in boxes)


def test_the_custody_log_is_shown_with_its_verdict(qtbot, loaded):
    _, text = _finished(qtbot, loaded, _menu_action(loaded, 2, "Custody &Log").trigger)
    assert " import " in text and " audit " in text
    assert "intact" in text.splitlines()[-1]


@pytest.mark.parametrize("name", ["audit.pdf", "audit.html"])
def test_the_report_is_exported_from_the_menu(qtbot, loaded, monkeypatch, tmp_path, name):
    from inspector.core import custody

    out = tmp_path / name
    _fill_paths(monkeypatch, out=out)
    _, text = _finished(qtbot, loaded, _menu_action(loaded, 0, "Export Re&port…").trigger)
    assert text.startswith(f"wrote {out}")
    if name.endswith(".pdf"):
        from PySide6.QtPdf import QPdfDocument

        document = QPdfDocument()
        assert document.load(str(out)) == QPdfDocument.Error.None_
        assert document.pageCount() > 1
        document.close()
    else:
        assert "<html" in out.read_text(encoding="utf-8").lower()
    entry = custody.entries(loaded._store)[-1]
    assert entry.operation == "report" and entry.outputs[0]["path"] == str(out)
