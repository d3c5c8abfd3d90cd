"""The replay canvas: the page at the playhead as a wireframe, with the visitor's pointer on top.

A frame is made in a worker (:class:`FrameRenderer`, run by the player's frame lane): the core
replay engine seeks the instant, :mod:`.wireframe` lays the page out (once per DOM state), and
the part inside the visitor's viewport, scrolled as they had scrolled it, is drawn into a
``QImage`` at the size it will be shown. The canvas only draws that image and the overlay —
mouse trail, clicks, the pointer, a scroll bar — so painting costs the same for any page.

The viewport is the one recorded in Meta and ViewportResize events; pointer positions are
viewport coordinates, so they land where the visitor's pointer was even though the wireframe's
boxes are only an approximation of the real layout.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from inspector.core.pii import mask_url
from inspector.core.replay import PageState

from .session_data import SessionData
from .wireframe import (
    BLOCK,
    BUTTON,
    CHECKBOX,
    HEADING,
    IMAGE,
    INPUT,
    LINK,
    RADIO,
    TEXT,
    Box,
    Layout,
    layout_page,
)

DEFAULT_VIEWPORT = (1024, 768)
TRAIL_MS = 1_500
CLICK_MS = 800
MAX_SCALE = 1.5
FONT_PX = 14.0
MARGIN = 12


@dataclass(frozen=True)
class Colors:
    """The palette colours a frame is drawn with (ARGB), taken on the UI thread."""

    page: int
    text: int
    muted: int
    outline: int
    link: int
    field: int
    button: int
    button_text: int
    highlight: int

    @classmethod
    def from_palette(cls, palette: QPalette) -> Colors:
        role = QPalette.ColorRole

        def argb(r: QPalette.ColorRole) -> int:
            return palette.color(r).rgba()

        return cls(page=argb(role.Base), text=argb(role.Text), muted=argb(role.PlaceholderText),
                   outline=argb(role.Mid), link=argb(role.Link), field=argb(role.AlternateBase),
                   button=argb(role.Button), button_text=argb(role.ButtonText),
                   highlight=argb(role.Highlight))


@dataclass(frozen=True)
class FrameRequest:
    at: int  # epoch ms
    size: tuple[int, int]  # the canvas, logical pixels
    dpr: float
    mask: bool
    colors: Colors
    want_html: bool = False


@dataclass
class Frame:
    at: int
    position: int  # the engine's event position: same position, same DOM
    url: str | None
    viewport: tuple[int, int]
    scroll: tuple[float, float]
    document_height: float
    nodes: int
    image: QImage | None
    target: QRectF  # where the image goes on the canvas
    scale: float
    trail: list[tuple[float, float]] = field(default_factory=list)
    pointer: tuple[float, float] | None = None
    clicks: list[tuple[float, float, int]] = field(default_factory=list)  # x, y, age ms
    html: str | None = None  # the safe HTML when asked for and changed since the last one
    html_key: tuple | None = None
    message: str = ""


class FrameRenderer:
    """Makes frames of one session. Used by one lane only: never by two threads at once."""

    def __init__(self, data: SessionData) -> None:
        self.data = data
        self._layout_key: tuple | None = None
        self._layout: Layout | None = None
        self._html_key: tuple | None = None
        self._lock = threading.Lock()  # documents the one-thread rule; never contended

    def forget_html(self) -> None:
        """Send the HTML with the next frame even if the DOM has not changed."""
        self._html_key = None

    def render(self, request: FrameRequest) -> Frame:
        with self._lock:
            return self._render(request)

    def _render(self, request: FrameRequest) -> Frame:
        data = self.data
        replay = data.replay
        # A session without timestamps cannot be sought by time: it shows its last state.
        page = replay.seek(request.at) if replay.timed else replay.seek_seq(2**62)
        viewport = page.viewport or DEFAULT_VIEWPORT
        layout = self._layout_for(page, viewport[0], request.mask)
        scroll = data.scrolls.document_offset(request.at, layout.document_ids)
        max_scroll = max(layout.height - viewport[1], 0.0)
        scroll = (scroll[0], min(max(scroll[1], 0.0), max_scroll))
        width, height = request.size
        scale = min((width - 2 * MARGIN) / viewport[0], (height - 2 * MARGIN) / viewport[1],
                    MAX_SCALE)
        scale = max(scale, 0.05)
        target = QRectF((width - viewport[0] * scale) / 2, (height - viewport[1] * scale) / 2,
                        viewport[0] * scale, viewport[1] * scale)
        message = ""
        if page.root is None:
            message = "No page recorded yet at this instant (before the first full snapshot)"
        image = render_wireframe(layout, viewport, scroll, scale, request.dpr, request.colors)
        url = page.url
        if url and request.mask:
            url = mask_url(url)[0]
        html = None
        html_key = (id(data), page.position, request.mask)
        if request.want_html and html_key != self._html_key:
            html = page.html(mask_pii=request.mask)
            self._html_key = html_key
        trail = [(x, y) for _, x, y in data.pointer.between(request.at - TRAIL_MS, request.at)]
        last = data.pointer.last_at(request.at)
        pointer = (last[1], last[2]) if last is not None else None
        clicks = [(x, y, request.at - t)
                  for t, x, y in data.clicks.between(request.at - CLICK_MS, request.at)]
        return Frame(at=request.at, position=page.position, url=url, viewport=viewport,
                     scroll=scroll, document_height=layout.height, nodes=page.nodes,
                     image=image, target=target, scale=scale, trail=trail, pointer=pointer,
                     clicks=clicks, html=html, html_key=html_key, message=message)

    def _layout_for(self, page: PageState, width: int, mask: bool) -> Layout:
        key = (page.position, width, mask)
        if key != self._layout_key or self._layout is None:
            self._layout = layout_page(page, width, mask_pii=mask)
            self._layout_key = key
        return self._layout


def render_wireframe(layout: Layout, viewport: tuple[int, int], scroll: tuple[float, float],
                     scale: float, dpr: float, colors: Colors) -> QImage:
    """The part of ``layout`` inside the viewport, drawn at ``scale`` (any thread)."""
    width = max(1, round(viewport[0] * scale * dpr))
    height = max(1, round(viewport[1] * scale * dpr))
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(QColor.fromRgba(colors.page))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.scale(scale, scale)
    painter.translate(-scroll[0], -scroll[1])
    top, bottom = scroll[1], scroll[1] + viewport[1]
    visible = [b for b in layout.boxes if b.y < bottom and b.y + b.h > top]
    _draw_boxes(painter, visible, colors)
    painter.end()
    return image


def _draw_boxes(painter: QPainter, boxes: list[Box], colors: Colors) -> None:
    by_kind: dict[int, list[Box]] = {}
    for box in boxes:
        by_kind.setdefault(box.kind, []).append(box)
    outline = QColor.fromRgba(colors.outline)
    text = QColor.fromRgba(colors.text)
    muted = QColor.fromRgba(colors.muted)
    font = QFont()
    font.setPixelSize(round(FONT_PX))

    blocks = by_kind.get(BLOCK, [])
    if blocks:
        faint = QColor(outline)
        faint.setAlphaF(0.55)
        painter.setPen(QPen(faint, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRects([QRectF(b.x, b.y, b.w, b.h) for b in blocks])

    images = by_kind.get(IMAGE, [])
    if images:
        fill = QColor(outline)
        fill.setAlphaF(0.18)
        painter.setPen(QPen(outline, 1))
        painter.setBrush(fill)
        painter.drawRects([QRectF(b.x, b.y, b.w, b.h) for b in images])
        painter.drawLines([line for b in images for line in
                           (QLineF(b.x, b.y, b.x + b.w, b.y + b.h),
                            QLineF(b.x + b.w, b.y, b.x, b.y + b.h))])

    fields = by_kind.get(INPUT, [])
    if fields:
        painter.setPen(QPen(outline, 1.2))
        painter.setBrush(QColor.fromRgba(colors.field))
        painter.drawRects([QRectF(b.x, b.y, b.w, b.h) for b in fields])

    checks = by_kind.get(CHECKBOX, []) + by_kind.get(RADIO, [])
    for box in checks:
        painter.setPen(QPen(outline, 1.2))
        painter.setBrush(QColor.fromRgba(colors.highlight) if box.checked
                         else QColor.fromRgba(colors.field))
        rect = QRectF(box.x, box.y, box.w, box.h)
        if box.kind == RADIO:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)

    buttons = by_kind.get(BUTTON, [])
    if buttons:
        painter.setPen(QPen(outline, 1))
        painter.setBrush(QColor.fromRgba(colors.button))
        for box in buttons:
            painter.drawRoundedRect(QRectF(box.x, box.y, box.w, box.h), 4, 4)

    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setFont(font)
    align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    for kind, color in ((TEXT, text), (LINK, QColor.fromRgba(colors.link))):
        painter.setPen(color)
        for box in by_kind.get(kind, []):
            painter.drawText(QRectF(box.x, box.y, box.w + 40, box.h), align, box.text)
    heading = QFont(font)
    heading.setBold(True)
    painter.setPen(text)
    for box in by_kind.get(HEADING, []):
        heading.setPixelSize(max(6, round(FONT_PX * box.scale)))
        painter.setFont(heading)
        painter.drawText(QRectF(box.x, box.y, box.w + 80, box.h), align, box.text)
    painter.setFont(font)
    for box in fields:
        painter.setPen(muted if box.muted else text)
        painter.drawText(QRectF(box.x + 6, box.y, box.w - 10, box.h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                         | Qt.TextFlag.TextSingleLine, box.text)
    painter.setPen(QColor.fromRgba(colors.button_text))
    for box in buttons:
        painter.drawText(QRectF(box.x, box.y, box.w, box.h), Qt.AlignmentFlag.AlignCenter,
                         box.text)
    small = QFont(font)
    small.setPixelSize(11)
    painter.setFont(small)
    painter.setPen(muted)
    for box in images:
        if box.w > 40 and box.h > 16:
            painter.drawText(QRectF(box.x + 4, box.y + 2, box.w - 8, 14),
                             Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextSingleLine, box.text)


def paint_overlay(painter: QPainter, frame: Frame, target: QRectF, palette: QPalette) -> None:
    """Mouse trail, clicks, the pointer and the page's scroll bar over ``target``."""
    scale = target.width() / frame.viewport[0] if frame.viewport[0] else 1.0

    def at(x: float, y: float) -> QPointF:
        return QPointF(target.left() + x * scale, target.top() + y * scale)

    painter.save()
    painter.setClipRect(target)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    accent = QColor.fromHsl(330, 200, 120)
    if len(frame.trail) > 1:
        trail = QColor(accent)
        trail.setAlphaF(0.55)
        painter.setPen(QPen(trail, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        points = [at(x, y) for x, y in frame.trail]
        painter.drawPolyline(points)
    for x, y, age in frame.clicks:
        fade = max(0.0, 1.0 - age / CLICK_MS)
        ring = QColor(accent)
        ring.setAlphaF(0.25 + 0.6 * fade)
        painter.setPen(QPen(ring, 2.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        radius = 6 + 18 * (1 - fade)
        painter.drawEllipse(at(x, y), radius, radius)
    if frame.pointer is not None:
        tip = at(*frame.pointer)
        arrow = [tip, tip + QPointF(0, 16), tip + QPointF(4.5, 12), tip + QPointF(8, 19),
                 tip + QPointF(10.5, 18), tip + QPointF(7, 11), tip + QPointF(12, 11)]
        painter.setPen(QPen(QColor("white"), 1.2))
        painter.setBrush(QColor(20, 20, 20))
        painter.drawPolygon(arrow)
    if frame.document_height > frame.viewport[1]:
        track = QRectF(target.right() - 6, target.top() + 2, 4, target.height() - 4)
        share = frame.viewport[1] / frame.document_height
        offset = frame.scroll[1] / frame.document_height
        thumb = QRectF(track.left(), track.top() + offset * track.height(), track.width(),
                       max(share * track.height(), 8))
        handle = palette.color(QPalette.ColorRole.Text)
        handle.setAlphaF(0.35)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(handle)
        painter.drawRoundedRect(thumb, 2, 2)
    painter.restore()


class ReplayCanvas(QWidget):
    """Draws the latest frame. It never seeks or lays out anything itself."""

    resized = Signal()
    frame_painted = Signal(object)  # the instant of a frame after it was first painted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replay_canvas")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 60)
        self._frame: Frame | None = None
        self._announced: Frame | None = None
        self._message = "Select a session to replay it"

    @property
    def frame(self) -> Frame | None:
        return self._frame

    def set_frame(self, frame: Frame | None) -> None:
        self._frame = frame
        self.update()

    def set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(720, 480)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window).darker(108))
        frame = self._frame
        if frame is None or frame.image is None:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            painter.end()
            return
        target = frame.target
        shadow = QColor(0, 0, 0, 50)
        painter.fillRect(target.translated(3, 3), shadow)
        painter.drawImage(target, frame.image)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target)
        paint_overlay(painter, frame, target, palette)
        if frame.message:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(target, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             frame.message)
        painter.end()
        if self._announced is not frame:
            self._announced = frame
            self.frame_painted.emit(frame.at)
