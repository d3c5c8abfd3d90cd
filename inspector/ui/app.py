"""Start the desktop app: the ``inspector`` command with no subcommand ends up here.

Kept apart from the command line so that ``inspector import`` and friends never load Qt.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QFile, QIODevice, QThreadPool
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from inspector import __version__
from inspector.core.errors import InspectorError
from inspector.core.store import Store

from . import resources_rc  # noqa: F401 - registers the ":/..." resources
from .main_window import MainWindow
from .settings import APPLICATION, ORGANIZATION

ICON = ":/icons/app.svg"
STYLE_SHEET = ":/style.qss"


def configure_application(app: QApplication) -> None:
    """Names first (settings are keyed by them), then the icon and the style sheet."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(ICON))
    app.setStyleSheet(read_resource(STYLE_SHEET))


def read_resource(name: str) -> str:
    resource = QFile(name)
    if not resource.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError(name)
    try:
        return bytes(resource.readAll().data()).decode("utf-8")
    finally:
        resource.close()


def run(paths: list[str], db: str | None) -> int:
    """Open the main window on ``db`` (the default database when None), import ``paths``."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    try:
        store = Store(db)
    except InspectorError as exc:
        QMessageBox.critical(None, APPLICATION, str(exc))
        return 2
    try:
        window = MainWindow(store)
        window.show()
        window.open_paths(paths)
        return app.exec()
    finally:
        QThreadPool.globalInstance().waitForDone()
        store.close()
