"""The layering the project is built on: the core and the command line never load Qt.

Each check runs in a fresh interpreter, because the test process itself has Qt loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO.parent / "shared" / "fixtures" / "rrweb" / "posthog-local-docs.json"

QT_LOADED = "sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))"


def run_python(code: str) -> dict:
    """Run ``code`` in a new interpreter; it prints one JSON object as its last line."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_core_module_imports_qt():
    found = run_python(f"""
        import importlib, json, pkgutil, sys
        import inspector.core
        names = ["inspector.core"] + [m.name for m in pkgutil.walk_packages(
            inspector.core.__path__, prefix="inspector.core.")]
        for name in names:
            importlib.import_module(name)
        print(json.dumps({{"modules": names, "qt": {QT_LOADED}}}))
    """)
    assert "inspector.core.importer" in found["modules"]
    assert "inspector.core.store" in found["modules"]
    assert found["qt"] == []


def test_the_command_line_loads_qt_only_for_the_app(tmp_path):
    found = run_python(f"""
        import contextlib, io, json, sys
        import inspector.cli
        after_import = {QT_LOADED}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            codes = [inspector.cli.main(["import", {str(FIXTURE)!r}, "--db",
                                        {str(tmp_path / "a.duckdb")!r}]),
                     inspector.cli.main(["sessions", "--db", {str(tmp_path / "b.duckdb")!r}])]
        after_commands = {QT_LOADED}
        from inspector.ui.app import run
        print(json.dumps({{"after_import": after_import, "after_commands": after_commands,
                          "codes": codes, "after_app": {QT_LOADED}}}))
    """)
    assert found["codes"] == [0, 0]
    assert found["after_import"] == []
    assert found["after_commands"] == []
    assert "PySide6.QtWidgets" in found["after_app"]  # the probe does see Qt when it is there
