"""Light and dark palettes that follow the system's colour scheme.

Where the platform theme already gives a palette matching the system's scheme (Windows, macOS,
most Linux desktops with Qt 6.5+), nothing is changed. Where it does not (a dark desktop whose
Qt platform theme only knows light colours), a dark Fusion palette is set; back in light mode,
the style's standard palette returns. Every widget of ours paints with palette roles, so a
palette change is all a switch needs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

_state = {"ours": False}


def follow_system_color_scheme(app: QApplication) -> None:
    """Apply the current scheme and follow later changes."""
    hints = app.styleHints()
    apply_color_scheme(app, hints.colorScheme())
    hints.colorSchemeChanged.connect(lambda scheme: apply_color_scheme(app, scheme))


def apply_color_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    dark_wanted = scheme == Qt.ColorScheme.Dark
    if dark_wanted and not is_dark(app.palette()):
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(dark_palette())
        _state["ours"] = True
    elif not dark_wanted and _state["ours"]:
        app.setPalette(app.style().standardPalette())
        _state["ours"] = False
    else:
        return
    # With an application style sheet, widgets keep their old palette until it is set again.
    app.setStyleSheet(app.styleSheet())


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    role = QPalette.ColorRole
    palette = QPalette()
    colors = {
        role.Window: QColor(45, 45, 48), role.WindowText: QColor(230, 230, 230),
        role.Base: QColor(30, 30, 32), role.AlternateBase: QColor(40, 40, 43),
        role.ToolTipBase: QColor(60, 60, 64), role.ToolTipText: QColor(230, 230, 230),
        role.PlaceholderText: QColor(150, 150, 150), role.Text: QColor(230, 230, 230),
        role.Button: QColor(55, 55, 58), role.ButtonText: QColor(230, 230, 230),
        role.BrightText: QColor(255, 90, 90), role.Light: QColor(80, 80, 84),
        role.Midlight: QColor(66, 66, 70), role.Mid: QColor(90, 90, 96),
        role.Dark: QColor(25, 25, 27), role.Shadow: QColor(10, 10, 10),
        role.Highlight: QColor(53, 132, 228), role.HighlightedText: QColor(255, 255, 255),
        role.Link: QColor(120, 170, 255), role.LinkVisited: QColor(180, 140, 255),
    }
    for which, color in colors.items():
        palette.setColor(which, color)
    disabled = QPalette.ColorGroup.Disabled
    for which in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, which, QColor(130, 130, 130))
    return palette


def system_scheme() -> Qt.ColorScheme:
    return QGuiApplication.styleHints().colorScheme()
