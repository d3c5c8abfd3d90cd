"""The per-person chart: flagged events over time, as a self-contained SVG.

A person's flagged events come in bursts (sessions of minutes) separated by hours or days, so a
linear time axis would squeeze every session into a hairline. The chart shows each session as
its own panel on one shared vertical axis, the cumulative count of flagged events, with the gaps
between sessions cut out and labelled by their length. The opt-out (and opt-in) instants are
drawn where they fall; an opt-out before the first session is stated at the left edge.

The SVG uses no fonts beyond a generic family, no scripts and no external references, so the
HTML report embeds it as is and the PDF renders it with QtSvg.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from ..audit.report import duration
from .model import Chart, Segment

WIDTH, HEIGHT = 720, 230
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 14, 34, 58
_GAP = 26  # pixels between two session panels
_MIN_SHARE = 0.2  # no panel narrower than this share of the plot width
_POINTS = 160  # most points kept per session

RED, GREEN, INK, MUTED, GRID, FILL = "#b42318", "#1a7f37", "#1f2328", "#59636e", "#d8dee4", \
    "#f4c7c3"


def build_chart(opt_out_ms: int, marks: list[tuple[int, str]],
                sessions: list[tuple[str, int, int, list[int]]]) -> Chart:
    """``sessions``: (session id, start, end, flagged instants) in time order."""
    segments = []
    total = 0
    for session_id, start, end, instants in sessions:
        instants = sorted(instants)
        before = total
        points = []
        span = max(1, end - start)
        last_bin = None
        for number, instant in enumerate(instants, start=before + 1):
            cell = (instant - start) * _POINTS // span
            if cell == last_bin:
                points[-1] = (instant, number)
            else:
                points.append((instant, number))
                last_bin = cell
        total += len(instants)
        segments.append(Segment(session_id=session_id, start_ms=min(start, *instants[:1]),
                                end_ms=max(end, *instants[-1:]), points=points,
                                flagged_events=len(instants)))
    return Chart(opt_out_ms=opt_out_ms, marks=marks, total=total, segments=segments)


def chart_svg(chart: Chart, *, title: str) -> str:
    """The chart as an SVG document (no XML declaration: it is embedded in HTML as is)."""
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    top, bottom = _TOP, _TOP + plot_h
    panels = _panels(chart.segments, plot_w)
    y_max, step = _axis(chart.total)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" role="img" '
           f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']

    def y_of(count: float) -> float:
        return bottom - plot_h * count / y_max if y_max else bottom

    for tick in range(0, y_max + 1, step):
        y = y_of(tick)
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}" '
                   f'text-anchor="end">{tick:,}</text>')
    out.append(f'<text x="14" y="{(top + bottom) / 2:.1f}" font-size="11" fill="{MUTED}" '
               f'text-anchor="middle" transform="rotate(-90 14 {(top + bottom) / 2:.1f})">'
               "flagged events (cumulative)</text>")

    first = chart.segments[0] if chart.segments else None
    if first is not None and chart.opt_out_ms < first.start_ms:
        out.append(f'<line x1="{_LEFT}" y1="{top - 4}" x2="{_LEFT}" y2="{bottom}" '
                   f'stroke="{RED}" stroke-width="2"/>')
        out.append(f'<text x="{_LEFT + 4}" y="{top - 10}" font-size="11" fill="{RED}">'
                   f"opt-out {escape(_clock(chart.opt_out_ms))}, "
                   f"{escape(duration(first.start_ms - chart.opt_out_ms))} before this "
                   "session</text>")

    previous_end = None
    for (x0, x1), segment in zip(panels, chart.segments, strict=True):
        span = max(1, segment.end_ms - segment.start_ms)

        def x_of(instant: int, x0: float = x0, x1: float = x1, segment: Segment = segment,
                 span: int = span) -> float:
            return x0 + (x1 - x0) * (instant - segment.start_ms) / span

        out.append(f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot_h}" '
                   f'fill="none" stroke="{GRID}" stroke-width="1"/>')
        base = segment.points[0][1] - 1 if segment.points else 0
        path = [(x0, y_of(base))]
        for instant, count in segment.points:
            x = x_of(instant)
            path.append((x, path[-1][1]))
            path.append((x, y_of(count)))
        path.append((x1, path[-1][1]))
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
        area = f"{x0:.1f},{bottom} {line} {x1:.1f},{bottom}"
        out.append(f'<polygon points="{area}" fill="{FILL}" fill-opacity="0.7"/>')
        out.append(f'<polyline points="{line}" fill="none" stroke="{RED}" stroke-width="2"/>')
        for instant, kind in chart.marks:
            if segment.start_ms <= instant <= segment.end_ms:
                x = x_of(instant)
                colour = RED if kind == "opt-out" else GREEN
                out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" '
                           f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>')
                anchor = "start" if x < (x0 + x1) / 2 else "end"
                dx = 3 if anchor == "start" else -3
                out.append(f'<text x="{x + dx:.1f}" y="{top - 8}" font-size="11" '
                           f'fill="{colour}" text-anchor="{anchor}">{kind} '
                           f"{escape(_time(instant))}</text>")
        middle = (x0 + x1) / 2
        out.append(f'<text x="{middle:.1f}" y="{bottom + 16}" font-size="11" fill="{INK}" '
                   f'text-anchor="middle">{escape(_day(segment.start_ms))}</text>')
        out.append(f'<text x="{middle:.1f}" y="{bottom + 30}" font-size="10" fill="{MUTED}" '
                   f'text-anchor="middle">session {escape(segment.session_id[:13])}</text>')
        out.append(f'<text x="{middle:.1f}" y="{bottom + 44}" font-size="10" fill="{MUTED}" '
                   f'text-anchor="middle">{escape(duration(span))}, '
                   f"{segment.flagged_events:,} flagged</text>")
        if previous_end is not None:
            gap_x = x0 - _GAP / 2
            out.append(f'<path d="M {gap_x - 5:.1f} {bottom + 5} l 6 -10 M {gap_x - 1:.1f} '
                       f'{bottom + 5} l 6 -10" stroke="{MUTED}" stroke-width="1.5"/>')
            out.append(f'<text x="{gap_x:.1f}" y="{top + 12}" font-size="10" fill="{MUTED}" '
                       f'text-anchor="middle">+{escape(duration(segment.start_ms - previous_end))}'
                       "</text>")
        previous_end = segment.end_ms
    out.append(f'<line x1="{_LEFT}" y1="{bottom}" x2="{WIDTH - _RIGHT}" y2="{bottom}" '
               f'stroke="{INK}" stroke-width="1"/>')
    out.append("</svg>")
    return "\n".join(out)


def _panels(segments: list[Segment], width: int) -> list[tuple[float, float]]:
    """Each session's horizontal extent: a share of the width by duration, with a minimum."""
    if not segments:
        return []
    usable = width - _GAP * (len(segments) - 1)
    spans = [max(1, s.end_ms - s.start_ms) for s in segments]
    minimum = min(_MIN_SHARE, 1 / len(segments))
    shares = [max(minimum, span / sum(spans)) for span in spans]
    scale = usable / sum(shares)
    out, x = [], float(_LEFT)
    for share in shares:
        out.append((x, x + share * scale))
        x += share * scale + _GAP
    return out


def _axis(value: int) -> tuple[int, int]:
    """The top of the vertical axis and its tick step: at most five round steps."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5) if magnitude == 1 else (1, 2, 2.5, 5):
            step = int(magnitude * factor)
            if -(-max(value, 1) // step) <= 5:
                return step * -(-max(value, 1) // step), step
        magnitude *= 10


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d %b %Y %H:%M UTC")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d %b %H:%M")


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")
