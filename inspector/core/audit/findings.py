"""Per session, the explanation of what was flagged: who, which consent record, what was captured.

Reads the temporary tables :mod:`.flagging` left on the cursor. Everything here is per session
or per consent record (few rows) except the content scan, which streams the content-bearing
flagged events of the flagged sessions once, in time order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from ..cancel import CancelToken
from .categories import CATEGORIES, POINTER_SCROLL, TYPED_INPUT, severity
from .content import PII_KINDS, Captured, Detector, SessionScanner
from .flagging import SESSION_KEY_PREFIX
from .keys import IdentityGraph

UNDETERMINED = "undetermined"  # the severity of a finding with undetermined events only
_SCAN_BATCH = 2048


def display_key(key: str | None) -> str | None:
    """A key as reports show it (the stand-in key of a session without keys is readable)."""
    if key is not None and key.startswith(SESSION_KEY_PREFIX):
        return "session:" + key[len(SESSION_KEY_PREFIX):]
    return key


def iso_ms(ms: int | float | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


@dataclass
class EventRef:
    seq: int
    timestamp: int
    category: str

    def as_json(self) -> dict:
        return {"seq": self.seq, "timestamp": self.timestamp, "at": iso_ms(self.timestamp),
                "category": self.category}


@dataclass
class ConsentInForce:
    """An opt-out record under which events of the session were flagged."""

    at_ms: int
    origin: str  # "ledger" | "marker"
    key: str  # the key the record names
    person: str
    scope: str | None
    source: str | None
    location: str | None  # ledger: file and line; marker: session and seq
    archive_id: int
    session_id: str | None  # a marker's session
    seq: int | None  # a marker's seq
    #: Chains of identity links from the session's subject or device to ``key``.
    links: list[dict] = field(default_factory=list)
    ended_at_ms: int | None = None  # the opt-in that ended it, if any
    ended_by: str | None = None
    flagged_events: int = 0
    #: From the opt-out instant to the last flagged instant it covers.
    captured_for_ms: int | None = None

    def as_json(self) -> dict:
        return {"action": "opt_out", "at_ms": self.at_ms, "at": iso_ms(self.at_ms),
                "origin": self.origin, "key": display_key(self.key),
                "person": display_key(self.person), "scope": self.scope, "source": self.source,
                "location": self.location, "archive_id": self.archive_id,
                "session_id": self.session_id, "seq": self.seq, "links": self.links,
                "ended_at_ms": self.ended_at_ms, "ended_at": iso_ms(self.ended_at_ms),
                "ended_by": self.ended_by, "flagged_events": self.flagged_events,
                "captured_for_ms": self.captured_for_ms}


@dataclass
class Finding:
    archive_id: int
    session_id: str
    subject: str | None
    device: str | None
    person: str  # the person of the first consent record in force
    people: list[str]
    #: Every key that links the session to the records in force.
    keys: list[str]
    consent: list[ConsentInForce]
    flagged_events: int
    first_flagged: EventRef | None
    last_flagged: EventRef | None
    #: From the earliest opt-out in force to the last flagged event.
    captured_after_opt_out_ms: int | None
    by_category: dict[str, int]
    pages_after_opt_out: list[str]
    pii: dict[str, int]
    severity: str
    undetermined_events: int = 0
    undetermined_seqs: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "archive_id": self.archive_id, "session_id": self.session_id,
            "subject": self.subject, "device": self.device,
            "person": display_key(self.person), "people": [display_key(p) for p in self.people],
            "keys": [display_key(k) for k in self.keys],
            "consent": [record.as_json() for record in self.consent],
            "flagged_events": self.flagged_events,
            "first_flagged": self.first_flagged.as_json() if self.first_flagged else None,
            "last_flagged": self.last_flagged.as_json() if self.last_flagged else None,
            "captured_after_opt_out_ms": self.captured_after_opt_out_ms,
            "by_category": self.by_category, "pages_after_opt_out": self.pages_after_opt_out,
            "pii": self.pii, "severity": self.severity,
            "undetermined_events": self.undetermined_events,
            "undetermined_seqs": self.undetermined_seqs,
        }


def build(con: duckdb.DuckDBPyConnection, graph: IdentityGraph, cancel: CancelToken,
          progress: Callable[[float], None] | None = None) -> list[Finding]:
    """One finding per session with flagged or undetermined events, by person then time."""
    flagged = {row[0]: row[1:] for row in con.execute("""
        SELECT sid, count(*), min((timestamp, seq)), max((timestamp, seq)),
               arg_min(category, (timestamp, seq)), arg_max(category, (timestamp, seq)),
               histogram(category)
        FROM audit_flagged GROUP BY sid""").fetchall()}
    undetermined = {row[0]: row[1:] for row in con.execute(
        "SELECT sid, count(*), list(seq ORDER BY seq) FROM audit_undetermined GROUP BY sid"
    ).fetchall()}
    sids = sorted(set(flagged) | set(undetermined))
    if not sids:
        return []
    sessions = {row[0]: row[1:] for row in con.execute("""
        SELECT sid, archive_id, session_id, subject, device, ps, pd, gid
        FROM audit_session_keys WHERE sid IN (SELECT unnest(?))""", [sids]).fetchall()}
    records = _records(con)
    intervals: dict[int, list[tuple]] = {}
    for gid, rid, end_ms, end_rid in con.execute(
            "SELECT gid, rid, end_ms, end_rid FROM audit_intervals ORDER BY gid, rid").fetchall():
        intervals.setdefault(gid, []).append((rid, end_ms, end_rid))
    hits: dict[int, dict[int, tuple[int, float]]] = {}
    for sid, rid, count, last_t in con.execute(
            "SELECT sid, rid, count(DISTINCT seq), max(last_t) FROM audit_hits "
            "GROUP BY sid, rid").fetchall():
        hits.setdefault(sid, {})[rid] = (count, last_t)
    captured = _scan_content(con, cancel, progress)

    findings = []
    for sid in sids:
        archive_id, session_id, subject, device, ps, pd, gid = sessions[sid]
        in_force = []
        for rid, end_ms, end_rid in intervals.get(gid, []):
            mine = hits.get(sid, {})
            if sid in flagged and rid not in mine:
                continue  # an opt-out of this person that covers none of these events
            record = records[rid]
            count, last_t = mine.get(rid, (0, None))
            in_force.append(ConsentInForce(
                at_ms=record["at_ms"], origin=record["origin"], key=record["key"],
                person=record["person"], scope=record["scope"], source=record["source"],
                location=record["location"], archive_id=record["archive_id"],
                session_id=record["session_id"], seq=record["seq"],
                links=_links(graph, record, subject, device, ps, pd),
                ended_at_ms=end_ms,
                ended_by=records[end_rid]["location"] if end_rid is not None else None,
                flagged_events=count,
                captured_for_ms=None if last_t is None else round(last_t) - record["at_ms"]))
        in_force = _distinct(in_force)
        people = list(dict.fromkeys(record.person for record in in_force))
        keys = sorted({key for record in in_force for link in record.links
                       for key in link["path"]})
        summary = flagged.get(sid)
        found = captured.get(sid, Captured())
        if summary:
            count, first, last, first_category, last_category, histogram = summary
            by_category = {name: int(histogram.get(name, 0)) for name in CATEGORIES
                           if histogram.get(name)}
            first_ref = EventRef(first[1], first[0], first_category)
            last_ref = EventRef(last[1], last[0], last_category)
            spans = [r.captured_for_ms for r in in_force if r.captured_for_ms is not None]
            after = max(spans) if spans else None
            level = severity(by_category, found.page_text_pii)
        else:
            count, first_ref, last_ref, after, by_category = 0, None, None, None, {}
            level = UNDETERMINED
        undetermined_count, undetermined_seqs = undetermined.get(sid, (0, []))
        findings.append(Finding(
            archive_id=archive_id, session_id=session_id, subject=subject, device=device,
            person=people[0] if people else (ps or pd), people=people, keys=keys,
            consent=in_force, flagged_events=count, first_flagged=first_ref,
            last_flagged=last_ref, captured_after_opt_out_ms=after, by_category=by_category,
            pages_after_opt_out=found.pages,
            pii={kind: found.pii[kind] for kind in PII_KINDS if found.pii[kind]},
            severity=level, undetermined_events=undetermined_count,
            undetermined_seqs=list(undetermined_seqs)))
    findings.sort(key=lambda f: (display_key(f.person) or "",
                                 f.first_flagged.timestamp if f.first_flagged else 0,
                                 f.archive_id, f.session_id))
    return findings


def _records(con: duckdb.DuckDBPyConnection) -> dict[int, dict]:
    cursor = con.execute("""
        SELECT r.rid, r.person, r.key, r.action, r.at_ms, r.scope, r.source, r.origin,
               r.archive_id, sk.session_id, r.seq, r.location
        FROM audit_records r LEFT JOIN audit_session_keys sk ON sk.sid = r.sid""")
    names = [column[0] for column in cursor.description]
    out = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        if record["origin"] == "marker":
            record["location"] = f"session {record['session_id']} seq {record['seq']}"
        out[record["rid"]] = record
    return out


def _links(graph: IdentityGraph, record: dict, subject: str | None, device: str | None,
           ps: str | None, pd: str | None) -> list[dict]:
    """How the record reaches the session: through its subject, its device, or both."""
    links = []
    for via, key, person in (("subject", subject, ps), ("device", device, pd)):
        if person is None or person != record["person"]:
            continue
        start = key if key is not None else person  # a session without keys: its own key
        path = graph.path(start, record["key"]) or [start, record["key"]]
        links.append({"via": via if key is not None else "session",
                      "path": [display_key(k) for k in path]})
    return links


def _distinct(records: list[ConsentInForce]) -> list[ConsentInForce]:
    """The same record imported twice (an archive and a consent file) is listed once."""
    seen: dict[tuple, ConsentInForce] = {}
    for record in sorted(records, key=lambda r: (r.at_ms, r.origin, r.key)):
        identity = (record.at_ms, record.origin, record.key, record.scope, record.source,
                    record.session_id, record.seq)
        known = seen.get(identity)
        if known is None:
            seen[identity] = record
        else:
            known.flagged_events = max(known.flagged_events, record.flagged_events)
    return list(seen.values())


def _scan_content(con: duckdb.DuckDBPyConnection, cancel: CancelToken,
                  progress: Callable[[float], None] | None) -> dict[int, Captured]:
    """Personal data and pages in the content-bearing flagged events, per session.

    Sessions with flagged typed input also get their FullSnapshots and Mutations (flagged or
    not) so the scanner knows which field each value was typed into.
    """
    con.execute(f"""CREATE OR REPLACE TEMP TABLE audit_scan_rows AS
        SELECT c.row, c.sid, c.timestamp, c.seq, f.category, t.sid IS NOT NULL AS track_nodes
        FROM audit_candidates c
        LEFT JOIN audit_flagged f USING (row)
        LEFT JOIN (SELECT DISTINCT sid FROM audit_flagged WHERE category = '{TYPED_INPUT}') t
          ON t.sid = c.sid
        WHERE (f.category IS NOT NULL AND f.category <> '{POINTER_SCROLL}')
           OR (t.sid IS NOT NULL AND (c.type = 2 OR (c.type = 3 AND c.source = 0)))""")
    (total,), = con.execute("SELECT count(category) FROM audit_scan_rows").fetchall()
    reader = con.sql("""
        SELECT r.sid, r.track_nodes, e.type, e.source, e.data, r.category
        FROM (SELECT rowid AS row, type, source, data FROM events
              WHERE rowid IN (SELECT row FROM audit_scan_rows)) e
        JOIN audit_scan_rows r USING (row)
        ORDER BY r.sid, r.timestamp NULLS LAST, r.seq""").to_arrow_reader(_SCAN_BATCH)
    out: dict[int, Captured] = {}
    detector = Detector()
    scanner: SessionScanner | None = None
    current = None
    done = 0
    for batch in reader:
        cancel.check()
        columns = batch.to_pydict()
        for sid, track_nodes, kind, source, data, category in zip(
                columns["sid"], columns["track_nodes"], columns["type"], columns["source"],
                columns["data"], columns["category"], strict=True):
            if sid != current:
                if scanner is not None:
                    out[current] = scanner.finish()
                current, scanner = sid, SessionScanner(track_nodes=track_nodes,
                                                       detector=detector)
            scanner.feed(kind, source, data, category)
            done += category is not None
        if progress and total:
            progress(min(1.0, done / total))
    if scanner is not None:
        out[current] = scanner.finish()
    return out
