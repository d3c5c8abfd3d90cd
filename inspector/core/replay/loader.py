"""Reading one session's page-changing events out of the store.

Only FullSnapshot, Meta and the Mutation, ViewportResize and Input incremental events are read
(the filter runs inside DuckDB), as columns, so mouse moves and scrolls — most of a recording —
never reach Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .engine import RawEvent
from .ops import FULL_SNAPSHOT_TYPE, INCREMENTAL_TYPE, META_TYPE, PAGE_SOURCES

_EVENTS = f"""
SELECT seq, timestamp, type, source, data FROM events
WHERE archive_id = ? AND session_id = ?
  AND (type IN ({FULL_SNAPSHOT_TYPE}, {META_TYPE})
       OR (type = {INCREMENTAL_TYPE} AND source IN ({", ".join(map(str, PAGE_SOURCES))})))
ORDER BY seq
"""


@dataclass
class Loaded:
    archive_id: int
    first_ts: int | None
    last_ts: int | None
    events: list[RawEvent]


def _cursor(con: Any) -> Any:
    """A cursor of our own: the caller's connection may have a pending result."""
    return con.cursor() if hasattr(con, "cursor") else con


def find_session(con: Any, archive_id: int | None, session_id: str) -> tuple[int, int | None,
                                                                              int | None]:
    """(archive_id, first_ts, last_ts) of a session; UsageError naming known ids if unknown."""
    cur = _cursor(con)
    try:
        if archive_id is None:
            rows = cur.execute("SELECT archive_id, first_ts, last_ts FROM sessions "
                               "WHERE session_id = ? ORDER BY archive_id",
                               [session_id]).fetchall()
        else:
            rows = cur.execute("SELECT archive_id, first_ts, last_ts FROM sessions "
                               "WHERE session_id = ? AND archive_id = ?",
                               [session_id, archive_id]).fetchall()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            ids = ", ".join(str(row[0]) for row in rows)
            raise UsageError(f"session {session_id!r} is in several archives ({ids})",
                             hint="choose one with --archive ID")
        known = known_sessions(cur, archive_id)
        listed = ", ".join(repr(s) for s in known[:5]) + (", ..." if len(known) > 5 else "")
        where = f" in archive {archive_id}" if archive_id is not None else ""
        raise UsageError(f"no session {session_id!r}{where}",
                         hint=f"known sessions: {listed}" if known
                         else "the database has no sessions (inspector import PATH)")
    finally:
        if cur is not con:
            cur.close()


def known_sessions(con: Any, archive_id: int | None = None) -> list[str]:
    if archive_id is None:
        rows = con.execute("SELECT session_id FROM sessions ORDER BY first_ts NULLS LAST, "
                           "session_id").fetchall()
    else:
        rows = con.execute("SELECT session_id FROM sessions WHERE archive_id = ? "
                           "ORDER BY first_ts NULLS LAST, session_id", [archive_id]).fetchall()
    return [row[0] for row in rows]


def load_events(con: Any, archive_id: int | None, session_id: str) -> Loaded:
    archive_id, first_ts, last_ts = find_session(con, archive_id, session_id)
    cur = _cursor(con)
    try:
        table = cur.sql(_EVENTS, params=[archive_id, session_id]).to_arrow_table()
    finally:
        if cur is not con:
            cur.close()
    columns = [table.column(name).to_pylist()
               for name in ("seq", "timestamp", "type", "source", "data")]
    events = list(map(RawEvent._make, zip(*columns, strict=True)))
    return Loaded(archive_id, first_ts, last_ts, events)
