"""The page view: the rebuilt page rendered by Qt WebEngine, with nothing fetched or executed.

Recordings are hostile input. What this view loads is the replay engine's ``html()``: scripts,
event handlers and every attribute that would fetch something are already gone, and a
Content-Security-Policy forbidding every fetch is in its head. On top of that the view runs in a
private, off-the-record profile whose :class:`BlockingInterceptor` refuses every request that
is not the ``data:`` document itself, with JavaScript, plugins, prefetching, link auditing and
navigation switched off. Content goes in with ``setHtml`` only.

WebEngine is optional: when it cannot be imported or started (missing system libraries, no
GPU process) the view says so and the wireframe stays the replay. Run as root, Chromium needs
``--no-sandbox``, which is added to ``QTWEBENGINE_CHROMIUM_FLAGS`` before it starts.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from .replay_canvas import Frame, paint_overlay

log = logging.getLogger(__name__)

#: Seconds between two page loads while the playhead moves (setHtml re-renders everything).
RELOAD_INTERVAL_MS = 250
#: setHtml goes through a data: URL, which Qt limits to 2 MB.
MAX_HTML_BYTES = 2_000_000
#: Set to any value to pretend WebEngine is missing (the wireframe-only fallback).
DISABLE_ENV = "INSPECTOR_NO_WEBENGINE"
ALLOWED_SCHEMES = frozenset({"data"})

_profile: Any = None
_interceptor: Any = None
_unavailable: str | None = None


def prepare_chromium() -> None:
    """Flags Chromium needs here; call before the first WebEngine object is made."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags.split():
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()


def blocked_requests() -> list[str]:
    """Every URL the page views' interceptor has refused in this process."""
    return list(_interceptor.blocked) if _interceptor is not None else []


def private_profile() -> Any:
    """The one off-the-record profile every page view uses (created on first use)."""
    global _profile, _interceptor
    if _profile is not None:
        return _profile
    prepare_chromium()
    from PySide6.QtWebEngineCore import (
        QWebEngineProfile,
        QWebEngineSettings,
        QWebEngineUrlRequestInfo,
        QWebEngineUrlRequestInterceptor,
    )

    class BlockingInterceptor(QWebEngineUrlRequestInterceptor):
        """Refuses every request but the ``data:`` document set with ``setHtml``."""

        def __init__(self, parent: Any = None) -> None:
            super().__init__(parent)
            self.blocked: list[str] = []

        def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
            url = info.requestUrl()
            if url.scheme() in ALLOWED_SCHEMES:
                return
            info.block(True)
            if len(self.blocked) < 10_000:
                self.blocked.append(url.toString())

    profile = QWebEngineProfile(QApplication.instance())  # no storage name: off the record
    profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
    profile.setPersistentCookiesPolicy(
        QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
    profile.setSpellCheckEnabled(False)
    interceptor = BlockingInterceptor(profile)
    profile.setUrlRequestInterceptor(interceptor)
    settings = profile.settings()
    attribute = QWebEngineSettings.WebAttribute
    for name, on in (("JavascriptEnabled", False), ("JavascriptCanOpenWindows", False),
                     ("JavascriptCanAccessClipboard", False), ("PluginsEnabled", False),
                     ("LocalContentCanAccessRemoteUrls", False),
                     ("LocalContentCanAccessFileUrls", False), ("DnsPrefetchEnabled", False),
                     ("HyperlinkAuditingEnabled", False), ("WebGLEnabled", False),
                     ("Accelerated2dCanvasEnabled", False), ("AutoLoadIconsForPage", False),
                     ("NavigateOnDropEnabled", False), ("PdfViewerEnabled", False),
                     ("AllowRunningInsecureContent", False), ("ErrorPageEnabled", False),
                     ("AllowGeolocationOnInsecureOrigins", False),
                     ("AllowWindowActivationFromJavaScript", False)):
        value = getattr(attribute, name, None)
        if value is not None:
            settings.setAttribute(value, on)
    _profile, _interceptor = profile, interceptor
    return profile


def _make_view(parent: QWidget) -> Any:
    """A QWebEngineView on the private profile whose page refuses to navigate anywhere."""
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    class SafePage(QWebEnginePage):
        def acceptNavigationRequest(self, url: QUrl, kind: Any, main_frame: bool) -> bool:
            return url.scheme() in ALLOWED_SCHEMES

        def createWindow(self, kind: Any) -> None:
            return None

        def javaScriptConsoleMessage(self, *args: Any) -> None:
            return None

    profile = private_profile()
    view = QWebEngineView(parent)
    view.setPage(SafePage(profile, view))
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
    view.setAcceptDrops(False)  # a drop goes to the window: it imports, it never navigates
    return view


class _Overlay(QWidget):
    """The pointer, trail and clicks over the web view."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.frame: Frame | None = None

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.frame is None:
            return
        painter = QPainter(self)
        paint_overlay(painter, self.frame, self.rect().toRectF(), self.palette())
        painter.end()


class PageView(QWidget):
    """The page rendered by WebEngine, or a note saying why it cannot be."""

    loaded = Signal(bool)  # a setHtml finished loading
    unavailable = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page_view")
        self.setAcceptDrops(False)
        self._view: Any = None
        self._overlay: _Overlay | None = None
        self._frame: Frame | None = None
        self._pending_html: str | None = None
        self._loading = False
        self._scroll: tuple[float, float] | None = None
        #: Finished loads so far (a test waits for the next one).
        self.load_count = 0
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(RELOAD_INTERVAL_MS)
        self._throttle.timeout.connect(self._on_throttle_timeout)
        self._note = QLabel(self)
        self._note.setObjectName("page_view_note")
        self._note.setWordWrap(True)
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._note.hide()
        self.reason = self._start()
        if self.reason:
            layout = QVBoxLayout(self)
            layout.addWidget(self._note)
            self._note.setText(f"The page view is not available here ({self.reason}).\n"
                               "The wireframe shows the replay instead.")
            self._note.show()

    @property
    def available(self) -> bool:
        return self._view is not None

    @property
    def web_view(self) -> Any:
        return self._view

    def _start(self) -> str | None:
        global _unavailable
        if os.environ.get(DISABLE_ENV):
            return f"disabled by {DISABLE_ENV}"
        if _unavailable is not None:
            return _unavailable
        try:
            view = _make_view(self)
        except Exception as exc:  # ImportError, missing libraries, a failed GPU process
            log.warning("Qt WebEngine unavailable: %s", exc)
            _unavailable = f"Qt WebEngine could not start: {type(exc).__name__}: {exc}"
            return _unavailable
        self._view = view
        view.loadFinished.connect(self._on_view_load_finished)
        self._overlay = _Overlay(self)
        self._overlay.raise_()
        return None

    def sizeHint(self) -> QSize:
        return QSize(720, 480)

    def show_frame(self, frame: Frame) -> None:
        """Follow ``frame``: its HTML (when it changed), size, scroll and pointer."""
        self._frame = frame
        if self._view is None:
            return
        self._place(frame)
        if frame.html is not None:
            html = frame.html
            if len(html.encode("utf-8")) > MAX_HTML_BYTES:
                html = ("<!DOCTYPE html><html><body><p>This page is too large for the page "
                        "view; the wireframe shows it.</p></body></html>")
            self._pending_html = html
            if not self._throttle.isActive() and not self._loading:
                self._apply_html()
        if frame.scroll != self._scroll and not self._loading:
            self._apply_scroll(frame.scroll)
        if self._overlay is not None:
            self._overlay.frame = frame
            self._overlay.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._frame is not None and self._view is not None:
            self._place(self._frame)

    def _place(self, frame: Frame) -> None:
        target = frame.target.toAlignedRect()
        if target.width() <= 0 or target.height() <= 0:
            return
        self._view.setGeometry(target)
        zoom = min(max(frame.scale, 0.25), 5.0)
        if abs(self._view.zoomFactor() - zoom) > 1e-3:
            self._view.setZoomFactor(zoom)
        if self._overlay is not None:
            self._overlay.setGeometry(QRect(target))

    def _apply_html(self) -> None:
        html, self._pending_html = self._pending_html, None
        if html is None:
            return
        self._loading = True
        self._scroll = None
        self._view.setHtml(html, QUrl("about:blank"))
        self._throttle.start()

    def _apply_scroll(self, scroll: tuple[float, float]) -> None:
        from PySide6.QtWebEngineCore import QWebEngineScript

        self._scroll = scroll
        # Our own two numbers, run in the isolated world; the page's scripts never run.
        self._view.page().runJavaScript(
            f"window.scrollTo({float(scroll[0]):.0f}, {float(scroll[1]):.0f})",
            QWebEngineScript.ScriptWorldId.ApplicationWorld)

    @Slot()
    def _on_throttle_timeout(self) -> None:
        if self._pending_html is not None and not self._loading:
            self._apply_html()

    @Slot(bool)
    def _on_view_load_finished(self, ok: bool) -> None:
        self._loading = False
        self.load_count += 1
        if self._frame is not None:
            self._apply_scroll(self._frame.scroll)
        if self._pending_html is not None and not self._throttle.isActive():
            self._apply_html()
        self.loaded.emit(ok)
