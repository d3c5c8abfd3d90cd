"""The forms that ask what to export: a redacted copy of one recording (File → Export Redacted
Copy…), and the file forms of the report, the evidence bundle and its verification. They only
collect options; the window runs the work as a :class:`~.tasks.Task`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)


@dataclass(frozen=True)
class PathField:
    """One row of a :class:`PathsDialog`: a file to read (``open``) or to write (``save``)."""

    name: str
    label: str
    mode: str  # open | save
    filter: str = "All files (*)"
    required: bool = True
    placeholder: str = ""
    default: str = ""


class PathsDialog(QDialog):
    """A form of file paths (each with Browse…), an optional tolerance and "replace" box."""

    def __init__(self, title: str, fields: list[PathField], *, note: str = "",
                 action: str = "OK", tolerance: bool = False, force: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._fields = fields
        self.paths: dict[str, QLineEdit] = {}
        form = QFormLayout(self)
        for spec in fields:
            edit = QLineEdit(spec.default, self)
            edit.setObjectName(spec.name)
            edit.setPlaceholderText(spec.placeholder)
            edit.textChanged.connect(self._update_ok)
            browse = QPushButton("Browse…", self)
            browse.clicked.connect(lambda checked=False, s=spec, e=edit: self._browse(s, e))
            form.addRow(spec.label, _row(self, edit, browse))
            self.paths[spec.name] = edit
        self.tolerance: QSpinBox | None = None
        if tolerance:
            self.tolerance = _tolerance_box(self)
            form.addRow("Opt-out tolerance:", self.tolerance)
        self.force: QCheckBox | None = None
        if force:
            self.force = QCheckBox("Replace the output if it exists", self)
            self.force.setObjectName("force")
            form.addRow("", self.force)
        if note:
            label = QLabel(note, self)
            label.setWordWrap(True)
            form.addRow(label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(action)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._update_ok()

    def value(self, name: str) -> Path | None:
        text = self.paths[name].text().strip()
        return Path(text).expanduser() if text else None

    @property
    def tolerance_ms(self) -> int:
        return self.tolerance.value() if self.tolerance is not None else 0

    @property
    def replace(self) -> bool:
        return self.force is not None and self.force.isChecked()

    @Slot()
    def _update_ok(self) -> None:
        ok = all(self.paths[f.name].text().strip() for f in self._fields if f.required)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def _browse(self, spec: PathField, edit: QLineEdit) -> None:
        if spec.mode == "save":
            path, _ = QFileDialog.getSaveFileName(self, spec.label.rstrip(":"), edit.text(),
                                                  spec.filter)
        else:
            path, _ = QFileDialog.getOpenFileName(self, spec.label.rstrip(":"), edit.text(),
                                                  spec.filter)
        if path:
            edit.setText(path)


@dataclass(frozen=True)
class RedactOptions:
    source: Path
    out: Path
    mask_pii: bool = True
    tolerance_ms: int = 0
    pseudonymize_key: Path | None = None
    force: bool = False


def suggested_copy(source: Path) -> Path:
    """``a.zip`` → ``a.redacted.zip``, ``a.json.gz`` → ``a.redacted.json.gz``, ``dir`` →
    ``dir-redacted``: beside the source, never the source itself."""
    if source.is_dir():
        return source.with_name(source.name + "-redacted")
    name = source.name
    stem, dot, suffixes = name.partition(".")
    return source.with_name(f"{stem}.redacted{dot}{suffixes}" if dot else f"{name}.redacted")


class RedactDialog(QDialog):
    """Which recording, where the copy goes, and the redaction's options."""

    def __init__(self, sources: list[Path], current: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Redacted Copy")
        self.source = QComboBox(self)
        self.source.setObjectName("source")
        for path in sources:
            self.source.addItem(path.name, str(path))
            self.source.setItemData(self.source.count() - 1, str(path),
                                    Qt.ItemDataRole.ToolTipRole)
        if current is not None and current in sources:
            self.source.setCurrentIndex(sources.index(current))
        self.out = QLineEdit(self)
        self.out.setObjectName("out")
        browse_out = QPushButton("Browse…", self)
        browse_out.clicked.connect(self._on_browse_out_clicked)
        self.mask = QCheckBox("Mask personal data in everything kept", self)
        self.mask.setObjectName("mask_pii")
        self.mask.setChecked(True)
        self.tolerance = _tolerance_box(self)
        self.key = QLineEdit(self)
        self.key.setObjectName("pseudonymize_key")
        self.key.setPlaceholderText("none: keys and e-mail addresses stay as they are")
        browse_key = QPushButton("Browse…", self)
        browse_key.clicked.connect(self._on_browse_key_clicked)
        self.force = QCheckBox("Replace the output if it exists", self)
        self.force.setObjectName("force")

        form = QFormLayout(self)
        form.addRow("Recording:", self.source)
        form.addRow("Copy:", _row(self, self.out, browse_out))
        form.addRow("", self.mask)
        form.addRow("Opt-out tolerance:", self.tolerance)
        form.addRow("Pseudonymise with key:", _row(self, self.key, browse_key))
        form.addRow("", self.force)
        note = QLabel("Every event recorded after an opt-out is removed; the copy is imported "
                      "and audited again before it is written.", self)
        note.setWordWrap(True)
        form.addRow(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.source.currentIndexChanged.connect(self._on_source_current_index_changed)
        self.out.textChanged.connect(self._update_ok)
        self._on_source_current_index_changed()

    def options(self) -> RedactOptions:
        key = self.key.text().strip()
        return RedactOptions(source=Path(self.source.currentData()),
                             out=Path(self.out.text().strip()).expanduser(),
                             mask_pii=self.mask.isChecked(), tolerance_ms=self.tolerance.value(),
                             pseudonymize_key=Path(key).expanduser() if key else None,
                             force=self.force.isChecked())

    @Slot()
    def _on_source_current_index_changed(self) -> None:
        data = self.source.currentData()
        if data:
            self.out.setText(str(suggested_copy(Path(data))))
        self._update_ok()

    @Slot()
    def _update_ok(self) -> None:
        ok = bool(self.source.currentData()) and bool(self.out.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    @Slot()
    def _on_browse_out_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write the redacted copy to",
                                              self.out.text())
        if path:
            self.out.setText(path)

    @Slot()
    def _on_browse_key_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pseudonymisation key", self.key.text())
        if path:
            self.key.setText(path)


def _tolerance_box(parent: QWidget) -> QSpinBox:
    box = QSpinBox(parent)
    box.setObjectName("tolerance_ms")
    box.setRange(0, 24 * 3600 * 1000)
    box.setSuffix(" ms")
    box.setToolTip("Move every opt-out instant this much later, for clock skew")
    return box


def _row(parent: QWidget, *widgets: QWidget) -> QWidget:
    holder = QWidget(parent)
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return holder
