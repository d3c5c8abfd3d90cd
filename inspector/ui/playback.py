"""Playing a session: the playhead, its clock, speeds, skipping inactivity, event stepping.

:class:`Playback` owns the playhead (an instant in epoch ms) and which event is selected; the
widgets only ask it to move. While playing, a timer advances the playhead by the real time
elapsed times the speed; with "skip inactivity" on (the default, as in rrweb-player) a playhead
entering a period without user interaction jumps to its end. Stepping goes event by event, or
flagged event by flagged event, in (timestamp, seq) order, so events sharing an instant are each
visited.

:class:`PlaybackBar` is the row of controls for it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolBar,
    QToolButton,
    QWidget,
)

from .timeline import format_offset
from .timeline_data import SessionTimeline

SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
FRAME_MS = 33


class Playback(QObject):
    position_changed = Signal(object)  # epoch ms (beyond a C int)
    #: The selected event changed: its seq (-1: none, before the first event).
    event_selected = Signal(object)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    skip_inactive_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timeline: SessionTimeline | None = None
        self._position = 0
        self._index = -1  # the selected event, an index into the timeline's events
        self._playing = False
        self._speed = 1.0
        self._skip_inactive = True
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._clock = QElapsedTimer()

    # -- state ---------------------------------------------------------------------------------
    @property
    def timeline(self) -> SessionTimeline | None:
        return self._timeline

    @property
    def position(self) -> int:
        return self._position

    @property
    def selected_seq(self) -> int | None:
        tl = self._timeline
        if tl is None or self._index < 0:
            return None
        return tl.seqs[self._index]

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def skip_inactive(self) -> bool:
        return self._skip_inactive

    def set_timeline(self, timeline: SessionTimeline | None, position: int | None = None
                     ) -> None:
        """A new session (or the same one with new flags): the playhead goes to ``position``
        (default: the first full snapshot, where there is a page to see) and stays paused."""
        self.pause()
        self._timeline = timeline
        if timeline is None:
            self._index = -1
            return
        if position is None:
            position = timeline.first_page if timeline.first_page is not None else timeline.start
        self.seek(position, force=True)

    def set_speed(self, speed: float) -> None:
        if speed != self._speed:
            self._speed = speed
            self.speed_changed.emit(speed)

    def set_skip_inactive(self, skip: bool) -> None:
        if skip != self._skip_inactive:
            self._skip_inactive = skip
            self.skip_inactive_changed.emit(skip)

    # -- moving ---------------------------------------------------------------------------------
    def seek(self, ms: int, *, force: bool = False) -> None:
        """Move the playhead; the selected event becomes the last one at or before it."""
        tl = self._timeline
        if tl is None:
            return
        ms = min(max(int(ms), tl.start), tl.end)
        self._move(ms, tl.event_index_at(ms), force=force)

    def step_event(self, step: int) -> bool:
        """Select the next (``step`` 1) or previous (-1) event and move the playhead to it."""
        tl = self._timeline
        if tl is None or not len(tl.times):
            return False
        index = self._index
        if step > 0:
            target = index + 1
        elif index >= 0 and tl.times[index] < self._position:
            target = index  # the playhead is past the selected event: go back to it
        else:
            target = index - 1
        if not 0 <= target < len(tl.times):
            return False
        self.pause()
        self._move(tl.times[target], target)
        return True

    def step_flagged(self, step: int) -> bool:
        """Select the next or previous flagged event; False when there is none."""
        tl = self._timeline
        if tl is None or not len(tl.flagged_times):
            return False
        seq = self.selected_seq
        at_event = (seq is not None and self._index >= 0
                    and tl.times[self._index] == self._position)
        if not at_event:
            seq = -1 if step > 0 else 2**62
        found = tl.next_flagged(self._position, seq, step)
        if found is None:
            return False
        ms, seq = tl.flagged_times[found], tl.flagged_seqs[found]
        self.pause()
        self._move(ms, _index_of(tl, ms, seq))
        return True

    def _move(self, ms: int, index: int, *, force: bool = False) -> None:
        moved = ms != self._position
        selected = index != self._index
        self._position, self._index = ms, index
        if moved or force:
            self.position_changed.emit(ms)
        if selected or force:
            self.event_selected.emit(self.selected_seq if self._index >= 0 else -1)

    # -- playing --------------------------------------------------------------------------------
    @Slot()
    def play(self) -> None:
        tl = self._timeline
        if tl is None or self._playing:
            return
        if self._position >= tl.end:
            self.seek(tl.start)
        self._playing = True
        self._clock.start()
        self._timer.start()
        self.playing_changed.emit(True)

    @Slot()
    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._timer.stop()
        self.playing_changed.emit(False)

    @Slot()
    def toggle(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def advance(self, elapsed_ms: float) -> None:
        """Move the playhead on as ``elapsed_ms`` of real time at the current speed would."""
        tl = self._timeline
        if tl is None:
            return
        ms = self._position + elapsed_ms * self._speed
        if self._skip_inactive:
            ms = _after_inactivity(tl, ms)
        if ms >= tl.end:
            self.seek(tl.end)
            self.pause()
            return
        self.seek(round(ms))

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.advance(self._clock.restart())


def _after_inactivity(tl: SessionTimeline, ms: float) -> float:
    """``ms``, or the end of the inactive period it falls in."""
    periods = tl.inactive
    index = bisect_right(periods, (ms, float("inf"))) - 1
    if index >= 0:
        start, end = periods[index]
        if start < ms < end:
            return float(end)
    return ms


def _index_of(tl: SessionTimeline, ms: int, seq: int) -> int:
    """The index of event (``ms``, ``seq``) among the timeline's events."""
    lo, hi = bisect_left(tl.times, ms), bisect_right(tl.times, ms)
    for index in range(lo, hi):
        if tl.seqs[index] == seq:
            return index
    return hi - 1


class PlaybackBar(QToolBar):
    """Play/pause, stepping, speed, skip inactivity, masking, and the clock. A tool bar, so that
    what does not fit a narrow window goes into its overflow menu."""

    mask_toggled = Signal(bool)

    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__("Playback", parent)
        self.setObjectName("playback_bar")
        self.setMovable(False)
        self.setFloatable(False)
        self._playback = playback
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        icon = QStyle.StandardPixmap
        self.previous_flagged = self._button(icon.SP_MediaSkipBackward,
                                             "Previous flagged event (Shift+Left)",
                                             lambda: playback.step_flagged(-1))
        self.previous_event = self._button(icon.SP_MediaSeekBackward, "Previous event (Left)",
                                           lambda: playback.step_event(-1))
        self.play_button = self._button(icon.SP_MediaPlay, "Play or pause (Space)",
                                        playback.toggle)
        self.play_button.setObjectName("play")
        self.next_event = self._button(icon.SP_MediaSeekForward, "Next event (Right)",
                                       lambda: playback.step_event(1))
        self.next_flagged = self._button(icon.SP_MediaSkipForward,
                                         "Next flagged event (Shift+Right)",
                                         lambda: playback.step_flagged(1))
        self.clock = QLabel("0:00 / 0:00", self)
        self.clock.setObjectName("clock")
        self.clock.setContentsMargins(6, 0, 6, 0)
        self.clock.setMinimumWidth(self.clock.fontMetrics().horizontalAdvance("0:00:00 / "
                                                                               "0:00:00") + 12)
        self.addWidget(self.clock)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self.speed = QComboBox(self)
        self.speed.setObjectName("speed")
        self.speed.setToolTip("Playback speed")
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}×", speed)
        self.speed.setCurrentIndex(SPEEDS.index(playback.speed))
        self.speed.currentIndexChanged.connect(self._on_speed_current_index_changed)
        self.addWidget(self.speed)
        self.skip = QCheckBox("Skip inactivity", self)
        self.skip.setObjectName("skip_inactivity")
        self.skip.setToolTip("Jump over periods of more than 10 s without user interaction")
        self.skip.setChecked(playback.skip_inactive)
        self.skip.toggled.connect(playback.set_skip_inactive)
        self.addWidget(self.skip)
        self.mask = QCheckBox("Mask personal data", self)
        self.mask.setObjectName("mask_personal_data")
        self.mask.setToolTip("Replace typed values and personal data in the page, the address, "
                             "the event inspector and the logs by tokens such as [EMAIL] "
                             "(Ctrl+M)")
        self.mask.toggled.connect(self.mask_toggled)
        self.addWidget(self.mask)
        for widget in (self.speed, self.skip, self.mask):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and arrows stay the player's
        playback.playing_changed.connect(self._on_playback_playing_changed)
        playback.position_changed.connect(self._on_playback_position_changed)
        playback.speed_changed.connect(self._on_playback_speed_changed)
        playback.skip_inactive_changed.connect(self.skip.setChecked)

    def _button(self, icon: QStyle.StandardPixmap, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(self.style().standardIcon(icon))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        self.addWidget(button)
        return button

    @Slot(int)
    def _on_speed_current_index_changed(self, index: int) -> None:
        self._playback.set_speed(SPEEDS[index])

    @Slot(float)
    def _on_playback_speed_changed(self, speed: float) -> None:
        if speed in SPEEDS:
            self.speed.setCurrentIndex(SPEEDS.index(speed))

    @Slot(bool)
    def _on_playback_playing_changed(self, playing: bool) -> None:
        pixmap = QStyle.StandardPixmap
        icon = pixmap.SP_MediaPause if playing else pixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    @Slot(object)
    def _on_playback_position_changed(self, ms: int) -> None:
        tl = self._playback.timeline
        if tl is None:
            self.clock.setText("0:00 / 0:00")
            return
        self.clock.setText(f"{format_offset(ms - tl.start)} / {format_offset(tl.duration)}")
