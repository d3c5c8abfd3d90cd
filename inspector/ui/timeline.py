"""The session timeline: event density, markers by kind, inactivity, opt-outs, and the playhead.

One widget, two views of the same session: an overview strip of the whole session (with a
frame around the part shown below) and a detail view that the wheel zooms. Click or drag either
to seek. Nothing here is an item per event: every layer is binned to pixel columns
(:func:`~.timeline_data.column_counts`, :func:`~.timeline_data.occupied_columns`, which bisect
sorted instants) and drawn in one ``drawLines`` or ``drawRects`` call, so a million events
repaint as fast as a hundred. Bins are cached per visible range and width, and everything but
the playhead is kept as a picture of the widget: moving the playhead (every seek, every frame
of playback) draws that picture and one line.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from .timeline_data import (
    CLICK,
    CUSTOM,
    ERROR,
    INPUT,
    KIND_NAMES,
    MARKER_KINDS,
    NAVIGATION,
    SessionTimeline,
    column_counts,
    occupied_columns,
)

OVERVIEW_HEIGHT = 18
DENSITY_HEIGHT = 26
ROW_HEIGHT = 7
AXIS_HEIGHT = 16
SPACING = 4
MIN_SPAN_MS = 200
ZOOM_STEP = 1.25
#: Hues of the marker rows (and the flagged row, red), in MARKER_KINDS order.
KIND_HUES = {CLICK: 210, INPUT: 140, NAVIGATION: 280, ERROR: 25, CUSTOM: 50}
_TICK_STEPS_MS = (100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000,
                  120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
                  21_600_000, 43_200_000, 86_400_000)


class TimelineWidget(QWidget):
    seek_requested = Signal(object)  # epoch ms (beyond a C int)
    view_changed = Signal(float, float)  # the detail view's range, epoch ms

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())
        self._timeline: SessionTimeline | None = None
        self._position: int | None = None
        self._t0 = 0.0
        self._t1 = 1.0
        self._cache: dict[object, tuple[tuple, object]] = {}
        self._picture: QPixmap | None = None  # everything but the playhead
        self._picture_key: tuple | None = None
        self._dragging: str | None = None
        self.setToolTip("Click or drag to seek; the wheel zooms, the strip on top shows the "
                        "whole session.\nRed: opted out (line: the opt-out); grey: inactive; "
                        "rows: " + ", ".join(KIND_NAMES[k] for k in MARKER_KINDS)
                        + ", flagged events.")

    # -- state --------------------------------------------------------------------------------
    def set_timeline(self, timeline: SessionTimeline | None, *, keep_view: bool = False) -> None:
        previous = self._timeline
        self._timeline = timeline
        self._cache.clear()
        self._picture_key = None
        if timeline is not None and not (keep_view and previous is not None):
            self._t0, self._t1 = float(timeline.start), float(timeline.end)
            self.view_changed.emit(self._t0, self._t1)
        self.update()

    @property
    def timeline(self) -> SessionTimeline | None:
        return self._timeline

    def set_position(self, ms: int | None) -> None:
        if ms == self._position:
            return
        self._position = ms
        if ms is not None and self._timeline is not None and not self._t0 <= ms <= self._t1:
            span = self._t1 - self._t0
            self._set_view(ms - 0.1 * span, ms + 0.9 * span)
        self.update()

    def view_range(self) -> tuple[float, float]:
        return self._t0, self._t1

    def set_view(self, t0: float, t1: float) -> None:
        self._set_view(t0, t1)
        self.update()

    def zoom(self, factor: float, anchor_ms: float | None = None) -> None:
        """Zoom the detail view in (``factor`` > 1) or out around ``anchor_ms``."""
        if self._timeline is None:
            return
        anchor = (self._t0 + self._t1) / 2 if anchor_ms is None else anchor_ms
        span = max((self._t1 - self._t0) / factor, MIN_SPAN_MS)
        share = (anchor - self._t0) / (self._t1 - self._t0)
        self._set_view(anchor - share * span, anchor - share * span + span)
        self.update()

    def _set_view(self, t0: float, t1: float) -> None:
        tl = self._timeline
        if tl is None:
            return
        full = float(tl.end - tl.start)
        span = min(max(t1 - t0, min(MIN_SPAN_MS, full)), full)
        t0 = min(max(t0, tl.start), tl.end - span)
        if (t0, t0 + span) != (self._t0, self._t1):
            self._t0, self._t1 = t0, t0 + span
            self.view_changed.emit(self._t0, self._t1)

    # -- geometry -----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        rows = len(MARKER_KINDS) + 1
        return QSize(600, OVERVIEW_HEIGHT + SPACING * 3 + DENSITY_HEIGHT + rows * ROW_HEIGHT
                     + AXIS_HEIGHT + 2)

    def _overview_rect(self) -> QRectF:
        return QRectF(0, 0, self.width(), OVERVIEW_HEIGHT)

    def _detail_rect(self) -> QRectF:
        top = OVERVIEW_HEIGHT + SPACING
        return QRectF(0, top, self.width(), self.height() - top - AXIS_HEIGHT)

    def time_at(self, x: float, *, overview: bool = False) -> float:
        """The instant under ``x`` in the detail view (or the overview)."""
        t0, t1 = self._full_range() if overview else (self._t0, self._t1)
        width = max(self.width(), 1)
        return t0 + (t1 - t0) * min(max(x, 0.0), width) / width

    def x_of(self, ms: float, *, overview: bool = False) -> float:
        t0, t1 = self._full_range() if overview else (self._t0, self._t1)
        return (ms - t0) / (t1 - t0) * self.width() if t1 > t0 else 0.0

    def _full_range(self) -> tuple[float, float]:
        tl = self._timeline
        return (float(tl.start), float(tl.end)) if tl is not None else (0.0, 1.0)

    # -- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        tl = self._timeline
        if tl is None:
            painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Select a session to see its timeline")
            painter.end()
            return
        painter.drawPixmap(0, 0, self._static_picture(tl))
        self._paint_playhead(painter, self._overview_rect(), overview=True)
        self._paint_playhead(painter, self._detail_rect(), overview=False)
        painter.end()

    def _static_picture(self, tl: SessionTimeline) -> QPixmap:
        """Every layer but the playhead, drawn again only when what it shows has changed."""
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr, self._t0, self._t1, self.palette().cacheKey(),
               self.font().key())
        if self._picture is None or self._picture_key != key:
            picture = QPixmap(max(1, round(self.width() * dpr)),
                              max(1, round(self.height() * dpr)))
            picture.setDevicePixelRatio(dpr)
            palette = self.palette()
            picture.fill(palette.color(QPalette.ColorRole.Base))
            painter = QPainter(picture)
            dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
            self._paint_overview(painter, tl, dark)
            self._paint_detail(painter, tl, dark)
            painter.end()
            self._picture, self._picture_key = picture, key
        return self._picture

    def _paint_overview(self, painter: QPainter, tl: SessionTimeline, dark: bool) -> None:
        rect = self._overview_rect()
        t0, t1 = float(tl.start), float(tl.end)
        painter.fillRect(rect, self.palette().color(QPalette.ColorRole.AlternateBase))
        self._paint_opt_outs(painter, tl, rect, t0, t1, dark, instants=False)
        self._paint_density(painter, tl.times, rect, t0, t1, "overview", dark)
        self._paint_ticks(painter, tl.flagged_times, QRectF(rect.left(), rect.bottom() - 4,
                                                             rect.width(), 4),
                          t0, t1, ("overview-flagged",), _flag_color(dark))
        # The detail view's range, framed.
        left, right = self.x_of(self._t0, overview=True), self.x_of(self._t1, overview=True)
        frame = self.palette().color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(frame, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(left, rect.top() + 0.75, max(right - left, 2.0),
                                rect.height() - 1.5))

    def _paint_detail(self, painter: QPainter, tl: SessionTimeline, dark: bool) -> None:
        rect = self._detail_rect()
        t0, t1 = self._t0, self._t1
        self._paint_inactive(painter, tl, rect, t0, t1, dark)
        self._paint_opt_outs(painter, tl, rect, t0, t1, dark, instants=True)
        density = QRectF(rect.left(), rect.top(), rect.width(), DENSITY_HEIGHT)
        self._paint_density(painter, tl.times, density, t0, t1, "detail", dark)
        top = density.bottom() + SPACING
        for kind in MARKER_KINDS:
            row = QRectF(rect.left(), top, rect.width(), ROW_HEIGHT - 2)
            self._paint_ticks(painter, tl.layers.get(kind, ()), row, t0, t1, ("layer", kind),
                              _kind_color(kind, dark))
            top += ROW_HEIGHT
        row = QRectF(rect.left(), top, rect.width(), ROW_HEIGHT - 2)
        self._paint_ticks(painter, tl.flagged_times, row, t0, t1, ("flagged",), _flag_color(dark))
        self._paint_axis(painter, tl, QRectF(rect.left(), rect.bottom(), rect.width(),
                                             AXIS_HEIGHT))

    def _bins(self, key: tuple, times, t0: float, t1: float, columns: int, dense: bool):
        signature = (t0, t1, columns, len(times))
        cached = self._cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        value = (column_counts(times, t0, t1, columns) if dense
                 else occupied_columns(times, t0, t1, columns))
        self._cache[key] = (signature, value)
        return value

    def _paint_density(self, painter: QPainter, times, rect: QRectF, t0: float, t1: float,
                       name: str, dark: bool) -> None:
        columns = max(int(rect.width()), 1)
        counts = self._bins(("density", name), times, t0, t1, columns, dense=True)
        peak = max(counts, default=0)
        if not peak:
            return
        bottom, height = rect.bottom(), rect.height() - 1
        scale = height / math.sqrt(peak)
        lines = [QLineF(x + 0.5, bottom, x + 0.5, bottom - max(1.0, math.sqrt(n) * scale))
                 for x, n in enumerate(counts) if n]
        color = self.palette().color(QPalette.ColorRole.Text)
        color.setAlphaF(0.45 if dark else 0.35)
        painter.setPen(QPen(color, 1))
        painter.drawLines(lines)

    def _paint_ticks(self, painter: QPainter, times, rect: QRectF, t0: float, t1: float,
                     key: tuple, color: QColor) -> None:
        if not len(times):
            return
        columns = max(int(rect.width()), 1)
        occupied = self._bins(key, times, t0, t1, columns, dense=False)
        if not occupied:
            return
        top, bottom = rect.top(), rect.bottom()
        painter.setPen(QPen(color, 1))
        painter.drawLines([QLineF(x + 0.5, top, x + 0.5, bottom) for x in occupied])

    def _paint_inactive(self, painter: QPainter, tl: SessionTimeline, rect: QRectF,
                        t0: float, t1: float, dark: bool) -> None:
        spans = [QRectF(self.x_of(max(a, t0)), rect.top(),
                        self.x_of(min(b, t1)) - self.x_of(max(a, t0)), rect.height())
                 for a, b in tl.inactive if b > t0 and a < t1]
        if not spans:
            return
        shade = self.palette().color(QPalette.ColorRole.Text)
        shade.setAlphaF(0.10 if dark else 0.07)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(shade)
        painter.drawRects(spans)

    def _paint_opt_outs(self, painter: QPainter, tl: SessionTimeline, rect: QRectF,
                        t0: float, t1: float, dark: bool, *, instants: bool) -> None:
        if not tl.opt_outs:
            return
        overview = not instants
        red = _flag_color(dark)
        fill = QColor(red)
        fill.setAlphaF(0.22)
        spans, marks = [], []
        for opt_out in tl.opt_outs:
            start = max(float(opt_out.instant), t0, float(tl.start))
            end = min(float(opt_out.end) if opt_out.end is not None else float(tl.end), t1)
            if end > start:
                left = self.x_of(start, overview=overview)
                spans.append(QRectF(left, rect.top(),
                                    max(self.x_of(end, overview=overview) - left, 1.0),
                                    rect.height()))
            if t0 <= opt_out.instant <= t1:
                marks.append(self.x_of(opt_out.instant, overview=overview))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        if spans:
            painter.drawRects(spans)
        if marks:
            painter.setPen(QPen(red, 2))
            painter.drawLines([QLineF(x, rect.top(), x, rect.bottom()) for x in marks])
            if instants:  # a flag on top of each opt-out instant
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(red)
                for x in marks:
                    painter.drawPolygon(QPolygonF([QPointF(x, rect.top()),
                                                   QPointF(x + 7, rect.top() + 4),
                                                   QPointF(x, rect.top() + 8)]))

    def _paint_axis(self, painter: QPainter, tl: SessionTimeline, rect: QRectF) -> None:
        span = self._t1 - self._t0
        width = max(rect.width(), 1.0)
        step = next((s for s in _TICK_STEPS_MS if s * width / span >= 80), _TICK_STEPS_MS[-1])
        first = math.ceil((self._t0 - tl.start) / step) * step + tl.start
        ticks = []
        t = first
        while t <= self._t1 and len(ticks) < 200:
            ticks.append(t)
            t += step
        color = self.palette().color(QPalette.ColorRole.Text)
        painter.setPen(QPen(color, 1))
        painter.drawLines([QLineF(self.x_of(t), rect.top(), self.x_of(t), rect.top() + 4)
                           for t in ticks])
        painter.setFont(self.font())
        for t in ticks:
            painter.drawText(QPointF(self.x_of(t) + 3, rect.bottom() - 2),
                             format_offset(int(t - tl.start), step < 1000))

    def _paint_playhead(self, painter: QPainter, rect: QRectF, *, overview: bool) -> None:
        if self._position is None:
            return
        x = self.x_of(self._position, overview=overview)
        if not -1 <= x <= self.width() + 1:
            return
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
        painter.drawLine(QLineF(x, rect.top(), x, rect.bottom()))

    # -- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._timeline is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._dragging = ("overview" if event.position().y() < OVERVIEW_HEIGHT + SPACING / 2
                          else "detail")
        self._seek_to(event.position().x())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging is None:
            super().mouseMoveEvent(event)
            return
        self._seek_to(event.position().x())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging is not None and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self._timeline is None:
            return
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:  # pan
            span = self._t1 - self._t0
            self.set_view(self._t0 - steps * span / 10, self._t1 - steps * span / 10)
        else:
            self.zoom(ZOOM_STEP ** steps, self.time_at(event.position().x()))
        event.accept()

    def _seek_to(self, x: float) -> None:
        if self._dragging == "overview":
            ms = self.time_at(x, overview=True)
            span = self._t1 - self._t0
            self.set_view(ms - span / 2, ms + span / 2)
        else:
            ms = self.time_at(x)
        self.seek_requested.emit(round(ms))


def format_offset(ms: int, with_tenths: bool = False) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), with tenths of a second when asked."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    seconds, rest = divmod(ms, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    if with_tenths:
        text += f".{rest // 100}"
    return sign + text


def _kind_color(kind: int, dark: bool) -> QColor:
    return QColor.fromHsl(KIND_HUES[kind], 170, 170 if dark else 100)


def _flag_color(dark: bool) -> QColor:
    return QColor.fromHsl(0, 200, 150 if dark else 110)
