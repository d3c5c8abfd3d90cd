"""The compiled resources: fresh against their sources, and loadable as ":/..." paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from inspector.ui.app import ICON, STYLE_SHEET, read_resource

REPO = Path(__file__).resolve().parents[2]
COMPILED = REPO / "inspector" / "ui" / "resources_rc.py"
COMMAND = "pyside6-rcc --format-version 1 resources/resources.qrc -o inspector/ui/resources_rc.py"


def without_qt_version(code: bytes) -> bytes:
    """The module minus the comment naming rcc's Qt version, which a patch release changes."""
    return b"".join(line for line in code.splitlines(keepends=True)
                    if not line.startswith(b"# Created by: The Resource Compiler for Qt"))


def test_the_committed_resource_module_is_fresh():
    rcc = Path(sys.executable).with_name("pyside6-rcc")
    made = subprocess.run([str(rcc), "--format-version", "1", "resources/resources.qrc"],
                          cwd=REPO, check=True, capture_output=True).stdout
    assert without_qt_version(made) == without_qt_version(COMPILED.read_bytes()), \
        f"resources changed: run `{COMMAND}` from the repository root"


def test_every_source_file_is_compiled_in():
    qrc = (REPO / "resources" / "resources.qrc").read_text()
    sources = [p.relative_to(REPO / "resources").as_posix()
               for p in (REPO / "resources").rglob("*") if p.is_file() and p.suffix != ".qrc"]
    assert sources
    for name in sources:
        assert f"<file>{name}</file>" in qrc, f"{name} is not listed in resources.qrc"


def test_the_icon_and_style_sheet_load_from_the_resources(qapp):
    icon = QIcon(ICON)
    assert not icon.isNull()
    assert not icon.pixmap(QSize(32, 32)).isNull()
    assert read_resource(STYLE_SHEET) == (REPO / "resources" / "style.qss").read_text()
    assert qapp.styleSheet() == read_resource(STYLE_SHEET)
