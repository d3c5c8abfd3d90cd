"""What to take out of each session, read from the audit's flagging tables.

The audit decides (docs/audit-rules.md); the plan only collects its verdicts per session, on
the cursor :func:`inspector.core.audit.flagging.run` left its temporary tables on:

- every **flagged** event is removed, and every **undetermined** one (no usable timestamp in a
  session an opt-out applies to: it cannot be shown to predate the opt-out, so it is not kept);
- a flagged mouse, touch or drag batch keeps the positions recorded outside every opt-out
  interval of its session (a batch straddling the opt-out keeps those before it), or goes;
- a session where something is removed and DOM events are kept after it is **tracked**: its
  kept page is rebuilt as the copy goes (:mod:`.integrity`), so that nothing kept refers to a
  node only removed events created.

The plan also carries each session's event count and a checksum of its rows, which the second
reading of the source must reproduce exactly (:mod:`.stream`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb

from ..audit.flagging import MOVE_SOURCES
from ..errors import InspectorError
from .codec import NUMBERS_ONLY_PATTERN
from .integrity import DOM_SOURCES

# Flagged move batches with a position outside every interval, by the audit's own instants
# (its ``audit_details`` offsets): only these can keep something.
_TRIMMABLE = f"""
    WITH instants AS (
        SELECT s.session_id, f.seq, c.gid,
               c.timestamp + unnest(CASE WHEN len(d.offsets) = 0 THEN [0.0]
                                         ELSE d.offsets END) AS t
        FROM audit_flagged f JOIN audit_candidates c USING (row) JOIN audit_details d USING (row)
        JOIN audit_sessions s ON s.sid = f.sid
        WHERE s.archive_id = ? AND f.type = 3 AND f.source IN ({', '.join(map(str, MOVE_SOURCES))})
    )
    SELECT DISTINCT session_id, seq FROM instants p
    WHERE NOT EXISTS (SELECT 1 FROM audit_intervals i WHERE i.gid = p.gid AND p.t >= i.start_ms
                                                       AND (i.end_ms IS NULL OR p.t < i.end_ms))
"""
_DOM_SQL = f"(e.type = 2 OR (e.type = 3 AND e.source IN ({', '.join(map(str, DOM_SOURCES))})))"


@dataclass
class SessionPlan:
    session_id: str
    subject: str | None
    device: str | None
    #: Events the import accepted, and (sum of timestamps, sum of type * (seq + 1)) over them.
    events: int
    checksum: tuple[int, int]
    #: seq -> event type of every event to remove (flagged or undetermined).
    removed: dict[int, int] = field(default_factory=dict)
    flagged: int = 0
    undetermined: int = 0
    #: Flagged move batches with a position outside every interval: they keep those.
    trim: frozenset[int] = frozenset()
    #: The session's opt-out intervals [start, end) in epoch ms (end None: for ever).
    intervals: list[tuple[float, float | None]] = field(default_factory=list)
    #: Whether kept DOM events follow a removed event (the kept page must be tracked), and
    #: then the seqs of every kept event that touches the page.
    tracked: bool = False
    first_removed: int | None = None
    dom_seqs: frozenset[int] = frozenset()
    #: Seqs of events whose stored data is numbers only (:func:`mark_numbers_only`; filled
    #: when every event is looked at, for masking or the final check).
    numbers_only: frozenset[int] = frozenset()


@dataclass
class Plan:
    archive_id: int
    sessions: dict[str, SessionPlan]
    #: Flagged events by audit category (typed_input, page_content...).
    categories: Counter[str]

    def session(self, session_id: str) -> SessionPlan:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise DriftError(f"the second reading found session {session_id!r}, which the "
                             "import did not") from None

    @property
    def flagged(self) -> int:
        return sum(s.flagged for s in self.sessions.values())

    @property
    def undetermined(self) -> int:
        return sum(s.undetermined for s in self.sessions.values())


class DriftError(InspectorError):
    """The source read differently the second time (it changed, or a reader is not stable)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"{detail}; the source changed while it was being redacted, or it "
                         "cannot be read twice the same way", hint="nothing was written; "
                         "if the file is not being changed, please report this")


def build_plan(con: duckdb.DuckDBPyConnection, archive_id: int) -> Plan:
    """The plan for one imported archive, from the flagging tables on ``con``."""
    sessions: dict[str, SessionPlan] = {}
    for sid, subject, device, count, ts_sum, type_sum in con.execute("""
            SELECT s.session_id, s.subject, s.device, count(e.seq),
                   coalesce(sum(e.timestamp)::HUGEINT, 0),
                   coalesce(sum(e.type::HUGEINT * (e.seq + 1)), 0)
            FROM sessions s LEFT JOIN events e USING (archive_id, session_id)
            WHERE s.archive_id = ? GROUP BY ALL""", [archive_id]).fetchall():
        sessions[sid] = SessionPlan(sid, subject, device, count, (int(ts_sum), int(type_sum)))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE redact_removed AS
        SELECT s.session_id, f.seq, f.type, f.source, f.category, false AS undetermined
        FROM audit_flagged f JOIN audit_sessions s USING (sid) WHERE s.archive_id = $aid
        UNION ALL
        SELECT s.session_id, u.seq, u.type, u.source, u.category, true
        FROM audit_undetermined u JOIN audit_sessions s USING (sid) WHERE s.archive_id = $aid
        """, {"aid": archive_id})
    for sid, seqs, kinds, flagged, undetermined in con.execute("""
            SELECT session_id, list(seq ORDER BY seq), list(type ORDER BY seq),
                   count(*) FILTER (NOT undetermined), count(*) FILTER (undetermined)
            FROM redact_removed GROUP BY session_id""").fetchall():
        plan = sessions[sid]
        plan.removed = dict(zip(seqs, kinds, strict=True))
        plan.flagged, plan.undetermined = flagged, undetermined
    trims: dict[str, set[int]] = {}
    for sid, seq in con.execute(_TRIMMABLE, [archive_id]).fetchall():
        trims.setdefault(sid, set()).add(seq)
    for sid, seqs in trims.items():
        sessions[sid].trim = frozenset(seqs)
    for sid, start, end in con.execute("""
            SELECT s.session_id, i.start_ms, i.end_ms
            FROM audit_intervals i JOIN audit_sessions s USING (gid)
            WHERE s.archive_id = ? AND (i.end_ms IS NULL OR i.start_ms < i.end_ms)
            ORDER BY 1, 2""", [archive_id]).fetchall():
        sessions[sid].intervals.append((start, end))
    for plan in sessions.values():
        if plan.removed:
            plan.first_removed = min(plan.removed)
    _mark_tracked(con, archive_id, sessions)
    categories = Counter(dict(con.execute(
        "SELECT category, count(*) FROM redact_removed WHERE NOT undetermined GROUP BY 1"
    ).fetchall()))
    return Plan(archive_id, sessions, categories)


def _mark_tracked(con: duckdb.DuckDBPyConnection, archive_id: int,
                  sessions: dict[str, SessionPlan]) -> None:
    tracked = [sid for (sid,) in con.execute(f"""
        WITH first AS (SELECT session_id, min(seq) AS first FROM redact_removed GROUP BY 1)
        SELECT DISTINCT e.session_id
        FROM events e JOIN first f USING (session_id)
        ANTI JOIN redact_removed r ON r.session_id = e.session_id AND r.seq = e.seq
        WHERE e.archive_id = ? AND e.seq > f.first AND {_DOM_SQL}""", [archive_id]).fetchall()]
    for sid in tracked:
        rows = con.execute(f"""
            SELECT e.seq FROM events e
            ANTI JOIN redact_removed r ON r.session_id = e.session_id AND r.seq = e.seq
            WHERE e.archive_id = ? AND e.session_id = ? AND {_DOM_SQL}""",
                           [archive_id, sid]).fetchall()
        plan = sessions[sid]
        plan.tracked = True
        plan.dom_seqs = frozenset(seq for (seq,) in rows)


def mark_numbers_only(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Each session's events whose data the store shows to hold numbers only: one regular
    expression over the stored text in DuckDB, instead of a walk of each parsed event."""
    for session_id, seqs in con.execute(
            "SELECT session_id, list(seq) FROM events WHERE archive_id = ? "
            "AND regexp_full_match(data, ?) GROUP BY session_id",
            [plan.archive_id, NUMBERS_ONLY_PATTERN]).fetchall():
        if session_id in plan.sessions:
            plan.sessions[session_id].numbers_only = frozenset(seqs)
