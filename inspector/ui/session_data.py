"""Everything the player shows about one session, read once from the store, in a worker.

The page itself is the core replay engine's (:class:`~inspector.core.replay.ReplaySession`, the
same engine as ``inspector page``). Around it the player needs what the engine does not keep:
every event's instant and kind for the timeline, pointer positions, clicks and scrolls for the
overlay, console messages and network requests for their lists, and the audit's flagged events
and opt-out intervals. The bulky parts (kinds, pointer positions inside mouse-move batches) are
worked out by DuckDB as columns, so a million events never become a million Python objects.

No Qt here; :mod:`.workers` runs :func:`load_session` on the thread pool.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from inspector.core.audit import AuditResult, Finding
from inspector.core.audit.categories import CONSOLE_PLUGIN, NETWORK_PLUGIN
from inspector.core.cancel import CancelToken
from inspector.core.errors import Cancelled
from inspector.core.replay import ReplaySession

from .timeline_data import (
    CLICK,
    CUSTOM,
    ERROR,
    INPUT,
    MARKER_KINDS,
    NAVIGATION,
    OptOut,
    SessionTimeline,
    float_array,
    inactive_periods,
    int_array,
)

# MouseInteraction types drawn as clicks: Click, ContextMenu, DblClick.
CLICK_TYPES = (2, 3, 4)
_ERROR_LEVELS = "('error', 'assert')"
_SESSION = "archive_id = $archive AND session_id = $session"

_TIMELINE_SQL = f"""
SELECT timestamp, seq,
  CASE
    WHEN type = 4 THEN {NAVIGATION}
    WHEN type = 5 THEN {CUSTOM}
    WHEN type = 3 AND source = 5 THEN {INPUT}
    WHEN type = 3 AND source = 2
         AND TRY_CAST(json_extract(data, '$.type') AS INTEGER) IN {CLICK_TYPES} THEN {CLICK}
    WHEN type = 6 AND json_extract_string(data, '$.plugin') = '{CONSOLE_PLUGIN}'
         AND json_extract_string(data, '$.payload.level') IN {_ERROR_LEVELS} THEN {ERROR}
    WHEN type = 3 AND source = 11
         AND json_extract_string(data, '$.level') IN {_ERROR_LEVELS} THEN {ERROR}
    ELSE 0 END::UTINYINT AS kind,
  -- rrweb-player's user interactions: MouseMove to Input
  (type = 3 AND source BETWEEN 1 AND 5) AS interaction
FROM events WHERE {_SESSION} AND timestamp IS NOT NULL
ORDER BY timestamp, seq
"""

_COUNTS_SQL = f"""
SELECT count(*) FILTER (timestamp IS NULL), min(timestamp) FILTER (type = 2)
FROM events WHERE {_SESSION}
"""

# Pointer positions: each position of a MouseMove, TouchMove or Drag batch at its own instant
# (timestamp + timeOffset), and the position of every mouse interaction.
_MOVES = '{"positions": [{"x": "DOUBLE", "y": "DOUBLE", "timeOffset": "BIGINT"}]}'
_POINT = '{"type": "INTEGER", "x": "DOUBLE", "y": "DOUBLE"}'
_POINTER_SQL = f"""
WITH moves AS (
    SELECT timestamp, unnest(json_transform(data, '{_MOVES}').positions) AS p
    FROM events WHERE {_SESSION} AND type = 3 AND source IN (1, 6, 12)
      AND timestamp IS NOT NULL),
interactions AS (
    SELECT timestamp, json_transform(data, '{_POINT}') AS p
    FROM events WHERE {_SESSION} AND type = 3 AND source = 2 AND timestamp IS NOT NULL),
points AS (
    SELECT timestamp + coalesce(p.timeOffset, 0) AS t, p.x AS x, p.y AS y FROM moves
    UNION ALL
    SELECT timestamp, p.x, p.y FROM interactions)
SELECT t, x, y FROM points WHERE x IS NOT NULL AND y IS NOT NULL ORDER BY t
"""

_CLICKS_SQL = f"""
WITH interactions AS (
    SELECT timestamp, seq, json_transform(data, '{_POINT}') AS p
    FROM events WHERE {_SESSION} AND type = 3 AND source = 2 AND timestamp IS NOT NULL)
SELECT timestamp AS t, p.x AS x, p.y AS y FROM interactions
WHERE p.type IN {CLICK_TYPES} AND p.x IS NOT NULL AND p.y IS NOT NULL
ORDER BY timestamp, seq
"""

_SCROLL = '{"id": "BIGINT", "x": "DOUBLE", "y": "DOUBLE"}'
# Scroll positions, and each FullSnapshot's initial offset (id -1: the new document).
_SCROLL_SQL = f"""
SELECT timestamp AS t, s.id, coalesce(s.x, 0) AS x, coalesce(s.y, 0) AS y, seq
FROM (SELECT timestamp, seq, json_transform(data, '{_SCROLL}') AS s FROM events
      WHERE {_SESSION} AND type = 3 AND source = 3 AND timestamp IS NOT NULL)
UNION ALL
SELECT timestamp, -1,
       coalesce(TRY_CAST(json_extract(data, '$.initialOffset.left') AS DOUBLE), 0),
       coalesce(TRY_CAST(json_extract(data, '$.initialOffset.top') AS DOUBLE), 0), seq
FROM events WHERE {_SESSION} AND type = 2 AND timestamp IS NOT NULL
ORDER BY t, seq
"""

_LOGS_SQL = f"""
SELECT seq, timestamp, type, data FROM events
WHERE {_SESSION} AND ((type = 6 AND json_extract_string(data, '$.plugin') IN
                       ('{CONSOLE_PLUGIN}', '{NETWORK_PLUGIN}'))
                      OR (type = 3 AND source = 11))
ORDER BY timestamp NULLS LAST, seq
"""


@dataclass(frozen=True)
class SessionKey:
    archive_id: int
    session_id: str


@dataclass
class Points:
    """Instants (sorted) with x and y, for the overlay."""

    times: array = field(default_factory=lambda: array("q"))
    xs: array = field(default_factory=lambda: array("d"))
    ys: array = field(default_factory=lambda: array("d"))

    def between(self, t0: int, t1: int) -> list[tuple[int, float, float]]:
        """(instant, x, y) of the points in ``(t0, t1]``."""
        lo, hi = bisect_right(self.times, t0), bisect_right(self.times, t1)
        return [(self.times[i], self.xs[i], self.ys[i]) for i in range(lo, hi)]

    def last_at(self, t: int) -> tuple[int, float, float] | None:
        index = bisect_right(self.times, t) - 1
        return (self.times[index], self.xs[index], self.ys[index]) if index >= 0 else None


@dataclass
class Scrolls:
    """Scroll positions by target node (-1: a new document's initial offset)."""

    times: array = field(default_factory=lambda: array("q"))
    ids: array = field(default_factory=lambda: array("q"))
    xs: array = field(default_factory=lambda: array("d"))
    ys: array = field(default_factory=lambda: array("d"))

    def document_offset(self, t: int, document_ids: set[int]) -> tuple[float, float]:
        """The page's scroll offset at ``t``: the last scroll of one of ``document_ids`` (the
        document, html or body) or the last snapshot's initial offset, whichever is later."""
        for index in range(bisect_right(self.times, t) - 1, -1, -1):
            target = self.ids[index]
            if target == -1 or target in document_ids:
                return self.xs[index], self.ys[index]
        return 0.0, 0.0


@dataclass(frozen=True)
class LogRow:
    seq: int
    timestamp: int | None
    level: str
    text: str


@dataclass(frozen=True)
class RequestRow:
    seq: int
    timestamp: int | None
    method: str
    status: str
    url: str
    kind: str


@dataclass
class SessionData:
    key: SessionKey
    replay: ReplaySession
    timeline: SessionTimeline
    pointer: Points
    clicks: Points
    scrolls: Scrolls
    console: list[LogRow]
    network: list[RequestRow]
    finding: Finding | None
    #: Audit category of each flagged seq.
    flagged_categories: dict[int, str]


def load_session(con: duckdb.DuckDBPyConnection, key: SessionKey, audit: AuditResult | None,
                 cancel: CancelToken | None = None) -> SessionData:
    """Read one session for the player. ``con`` is a cursor this thread owns."""
    cancel = cancel or CancelToken()
    replay = ReplaySession.load(con, key.archive_id, key.session_id)
    cancel.check()
    timeline = load_timeline(con, key, audit, replay.start, replay.end, cancel)
    remove = cancel.on_cancel(con.interrupt)
    params = {"archive": key.archive_id, "session": key.session_id}
    try:
        pointer = con.sql(_POINTER_SQL, params=params).to_arrow_table()
        clicks = con.sql(_CLICKS_SQL, params=params).to_arrow_table()
        scrolls = con.sql(_SCROLL_SQL, params=params).to_arrow_table()
        logs = con.execute(_LOGS_SQL, params).fetchall()
    except duckdb.InterruptException as exc:
        raise Cancelled() from exc
    finally:
        remove()
    cancel.check()
    finding = _finding_of(audit, key)
    flagged = _flagged_of(audit, key)
    console, network = _logs(logs)
    categories = dict(zip(flagged["seq"].to_pylist(), flagged["category"].to_pylist(),
                          strict=True))
    return SessionData(
        key=key, replay=replay, timeline=timeline,
        pointer=Points(int_array(pointer["t"]), float_array(pointer["x"]),
                       float_array(pointer["y"])),
        clicks=Points(int_array(clicks["t"]), float_array(clicks["x"]), float_array(clicks["y"])),
        scrolls=Scrolls(int_array(scrolls["t"]), int_array(scrolls["id"].fill_null(-2)),
                        float_array(scrolls["x"]), float_array(scrolls["y"])),
        console=console, network=network, finding=finding, flagged_categories=categories)


def load_timeline(con: duckdb.DuckDBPyConnection, key: SessionKey, audit: AuditResult | None,
                  start: int | None = None, end: int | None = None,
                  cancel: CancelToken | None = None) -> SessionTimeline:
    """Every timed event of the session by kind, its inactivity, flags and opt-outs.

    ``start`` and ``end`` (epoch ms) widen the session beyond its first and last events.
    """
    cancel = cancel or CancelToken()
    remove = cancel.on_cancel(con.interrupt)
    params = {"archive": key.archive_id, "session": key.session_id}
    try:
        events = con.sql(_TIMELINE_SQL, params=params).to_arrow_table()
        (untimed, first_snapshot), = con.execute(_COUNTS_SQL, params).fetchall()
    except duckdb.InterruptException as exc:
        raise Cancelled() from exc
    finally:
        remove()
    cancel.check()
    timeline = _timeline(events, start, end, untimed, _flagged_of(audit, key),
                         _finding_of(audit, key))
    if first_snapshot is not None:
        timeline.first_page = min(max(first_snapshot, timeline.start), timeline.end)
    return timeline


def with_audit(data: SessionData, audit: AuditResult | None) -> SessionData:
    """``data`` with the flags and opt-outs of another audit run (the page is kept)."""
    finding = _finding_of(audit, data.key)
    flagged = _flagged_of(audit, data.key)
    timeline = data.timeline
    times, seqs = _sorted_flags(flagged)
    new_timeline = SessionTimeline(timeline.start, timeline.end, timeline.times, timeline.seqs,
                                   timeline.layers, timeline.inactive, times, seqs,
                                   _opt_outs(finding), timeline.untimed, timeline.first_page)
    categories = dict(zip(flagged["seq"].to_pylist(), flagged["category"].to_pylist(),
                          strict=True))
    return SessionData(data.key, data.replay, new_timeline, data.pointer, data.clicks,
                       data.scrolls, data.console, data.network, finding, categories)


def _finding_of(audit: AuditResult | None, key: SessionKey) -> Finding | None:
    if audit is None:
        return None
    return next((f for f in audit.findings
                 if f.archive_id == key.archive_id and f.session_id == key.session_id), None)


def _flagged_of(audit: AuditResult | None, key: SessionKey) -> pa.Table:
    if audit is None or audit.flagged.num_rows == 0:
        return pa.table({"seq": pa.array([], pa.int64()), "timestamp": pa.array([], pa.int64()),
                         "category": pa.array([], pa.string())})
    table = audit.flagged
    mask = pc.and_(pc.equal(table["archive_id"], key.archive_id),
                   pc.equal(table["session_id"], key.session_id))
    return table.filter(mask).select(["seq", "timestamp", "category"])


def _sorted_flags(flagged: pa.Table) -> tuple[array, array]:
    timed = flagged.filter(pc.is_valid(flagged["timestamp"]))
    order = pc.sort_indices(timed, sort_keys=[("timestamp", "ascending"), ("seq", "ascending")])
    timed = timed.take(order)
    return int_array(timed["timestamp"]), int_array(timed["seq"])


def _opt_outs(finding: Finding | None) -> list[OptOut]:
    if finding is None:
        return []
    return [OptOut(record.at_ms, record.ended_at_ms, record.source, record.scope, record.key)
            for record in finding.consent]


def _timeline(events: pa.Table, start: int | None, end: int | None, untimed: int,
              flagged: pa.Table, finding: Finding | None) -> SessionTimeline:
    times = events["timestamp"]
    if start is None or end is None:
        start, end = ((pc.min(times).as_py(), pc.max(times).as_py()) if events.num_rows
                      else (0, 0))
    if events.num_rows:  # the store's first/last may miss events with odd timestamps
        start = min(start, pc.min(times).as_py())
        end = max(end, pc.max(times).as_py())
    kinds = events["kind"]
    layers = {kind: int_array(pc.filter(times, pc.equal(kinds, kind))) for kind in MARKER_KINDS}
    interactions = pc.filter(times, events["interaction"])
    flagged_times, flagged_seqs = _sorted_flags(flagged)
    return SessionTimeline(start=start, end=max(end, start + 1), times=int_array(times),
                           seqs=int_array(events["seq"]), layers=layers,
                           inactive=inactive_periods(interactions, start, end),
                           flagged_times=flagged_times, flagged_seqs=flagged_seqs,
                           opt_outs=_opt_outs(finding), untimed=untimed)


def _logs(rows: list[tuple]) -> tuple[list[LogRow], list[RequestRow]]:
    console: list[LogRow] = []
    network: list[RequestRow] = []
    for seq, timestamp, kind, text in rows:
        try:
            data = orjson.loads(text) if text else None
        except orjson.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        if kind == 3:  # rrweb's old Log incremental source
            console.append(LogRow(seq, timestamp, str(data.get("level") or "log"),
                                  _console_text(data.get("payload"))))
            continue
        payload = data.get("payload")
        if not isinstance(payload, dict):
            continue
        if data.get("plugin") == CONSOLE_PLUGIN:
            console.append(LogRow(seq, timestamp, str(payload.get("level") or "log"),
                                  _console_text(payload.get("payload"))))
            continue
        requests = payload.get("requests")
        for request in requests if isinstance(requests, list) else []:
            if not isinstance(request, dict):
                continue
            url = request.get("name") or request.get("url") or ""
            status = request.get("responseStatus", request.get("status"))
            network.append(RequestRow(seq, timestamp, str(request.get("method") or "GET"),
                                      "" if status is None else str(status), str(url),
                                      str(request.get("initiatorType") or "")))
    return console, network


def _console_text(args: Any) -> str:
    """rrweb's console plugin records each argument as a JSON string: show them unquoted."""
    if not isinstance(args, list):
        return "" if args is None else str(args)
    parts = []
    for arg in args:
        if isinstance(arg, str):
            try:
                value = orjson.loads(arg)
            except orjson.JSONDecodeError:
                value = arg
            parts.append(value if isinstance(value, str) else arg)
        else:
            parts.append(orjson.dumps(arg).decode())
    return " ".join(parts)
