"""Start the desktop app: the ``inspector`` command with no subcommand ends up here.

Kept apart from the command line so that ``inspector import`` and friends never load Qt.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEventLoop,
    QFile,
    QIODevice,
    QSettings,
    Qt,
    QThreadPool,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from inspector import __version__
from inspector.core.errors import InspectorError
from inspector.core.store import Store

from . import (
    collector,
    resources_rc,  # noqa: F401 - registers the ":/..." resources
)
from .main_window import MainWindow
from .page_view import prepare_chromium
from .settings import APPLICATION, ORGANIZATION, Settings
from .theme import follow_system_color_scheme

ICON = ":/icons/app.svg"
STYLE_SHEET = ":/style.qss"
#: The window size of screenshots, whatever the screen.
SCREENSHOT_SIZE = (1440, 900)


def configure_application(app: QApplication) -> None:
    """Names first (settings are keyed by them), then the icon, style sheet and palette."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(ICON))
    app.setStyleSheet(read_resource(STYLE_SHEET))
    follow_system_color_scheme(app)
    collector.install(app)


def read_resource(name: str) -> str:
    resource = QFile(name)
    if not resource.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError(name)
    try:
        return bytes(resource.readAll().data()).decode("utf-8")
    finally:
        resource.close()


def make_application() -> QApplication:
    """The application, made with what Qt WebEngine needs set before it exists."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    prepare_chromium()
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    return QApplication(sys.argv[:1])


def run(paths: list[str], db: str | None, *, screenshot: str | None = None,
        session: str | None = None, at: int | None = None) -> int:
    """Open the main window on ``db`` (the default database when None), import ``paths``.

    With ``screenshot``, the window is drawn offscreen (unless QT_QPA_PLATFORM says otherwise)
    on a temporary database when ``db`` is None, with settings of its own, and closes itself
    once the picture is saved (see :mod:`.screenshot`).
    """
    with contextlib.ExitStack() as stack:
        settings = None
        if screenshot is not None:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="inspector-screenshot-")))
            if db is None:
                db = str(scratch / "screenshot.duckdb")
        app = make_application()
        configure_application(app)
        if screenshot is not None:
            settings = Settings(QSettings(str(scratch / "settings.ini"),
                                          QSettings.Format.IniFormat))
        try:
            store = Store(db)
        except InspectorError as exc:
            if screenshot is not None:
                print(f"inspector: error: {exc}", file=sys.stderr)
            else:
                QMessageBox.critical(None, APPLICATION, str(exc))
            return 2
        try:
            window = MainWindow(store, settings)
            shot = None
            if screenshot is not None:
                from .screenshot import Screenshot

                window.resize(*SCREENSHOT_SIZE)
                shot = Screenshot(window, Path(screenshot), session, at)
            window.show()
            window.open_paths(paths)
            if shot is not None:
                # A loop of its own, not app.exec(): ending it quits nothing else (an app that
                # made the window, such as a test session, carries on).
                loop = QEventLoop()
                shot.finished.connect(loop.exit)
                shot.start()
                loop.exec()
                return shot.status if shot.status is not None else 2
            return app.exec()
        finally:
            QThreadPool.globalInstance().waitForDone()
            store.close()
