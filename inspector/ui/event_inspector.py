"""The event inspector: one recorded event as pretty JSON, its personal data highlighted, and
whether the audit flagged it and why.

:func:`load_event` runs in a worker (it reads one row of the events table, parses and scans it:
a FullSnapshot can be megabytes); :class:`EventInspector` only shows the result. Spans come from
:func:`inspector.core.pii.find_pii`, which maps matches in escaped text back to the shown text;
with masking on, the event is masked with :func:`~inspector.core.pii.mask_json` first and the
tokens that replaced personal data are highlighted instead.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

import duckdb
import orjson
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from inspector.core.audit import Finding
from inspector.core.audit.categories import LABELS
from inspector.core.audit.findings import iso_ms
from inspector.core.audit.report import duration
from inspector.core.cancel import CancelToken
from inspector.core.pii import TOKENS, find_pii, mask_json

from .session_data import SessionKey

#: Characters of pretty JSON shown (and scanned); a bigger event is cut with a note.
MAX_CHARS = 400_000
MAX_SPANS = 5_000
TYPE_NAMES = {0: "DomContentLoaded", 1: "Load", 2: "FullSnapshot", 3: "IncrementalSnapshot",
              4: "Meta", 5: "Custom", 6: "Plugin"}
SOURCE_NAMES = {0: "Mutation", 1: "MouseMove", 2: "MouseInteraction", 3: "Scroll",
                4: "ViewportResize", 5: "Input", 6: "TouchMove", 7: "MediaInteraction",
                8: "StyleSheetRule", 9: "CanvasMutation", 10: "Font", 11: "Log", 12: "Drag",
                13: "StyleDeclaration", 14: "Selection", 15: "AdoptedStyleSheet",
                16: "CustomElement"}
_TOKEN = re.compile("|".join(re.escape(token) for token in sorted(set(TOKENS.values()),
                                                                   key=len, reverse=True)))
_EVENT_SQL = ("SELECT seq, timestamp, type, source, window_id, data FROM events "
              "WHERE archive_id = ? AND session_id = ? AND seq = ?")


@dataclass
class EventDetail:
    key: SessionKey
    seq: int
    timestamp: int | None
    title: str
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, kind
    flagged: bool = False
    verdict: str = ""
    truncated: bool = False


def load_event(con: duckdb.DuckDBPyConnection, key: SessionKey, seq: int, *, mask: bool,
               category: str | None, finding: Finding | None, audited: bool,
               cancel: CancelToken | None = None) -> EventDetail | None:
    """Event ``seq`` of a session, ready to show (None when there is no such event)."""
    rows = con.execute(_EVENT_SQL, [key.archive_id, key.session_id, seq]).fetchall()
    if not rows:
        return None
    seq, timestamp, kind, source, window_id, text = rows[0]
    if cancel is not None:
        cancel.check()
    try:
        data = orjson.loads(text) if text is not None else None
    except orjson.JSONDecodeError:
        data = text
    if mask:
        data = mask_json(data)[0]
    event = {"type": kind, "timestamp": timestamp, "data": data}
    if window_id is not None:
        event["windowId"] = window_id
    pretty = orjson.dumps(event, option=orjson.OPT_INDENT_2).decode()
    truncated = len(pretty) > MAX_CHARS
    if truncated:
        pretty = pretty[:MAX_CHARS]
    if mask:
        spans = [(m.start(), m.end(), "masked") for m in _TOKEN.finditer(pretty)]
    else:
        spans = [(m.start, m.end, m.kind) for m in find_pii(pretty)]
    name = TYPE_NAMES.get(kind, f"type {kind}")
    if kind == 3 and source is not None:
        name += f" · {SOURCE_NAMES.get(source, f'source {source}')}"
    elif kind in (5, 6) and isinstance(data, dict):
        label = data.get("tag") if kind == 5 else data.get("plugin")
        if isinstance(label, str):
            name += f" · {label}"
    when = iso_ms(timestamp) if timestamp is not None else "no timestamp"
    verdict = explain(seq, timestamp, kind, data, category, finding, audited)
    return EventDetail(key=key, seq=seq, timestamp=timestamp, title=f"#{seq} {name} — {when}",
                       text=pretty, spans=spans[:MAX_SPANS], flagged=category is not None,
                       verdict=verdict, truncated=truncated)


def explain(seq: int, timestamp: int | None, kind: int, data: object, category: str | None,
            finding: Finding | None, audited: bool) -> str:
    """Whether the audit flagged this event, and why, in one or two sentences."""
    if not audited:
        return "The audit has not run yet."
    records = finding.consent if finding is not None else []
    if category is not None:
        record = _record_in_force(records, timestamp)
        what = LABELS.get(category, category)
        if record is None:
            return f"Flagged ({what}): recorded while the person had opted out."
        after = "" if timestamp is None else f" {duration(timestamp - record.at_ms)} after"
        ended = (f", until the opt-in at {iso_ms(record.ended_at_ms)}"
                 if record.ended_at_ms is not None else ", never opted back in")
        return (f"Flagged ({what}): recorded{after} the opt-out of {record.key} at "
                f"{iso_ms(record.at_ms)} ({record.origin} {record.location or ''}, source "
                f"{record.source or '-'}, scope {record.scope or 'all'}{ended}).")
    if finding is not None and seq in finding.undetermined_seqs:
        return ("Undetermined: the event has no timestamp, so it cannot be placed before or "
                "after the opt-out.")
    if kind == 5 and isinstance(data, dict) and data.get("tag") == "consent":
        return "Not flagged: this is a consent marker, the record of the choice itself."
    if not records:
        return "Not flagged: no opt-out applies to this session's person or device."
    if timestamp is not None:
        starts = sorted(r.at_ms for r in records)
        if timestamp < starts[0]:
            return (f"Not flagged: recorded {duration(starts[0] - timestamp)} before the "
                    f"opt-out at {iso_ms(starts[0])}.")
        ended = [r for r in records if r.ended_at_ms is not None and r.ended_at_ms <= timestamp]
        if ended and _record_in_force(records, timestamp) is None:
            last = max(ended, key=lambda r: r.ended_at_ms)
            return f"Not flagged: recorded after the opt-in at {iso_ms(last.ended_at_ms)}."
    return ("Not flagged: every position of this event was recorded before the opt-out, or "
            "it falls outside every opt-out interval.")


def _record_in_force(records, timestamp: int | None):
    if timestamp is None:
        return records[0] if records else None
    live = [r for r in records
            if r.at_ms <= timestamp and (r.ended_at_ms is None or timestamp < r.ended_at_ms)]
    if live:
        return max(live, key=lambda r: r.at_ms)
    return records[0] if records else None


class EventInspector(QWidget):
    """Shows an :class:`EventDetail`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_inspector")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("No event selected", self)
        self.title.setObjectName("event_title")
        self.title.setWordWrap(True)
        self.verdict = QLabel("", self)
        self.verdict.setObjectName("event_verdict")
        self.verdict.setWordWrap(True)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("event_json")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.title)
        layout.addWidget(self.verdict)
        layout.addWidget(self.text, 1)
        self._detail: EventDetail | None = None

    @property
    def detail(self) -> EventDetail | None:
        return self._detail

    def clear(self, message: str = "No event selected") -> None:
        self._detail = None
        self.title.setText(message)
        self.verdict.setText("")
        self.text.setPlainText("")

    def show_detail(self, detail: EventDetail | None) -> None:
        if detail is None:
            self.clear("No event at the playhead")
            return
        self._detail = detail
        self.title.setText(detail.title)
        flagged = detail.flagged
        self.verdict.setText(detail.verdict)
        self.verdict.setStyleSheet(f"color: {_flag_color(self.palette()).name()};"
                                   if flagged else "")
        text = detail.text
        if detail.truncated:
            text += f"\n… (cut at {MAX_CHARS:,} characters)"
        self.text.setPlainText(text)
        self.text.setExtraSelections(self._selections(detail))

    def highlighted(self) -> list[tuple[int, int, str]]:
        return list(self._detail.spans) if self._detail is not None else []

    def _selections(self, detail: EventDetail) -> list[QTextEdit.ExtraSelection]:
        document = self.text.document()
        position = _utf16_positions(detail.text)
        color = QColor.fromHsl(45, 255, 90 if _dark(self.palette()) else 190)
        selections = []
        for start, end, kind in detail.spans:
            selection = QTextEdit.ExtraSelection()
            char = QTextCharFormat()
            char.setBackground(color)
            char.setFontWeight(QFont.Weight.Bold)
            char.setToolTip(f"personal data: {kind}")
            selection.format = char
            cursor = QTextCursor(document)
            cursor.setPosition(position(start))
            cursor.setPosition(position(end), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            selections.append(selection)
        return selections


def _utf16_positions(text: str):
    """Maps a Python index in ``text`` to Qt's (UTF-16) position: characters beyond the BMP
    count twice in Qt."""
    if text.isascii():
        return lambda index: index
    astral = [i for i, char in enumerate(text) if ord(char) > 0xFFFF]
    return lambda index: index + bisect_right(astral, index - 1)


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def _flag_color(palette: QPalette) -> QColor:
    return QColor.fromHsl(0, 200, 160 if _dark(palette) else 100)
