"""The player: one session replayed — address bar, wireframe and page view, controls, timeline —
and the event inspector that follows its playhead.

It owns three lanes (:mod:`.workers`): loading a session (the replay engine reads it, DuckDB
works out the timeline), making frames (seek, layout, draw into an image: newest instant wins),
and reading the selected event for the inspector. The UI thread only moves the playhead and
paints what comes back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.audit import AuditResult
from inspector.core.store import Store

from .event_inspector import EventDetail, EventInspector, load_event
from .page_view import PageView
from .playback import Playback, PlaybackBar
from .replay_canvas import Colors, Frame, FrameRenderer, FrameRequest, ReplayCanvas
from .session_data import SessionData, SessionKey, load_session, with_audit
from .timeline import TimelineWidget
from .workers import Lane

WIREFRAME_TAB, PAGE_TAB = 0, 1
EVENT_DELAY_MS = 60


class Player(QWidget):
    session_loaded = Signal(object)  # SessionData
    failed = Signal(str)
    frame_shown = Signal(object)  # a frame of this instant is on screen
    mask_changed = Signal(bool)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("player")
        self._store = store
        self._audit: AuditResult | None = None
        self._audited = False
        self._data: SessionData | None = None
        self._renderer: FrameRenderer | None = None
        self._shut_down = False
        self._loading: SessionKey | None = None
        self._mask = False
        self._frame: Frame | None = None
        self._pending_at: int | None = None

        self.playback = Playback(self)
        self.address = QLineEdit(self)
        self.address.setObjectName("address")
        self.address.setReadOnly(True)
        self.address.setPlaceholderText("The page's address appears here")
        self.address.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.canvas = ReplayCanvas(self)
        self.page_view: PageView | None = None
        self._page_holder = QWidget(self)
        QVBoxLayout(self._page_holder).setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("replay_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.addTab(self.canvas, "Wireframe")
        self.tabs.addTab(self._page_holder, "Page")
        self.tabs.setTabToolTip(PAGE_TAB, "The rebuilt page rendered by Qt WebEngine, with "
                                "scripts off and every network request blocked")
        self.bar = PlaybackBar(self.playback, self)
        self.timeline = TimelineWidget(self)
        self.inspector = EventInspector()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.address)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.timeline)

        self._session_lane = Lane("session", store, parent=self)
        self._session_lane.finished.connect(self._on_session_lane_finished)
        self._session_lane.failed.connect(self._on_session_lane_failed)
        self._frame_lane = Lane("frame", cancel_running=False, parent=self)
        self._frame_lane.finished.connect(self._on_frame_lane_finished)
        self._frame_lane.failed.connect(self.failed)
        self._event_lane = Lane("event", store, parent=self)
        self._event_lane.finished.connect(self._on_event_lane_finished)
        self._event_lane.failed.connect(self.failed)
        self._event_timer = QTimer(self)
        self._event_timer.setSingleShot(True)
        self._event_timer.setInterval(EVENT_DELAY_MS)
        self._event_timer.timeout.connect(self._on_event_timer_timeout)

        self.playback.position_changed.connect(self._on_playback_position_changed)
        self.playback.event_selected.connect(self._on_playback_event_selected)
        self.timeline.seek_requested.connect(self.playback.seek)
        self.canvas.resized.connect(self.request_frame)
        self.canvas.frame_painted.connect(self._on_canvas_frame_painted)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.bar.mask_toggled.connect(self.set_mask)

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def data(self) -> SessionData | None:
        return self._data

    @property
    def key(self) -> SessionKey | None:
        """The session shown, or being loaded."""
        if self._loading is not None:
            return self._loading
        return self._data.key if self._data is not None else None

    @property
    def frame(self) -> Frame | None:
        return self._frame

    @property
    def mask(self) -> bool:
        return self._mask

    @property
    def busy(self) -> bool:
        return (self._session_lane.busy or self._frame_lane.busy or self._event_lane.busy
                or self._event_timer.isActive())

    def settled(self) -> bool:
        """Everything shown is up to date with the playhead (for screenshots and tests)."""
        if self.busy or self._data is None or self._frame is None:
            return False
        if self._frame.at != self.playback.position:
            return False
        if self.tabs.currentIndex() == WIREFRAME_TAB and self.canvas.frame is not self._frame:
            return False
        seq = self.playback.selected_seq
        detail = self.inspector.detail
        return seq is None or (detail is not None and detail.seq == seq)

    def open_session(self, key: SessionKey, at: int | None = None) -> None:
        """Load ``key`` and show it at ``at`` (default: its start). The newest request wins."""
        if self._data is not None and self._data.key == key and self._loading is None:
            if at is not None:
                self.playback.seek(at)
            return
        if self._loading == key:
            self._pending_at = at if at is not None else self._pending_at
            return
        self._loading = key
        self._pending_at = at
        self.playback.pause()
        self.canvas.set_message("Loading the session…")
        audit = self._audit
        self._session_lane.submit(lambda con, token: load_session(con, key, audit, token),
                                  needs_db=True)

    def close_session(self) -> None:
        self._session_lane.cancel()
        self._loading = None
        self._data = None
        self._renderer = None
        self._frame = None
        self.playback.set_timeline(None)
        self.timeline.set_timeline(None)
        self.canvas.set_frame(None)
        self.canvas.set_message("Select a session to replay it")
        self.address.clear()
        self.inspector.clear()

    def set_audit(self, audit: AuditResult | None) -> None:
        """New audit results: flags and opt-outs of the open session follow."""
        self._audit = audit
        self._audited = audit is not None
        data = self._data
        if data is None or self._loading is not None:
            return
        self._loading = data.key
        self._pending_at = self.playback.position
        self._session_lane.submit(lambda token: with_audit(data, audit))

    @Slot(bool)
    def set_mask(self, mask: bool) -> None:
        if mask == self._mask:
            return
        self._mask = mask
        if self.bar.mask.isChecked() != mask:
            self.bar.mask.setChecked(mask)
        self.request_frame()
        self._request_event()
        self.mask_changed.emit(mask)

    def show_page_view(self) -> None:
        self.tabs.setCurrentIndex(PAGE_TAB)

    def shutdown(self) -> None:
        """Stop every lane and wait for running jobs (the window is closing)."""
        self.playback.pause()
        self._event_timer.stop()
        # The tab widget announces its tabs going when the widgets are destroyed, which may be
        # after Python has let go of this object's attributes.
        if not self._shut_down:
            self.tabs.currentChanged.disconnect(self._on_tabs_current_changed)
        self._shut_down = True
        for lane in (self._session_lane, self._frame_lane, self._event_lane):
            lane.shutdown()

    # -- frames ----------------------------------------------------------------------------------
    @Slot()
    def request_frame(self) -> None:
        renderer = self._renderer
        if renderer is None:
            return
        size = self.canvas.size()
        request = FrameRequest(at=self.playback.position, size=(size.width(), size.height()),
                               dpr=self.canvas.devicePixelRatioF(), mask=self._mask,
                               colors=Colors.from_palette(self.canvas.palette()),
                               want_html=self.tabs.currentIndex() == PAGE_TAB
                               and self.page_view is not None and self.page_view.available)
        self._frame_lane.submit(lambda token: renderer.render(request))

    @Slot(object)
    def _on_frame_lane_finished(self, frame: Frame) -> None:
        self._frame = frame
        self.address.setText(frame.url or "")
        self.address.setCursorPosition(0)
        self.canvas.set_frame(frame)
        if self.page_view is not None and self.tabs.currentIndex() == PAGE_TAB:
            self.page_view.show_frame(frame)
            self.frame_shown.emit(frame.at)

    @Slot(object)
    def _on_canvas_frame_painted(self, at: int) -> None:
        self.frame_shown.emit(at)

    # -- loading ---------------------------------------------------------------------------------
    @Slot(object)
    def _on_session_lane_finished(self, data: SessionData) -> None:
        at = self._pending_at
        same = self._data is not None and self._data.replay is data.replay
        self._loading = None
        self._data = data
        if not same:
            self._renderer = FrameRenderer(data)
        self.timeline.set_timeline(data.timeline, keep_view=same)
        self.playback.set_timeline(data.timeline, at)
        self.session_loaded.emit(data)
        if same:  # new flags only: the selected event's verdict may have changed
            self._request_event()

    @Slot(str)
    def _on_session_lane_failed(self, message: str) -> None:
        self._loading = None
        self.canvas.set_message(f"This session cannot be replayed: {message}")
        self.failed.emit(message)

    # -- the playhead ----------------------------------------------------------------------------
    @Slot(object)
    def _on_playback_position_changed(self, ms: int) -> None:
        self.timeline.set_position(ms)
        self.request_frame()

    @Slot(object)
    def _on_playback_event_selected(self, seq: int) -> None:
        self._request_event()

    def _request_event(self) -> None:
        # While playing, the selected event changes every frame: read it once things settle.
        self._event_timer.start()

    @Slot()
    def _on_event_timer_timeout(self) -> None:
        data = self._data
        seq = self.playback.selected_seq
        if data is None or seq is None:
            self._event_lane.cancel()
            self.inspector.clear("No event before the playhead")
            return
        if self.playback.playing:
            self._event_timer.start(250)
            return
        key, mask, audited = data.key, self._mask, self._audited
        category = data.flagged_categories.get(seq)
        finding = data.finding
        self._event_lane.submit(
            lambda con, token: load_event(con, key, seq, mask=mask, category=category,
                                          finding=finding, audited=audited, cancel=token),
            needs_db=True)

    @Slot(object)
    def _on_event_lane_finished(self, detail: EventDetail | None) -> None:
        self.inspector.show_detail(detail)

    # -- tabs ------------------------------------------------------------------------------------
    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        if index == PAGE_TAB and self.page_view is None:
            self.page_view = PageView(self._page_holder)
            self._page_holder.layout().addWidget(self.page_view)
        if index == PAGE_TAB and self._frame is not None and self.page_view is not None:
            self._renderer_html_reset()
        self.request_frame()

    def _renderer_html_reset(self) -> None:
        """The page view needs the HTML again, even for a DOM state it was sent before."""
        if self._renderer is not None:
            self._renderer.forget_html()
