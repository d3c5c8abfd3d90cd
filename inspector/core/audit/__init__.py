"""The opt-out audit: which recorded events were captured while their person was opted out.

:func:`run_audit` is the one entry point (CLI, app, tests). It links keys into people
(:mod:`.keys`), flags events with set-based SQL (:mod:`.flagging`), and explains each affected
session (:mod:`.findings`, :mod:`.content`). The rules, exactly as implemented, are in
docs/audit-rules.md. The audit reads the recordings only; what it writes is its entry in the
custody log (inputs: every archive audited, with its sha256; details: the counts and tolerance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from .. import custody
from ..cancel import CancelToken
from ..errors import Cancelled, UsageError
from ..store import Store
from . import findings as _findings
from . import flagging
from .categories import CATEGORIES
from .findings import ConsentInForce, EventRef, Finding
from .keys import IdentityGraph

__all__ = ["CATEGORIES", "AuditProgress", "AuditResult", "ConsentInForce", "EventRef",
           "Finding", "IdentityGraph", "run_audit"]


@dataclass
class AuditProgress:
    stage: str  # "flagging" | "findings"
    fraction: float  # 0..1 over the whole audit


@dataclass
class AuditResult:
    sessions: int
    events: int
    flagged_events: int
    undetermined_events: int
    people_opted_out: int
    tolerance_ms: int
    findings: list[Finding]
    #: One row per flagged event: archive_id, session_id, seq, timestamp, category.
    flagged: pa.Table
    #: Consent records (ledger or marker) whose scope does not govern replay (marketing,
    #: ads...): not applied.
    ignored_records: int = 0
    #: Consent markers without a usable timestamp: they cannot be placed in time.
    markers_without_timestamp: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def flagged_sessions(self) -> int:
        return sum(1 for f in self.findings if f.flagged_events)

    def as_text(self) -> str:
        """The readable report: a table per person and session (see :mod:`.report`)."""
        from .report import render_text

        return render_text(self)

    def as_json(self) -> dict:
        return {
            "sessions": self.sessions,
            "events": self.events,
            "flagged_events": self.flagged_events,
            "undetermined_events": self.undetermined_events,
            "people_opted_out": self.people_opted_out,
            "tolerance_ms": self.tolerance_ms,
            "ignored_records": self.ignored_records,
            "markers_without_timestamp": self.markers_without_timestamp,
            "findings": [finding.as_json() for finding in self.findings],
            "flagged": self.flagged.to_pylist(),
        }


def run_audit(store_or_con: Store | duckdb.DuckDBPyConnection, *, tolerance_ms: int = 0,
              cancel: CancelToken | None = None,
              progress: Callable[[AuditProgress], None] | None = None) -> AuditResult:
    """Audit every session in the database. Raises :class:`Cancelled` when cancelled.

    ``tolerance_ms`` moves every opt-out instant that many milliseconds later (clock skew
    between the consent system and the recorder).
    """
    if isinstance(tolerance_ms, bool) or not isinstance(tolerance_ms, int) or tolerance_ms < 0:
        raise UsageError(f"the tolerance must be a whole number of milliseconds >= 0, not "
                         f"{tolerance_ms!r}")
    cancel = cancel or CancelToken()
    con = store_or_con.cursor()
    remove_interrupt = cancel.on_cancel(con.interrupt)
    try:
        cancel.check()
        con.execute("BEGIN TRANSACTION")  # one snapshot of the data, whatever else writes
        graph = IdentityGraph.load(con)

        def flagged(fraction: float) -> None:
            if progress:
                progress(AuditProgress("flagging", 0.6 * fraction))

        flagging.run(con, graph, tolerance_ms, cancel=cancel, step_done=flagged)

        def scanned(fraction: float) -> None:
            if progress:
                progress(AuditProgress("findings", 0.6 + 0.4 * fraction))

        found = _findings.build(con, graph, cancel, scanned)
        result = _result(con, found, tolerance_ms)
        audited = con.execute("SELECT path, sha256 FROM archives ORDER BY archive_id").fetchall()
        con.execute("ROLLBACK")
        _record(store_or_con, result, audited)
        scanned(1.0)
        return result
    except duckdb.InterruptException as exc:
        raise Cancelled() from exc
    finally:
        remove_interrupt()
        con.close()


def _record(db: Store | duckdb.DuckDBPyConnection, result: AuditResult,
            audited: list[tuple[str, str]]) -> None:
    """The audit's custody entry; a database that cannot take it gets a note instead."""
    try:
        custody.append(db, "audit", inputs=audited, details={
            "tolerance_ms": result.tolerance_ms, "sessions": result.sessions,
            "events": result.events, "flagged_events": result.flagged_events,
            "flagged_sessions": result.flagged_sessions,
            "undetermined_events": result.undetermined_events,
            "people_opted_out": result.people_opted_out})
    except duckdb.Error as exc:  # a read-only database: the audit itself stands
        result.notes.append(f"not recorded in the custody log ({str(exc).splitlines()[0]})")


def _result(con: duckdb.DuckDBPyConnection, found: list[Finding],
            tolerance_ms: int) -> AuditResult:
    governs = flagging.governs_sql("scope")
    (sessions, events, people, undetermined, ignored, unplaced), = con.execute(f"""
        SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM events),
               (SELECT count(DISTINCT person) FROM audit_records WHERE action = 'opt_out'),
               (SELECT count(*) FROM audit_undetermined),
               (SELECT count(*) FROM consent WHERE NOT {governs})
               + (SELECT count(*) FROM audit_markers WHERE at_ms IS NOT NULL AND NOT {governs}),
               (SELECT count(*) FROM audit_markers WHERE at_ms IS NULL)""").fetchall()
    flagged = con.sql("""
        SELECT s.archive_id, s.session_id, f.seq, f.timestamp, f.category
        FROM audit_flagged f JOIN audit_sessions s USING (sid)
        ORDER BY s.archive_id, s.session_id, f.seq""").to_arrow_table()
    return AuditResult(sessions=sessions, events=events, flagged_events=flagged.num_rows,
                       undetermined_events=undetermined, people_opted_out=people,
                       tolerance_ms=tolerance_ms, findings=found, flagged=flagged,
                       ignored_records=ignored, markers_without_timestamp=unplaced)
