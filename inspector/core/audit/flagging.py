"""The opt-out rules as set-based SQL: which events were recorded while their person was opted out.

Every step is one statement over whole tables, leaving a temporary table the next step and the
findings read (temporary tables belong to the cursor the audit runs on, so two audits never
see each other's):

``audit_key_person``   linked key -> person, from :class:`~.keys.IdentityGraph`
``audit_session_keys`` each session's number (``sid``), the person of its subject and of its
                       device (``ps``, ``pd``) and its group (``gid``: sessions with the same
                       two people share consent records)
``audit_markers``      in-band consent markers (Custom events tagged ``consent``)
``audit_records``      every consent record that governs replay: ledger rows and markers, with
                       the person each names (``rid`` numbers them)
``audit_intervals``    per group, each applicable opt-out as ``[start_ms, end_ms)``: its instant
                       plus the tolerance, until the next later opt-in (NULL: for ever)
``audit_candidates``   every event of a session with an applicable opt-out, without its data
                       (the one scan of all of ``events``); ``row`` is its rowid
``audit_details``      what flagging needs from the data of some candidates: the timeOffset
                       of each move position, the name of each plugin
``audit_hits``         (event, opt-out) pairs where an instant of the event is in the interval
``audit_flagged``      flagged events; ``audit_undetermined``: those without a timestamp

The ``data`` column is stored compressed, and reading it is most of the cost, so it is only
read by rowid for the rows that need it: every Custom event (to find the markers), the move
batches and plugin events of audited sessions, and later the flagged content.

docs/audit-rules.md states the rules these statements implement.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ..cancel import CancelToken
from .categories import category_sql
from .keys import IdentityGraph

#: Scopes that govern session replay; a record without a scope governs everything.
GOVERNING_SCOPES = ("replay", "analytics", "all")
#: MouseMove, TouchMove and Drag batches: judged by each position's own instant.
MOVE_SOURCES = (1, 6, 12)
CONSENT_TAG = "consent"
ACTIONS = ("opt_out", "opt_in")
#: Prefix of the key standing for a session with neither subject nor device: a consent marker
#: in such a session applies to that session alone. No real key starts with a control char.
SESSION_KEY_PREFIX = "\x1fsession:"

_ACTIONS_SQL = ", ".join(f"'{a}'" for a in ACTIONS)
_SCOPES_SQL = ", ".join(f"'{s}'" for s in GOVERNING_SCOPES)
_MOVES_SQL = ", ".join(map(str, MOVE_SOURCES))


def governs_sql(column: str) -> str:
    return f"({column} IS NULL OR lower(trim({column})) IN ({_SCOPES_SQL}))"


STEPS = (
    # Sessions and the people their two keys belong to. A session with neither key gets a
    # key of its own, so that a marker inside it still applies to it.
    ("audit_session_keys", """
    WITH keyed AS (
        SELECT s.archive_id, s.session_id, s.subject, s.device,
               CASE WHEN s.subject IS NOT NULL THEN coalesce(ks.person, s.subject)
                    WHEN s.device IS NULL
                    THEN $session_prefix || s.archive_id || '/' || s.session_id END AS ps,
               CASE WHEN s.device IS NOT NULL THEN coalesce(kd.person, s.device) END AS pd
        FROM sessions s
        LEFT JOIN audit_key_person ks ON ks.key = s.subject
        LEFT JOIN audit_key_person kd ON kd.key = s.device
    ), groups AS (
        SELECT ps, pd, row_number() OVER (ORDER BY ps NULLS FIRST, pd NULLS FIRST)::INTEGER
               AS gid
        FROM (SELECT DISTINCT ps, pd FROM keyed)
    )
    SELECT row_number() OVER (ORDER BY k.archive_id, k.session_id)::INTEGER AS sid, k.*, g.gid
    FROM keyed k JOIN groups g ON g.ps IS NOT DISTINCT FROM k.ps
                              AND g.pd IS NOT DISTINCT FROM k.pd
    """),
    # Markers can be in any session, so every Custom event's data is read.
    ("audit_markers", f"""
    SELECT sk.sid, c.seq, c.timestamp AS at_ms, c.action, c.scope, c.source
    FROM (
        SELECT archive_id, session_id, seq, timestamp,
               json_extract_string(data, '$.tag') AS tag,
               json_extract_string(data, '$.payload.action') AS action,
               nullif(trim(json_extract_string(data, '$.payload.scope')), '') AS scope,
               nullif(trim(json_extract_string(data, '$.payload.source')), '') AS source
        FROM events WHERE rowid IN (SELECT rowid FROM events WHERE type = 5)
    ) c JOIN audit_session_keys sk USING (archive_id, session_id)
    WHERE c.tag = '{CONSENT_TAG}' AND c.action IN ({_ACTIONS_SQL})
    """),
    # A marker is a record of its session's subject, or of its device when it has no subject.
    ("audit_records", f"""
    SELECT row_number() OVER (ORDER BY at_ms, origin, key, action, archive_id, sid, seq,
                                       location)::INTEGER AS rid, *
    FROM (
        SELECT coalesce(kp.person, c.subject) AS person, c.subject AS key, c.action, c.at_ms,
               c.scope, c.source, 'ledger' AS origin, c.archive_id, NULL::INTEGER AS sid,
               NULL::BIGINT AS seq, c.location
        FROM consent c LEFT JOIN audit_key_person kp ON kp.key = c.subject
        WHERE c.action IN ({_ACTIONS_SQL}) AND {governs_sql("c.scope")}
        UNION ALL
        SELECT coalesce(sk.ps, sk.pd), coalesce(sk.subject, sk.device, sk.ps), m.action,
               m.at_ms, m.scope, m.source, 'marker', sk.archive_id, m.sid, m.seq, NULL
        FROM audit_markers m JOIN audit_session_keys sk USING (sid)
        WHERE m.at_ms IS NOT NULL AND {governs_sql("m.scope")}
    )
    """),
    # The records that apply to each group: those of its subject's person or device's person.
    ("audit_applicable", """
    SELECT g.gid, r.rid, r.action, r.at_ms
    FROM (SELECT DISTINCT gid, ps, pd FROM audit_session_keys) g
    JOIN audit_records r ON r.person = g.ps
    UNION
    SELECT g.gid, r.rid, r.action, r.at_ms
    FROM (SELECT DISTINCT gid, ps, pd FROM audit_session_keys) g
    JOIN audit_records r ON r.person = g.pd
    """),
    # Each opt-out lasts from its instant (moved later by the tolerance) until the next opt-in
    # strictly later than it; without one, for ever. Empty intervals are kept: the group still
    # "ever opted out" (undetermined events count there).
    ("audit_intervals", """
    SELECT o.gid, o.rid, o.at_ms + $tolerance AS start_ms, n.end_ms, n.end_rid
    FROM audit_applicable o
    LEFT JOIN LATERAL (
        SELECT min(i.at_ms) AS end_ms, arg_min(i.rid, i.at_ms) AS end_rid
        FROM audit_applicable i
        WHERE i.gid = o.gid AND i.action = 'opt_in' AND i.at_ms > o.at_ms
    ) n ON true
    WHERE o.action = 'opt_out'
    """),
    ("audit_sessions", """
    SELECT sid, archive_id, session_id, gid FROM audit_session_keys
    WHERE gid IN (SELECT gid FROM audit_intervals)
    """),
    # The one pass over every event: the sessions an opt-out applies to, without their data.
    ("audit_candidates", """
    SELECT e.rowid AS row, s.sid, s.gid, e.seq, e.timestamp, e.type, e.source,
           m.sid IS NOT NULL AS marker
    FROM events e JOIN audit_sessions s USING (archive_id, session_id)
    LEFT JOIN audit_markers m ON m.sid = s.sid AND m.seq = e.seq
    """),
    # What flagging needs from the data: each move position's timeOffset, each plugin's name.
    ("audit_details", f"""
    SELECT rowid AS row,
           CASE WHEN type = 6 THEN json_extract_string(data, '$.plugin') END AS plugin,
           CASE WHEN type = 3 AND source IN ({_MOVES_SQL}) THEN coalesce(list_transform(
               json_transform(data, '{{"positions": [{{"timeOffset": "DOUBLE"}}]}}').positions,
               lambda p: coalesce(p.timeOffset, 0)), []::DOUBLE[]) END AS offsets
    FROM events
    WHERE rowid IN (SELECT row FROM audit_candidates
                    WHERE type = 6 OR (type = 3 AND source IN ({_MOVES_SQL})))
    """),
    # An event's instants: its timestamp, or for a move batch each position's timestamp +
    # timeOffset (the timestamp itself when the batch has no positions).
    ("audit_hits", f"""
    WITH instants AS (
        SELECT sid, gid, seq, timestamp::DOUBLE AS t FROM audit_candidates
        WHERE timestamp IS NOT NULL AND NOT marker
          AND NOT (type = 3 AND source IN ({_MOVES_SQL}))
        UNION ALL
        SELECT c.sid, c.gid, c.seq,
               c.timestamp + unnest(CASE WHEN len(d.offsets) = 0 THEN [0.0]
                                         ELSE d.offsets END) AS t
        FROM audit_candidates c JOIN audit_details d USING (row)
        WHERE c.timestamp IS NOT NULL AND d.offsets IS NOT NULL
    )
    SELECT i.sid, i.seq, iv.rid, min(i.t) AS first_t, max(i.t) AS last_t
    FROM instants i JOIN audit_intervals iv
      ON iv.gid = i.gid AND i.t >= iv.start_ms AND (iv.end_ms IS NULL OR i.t < iv.end_ms)
    GROUP BY i.sid, i.seq, iv.rid
    """),
    ("audit_flagged", f"""
    SELECT c.row, c.sid, c.seq, c.timestamp, c.type, c.source,
           {category_sql("d.plugin")} AS category
    FROM audit_candidates c
    JOIN (SELECT DISTINCT sid, seq FROM audit_hits) h USING (sid, seq)
    LEFT JOIN audit_details d USING (row)
    """),
    ("audit_undetermined", f"""
    SELECT c.row, c.sid, c.seq, c.type, c.source, {category_sql("d.plugin")} AS category
    FROM audit_candidates c LEFT JOIN audit_details d USING (row)
    WHERE c.timestamp IS NULL AND NOT c.marker
    """),
)


def run(con: duckdb.DuckDBPyConnection, graph: IdentityGraph, tolerance_ms: int, *,
        cancel: CancelToken, step_done: Callable[[float], None] | None = None) -> None:
    """Make every table above on ``con``; ``step_done`` gets the fraction of steps done."""
    con.register("audit_key_person_arrow", graph.table())
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE audit_key_person AS "
                    "SELECT * FROM audit_key_person_arrow")
    finally:
        con.unregister("audit_key_person_arrow")
    for index, (name, sql) in enumerate(STEPS):
        cancel.check()
        params = {}
        if "$tolerance" in sql:
            params["tolerance"] = tolerance_ms
        if "$session_prefix" in sql:
            params["session_prefix"] = SESSION_KEY_PREFIX
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params)
        if step_done:
            step_done((index + 1) / len(STEPS))
