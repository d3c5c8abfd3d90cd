"""Building the report model from the database and an audit result, from masked data only.

Everything that came from a recording or an input file (keys, paths, locations, URLs) goes
through :func:`_safe` before it enters the model: personal data in it becomes a typed token
(``[EMAIL]``). Findings already carry personal data only as kinds and counts and page URLs with
their query values hidden; the model keeps it that way.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from ... import __version__
from .. import custody, pii
from ..audit import AuditResult, Finding
from ..audit.categories import CATEGORIES, LABELS
from ..audit.content import PII_KINDS
from ..audit.findings import UNDETERMINED, display_key
from ..errors import UsageError
from ..store import Store
from . import method as _method
from .chart import build_chart
from .model import (
    Aggregates,
    InputFile,
    OptOut,
    Person,
    Prevalence,
    Ratio,
    Report,
    SessionLine,
)

TITLE = "Opt-out audit report"

_FORMATS = {
    "replay-archive": "replay archive of rrweb events",
    "rrweb-ndjson": "rrweb events (NDJSON)",
    "rrweb-json": "rrweb events (JSON)",
    "posthog-export": "PostHog recording export (posthog-js, rrweb events)",
    "posthog-blob": "PostHog storage blobs (posthog-js, rrweb events)",
    "consent-file": "consent records file",
    "identities-file": "identity links file",
}
_SEVERITY_ORDER = ("high", "medium", "low", UNDETERMINED)


def make_report(store: Store, *, audit: AuditResult, tolerance_ms: int = 0,
                generated_at: datetime | None = None) -> Report:
    """The report of ``audit``, an audit of ``store``'s database as it is now."""
    if tolerance_ms != audit.tolerance_ms:
        raise UsageError(f"the report's tolerance ({tolerance_ms} ms) is not the audit's "
                         f"({audit.tolerance_ms} ms): run the audit with the same tolerance")
    when = (generated_at or datetime.now(UTC))
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    con = store.cursor()
    try:
        inputs = _inputs(con, audit.flagged)
        spans = {(a, s): (first, last) for a, s, first, last in con.execute(
            "SELECT archive_id, session_id, first_ts, last_ts FROM sessions").fetchall()}
        (problems,), = con.execute(
            "SELECT coalesce(sum(count), 0) FROM import_problems").fetchall()
    finally:
        con.close()
    people = _people(audit, spans)
    affected = [p for p in people if p.flagged_events]
    undetermined_sessions = sum(1 for f in audit.findings if f.undetermined_events)
    return Report(
        title=TITLE,
        tool_version=__version__,
        generated_at=when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        options=[("Tolerance", f"{audit.tolerance_ms:,} ms"),
                 ("Audited", "every session in the database, against every consent record "
                             "and identity link in it"),
                 ("Personal data", "kinds and counts only; values are never shown")],
        inputs=inputs,
        sessions=audit.sessions,
        events=audit.events,
        flagged_events=audit.flagged_events,
        undetermined_events=audit.undetermined_events,
        people_opted_out=audit.people_opted_out,
        ignored_records=audit.ignored_records,
        markers_without_timestamp=audit.markers_without_timestamp,
        method=_method.method(audit.tolerance_ms),
        aggregates=_aggregates(audit, affected),
        people=people,
        limitations=_method.limitations(
            undetermined_events=audit.undetermined_events,
            undetermined_sessions=undetermined_sessions,
            ignored_records=audit.ignored_records,
            markers_without_timestamp=audit.markers_without_timestamp,
            import_problems=int(problems)),
        custody=custody.check(store).as_text(),
        notes=[_safe(note) for note in audit.notes])


def _safe(text: object) -> str:
    """Text from a recording or an input file, with any personal data in it masked."""
    if text is None:
        return "-"
    return pii.mask_text(str(text))[0]


def _inputs(con, flagged: pa.Table) -> list[InputFile]:
    counts: dict[int, int] = {}
    if flagged.num_rows:
        for row in pc.value_counts(flagged.column("archive_id")).to_pylist():
            counts[row["values"]] = row["counts"]
    plugins: dict[int, list[str]] = {
        archive_id: sorted(p for p in names if p) for archive_id, names in con.execute(
            "SELECT archive_id, list(DISTINCT json_extract_string(data, '$.plugin')) "
            "FROM events WHERE type = 6 GROUP BY archive_id").fetchall()}
    rows = con.execute("""
        SELECT a.archive_id, a.path, a.sha256, a.size_bytes, a.format, a.exporter,
               a.exported_at, a.sessions, a.events, a.problems, a.imported_at,
               (SELECT min(first_ts) FROM sessions s WHERE s.archive_id = a.archive_id),
               (SELECT max(last_ts) FROM sessions s WHERE s.archive_id = a.archive_id),
               (SELECT count(*) FROM consent c WHERE c.archive_id = a.archive_id),
               (SELECT count(*) FROM identities i WHERE i.archive_id = a.archive_id)
        FROM archives a ORDER BY a.archive_id""").fetchall()
    out = []
    for (archive_id, path, sha256, size, fmt, exporter, exported_at, sessions, events, problems,
         imported_at, first, last, consent, links) in rows:
        recorder = _FORMATS.get(fmt, fmt)
        if exporter:
            recorder += f"; exported by {exporter}"
        if exported_at:
            recorder += f" at {exported_at}"
        if plugins.get(archive_id):
            recorder += "; recorder plugins " + ", ".join(plugins[archive_id])
        out.append(InputFile(
            archive_id=archive_id, path=_safe(path), sha256=sha256, size_bytes=size,
            format=fmt, recorder=_safe(recorder), sessions=sessions, events=events,
            flagged_events=counts.get(archive_id, 0), consent_records=consent,
            identity_links=links, problems=problems, first_ms=first, last_ms=last,
            imported_at=_utc(imported_at)))
    return out


def _utc(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _people(audit: AuditResult, spans: dict[tuple[int, str], tuple[int, int]]) -> list[Person]:
    by_person: dict[str, list[Finding]] = {}
    for finding in audit.findings:
        by_person.setdefault(finding.person, []).append(finding)
    instants: dict[tuple[int, str], list[int]] = {}
    if audit.flagged.num_rows:
        columns = audit.flagged.select(["archive_id", "session_id", "timestamp"]).to_pydict()
        for archive_id, session_id, timestamp in zip(
                columns["archive_id"], columns["session_id"], columns["timestamp"], strict=True):
            instants.setdefault((archive_id, session_id), []).append(timestamp)
    people = [_person(person, findings, spans, instants)
              for person, findings in by_person.items()]
    # Most serious first, then the most captured; ties by key, so the order is stable.
    people.sort(key=lambda p: (_SEVERITY_ORDER.index(p.severity), -p.flagged_events, p.key))
    return people


def _person(person: str, findings: list[Finding],
            spans: dict[tuple[int, str], tuple[int, int]],
            instants: dict[tuple[int, str], list[int]]) -> Person:
    records = {}
    for finding in findings:
        for record in finding.consent:
            identity = (record.at_ms, record.origin, record.key, record.location)
            chains = {" ~ ".join(link["path"]) for link in record.links if len(link["path"]) > 1}
            known = records.get(identity)
            if known is None:
                records[identity] = (record, chains)
            else:
                known[1].update(chains)
    opt_outs = [OptOut(
        at_ms=record.at_ms, key=_safe(display_key(record.key)), origin=record.origin,
        source=_safe(record.source), scope=_safe(record.scope or "none (all)"),
        location=_safe(record.location), ended_at_ms=record.ended_at_ms,
        links=sorted(_safe(chain) for chain in chains))
        for record, chains in sorted(records.values(), key=lambda item: item[0].at_ms)]
    opt_out_ms = min((o.at_ms for o in opt_outs), default=None)

    flagged = [f for f in findings if f.flagged_events]
    firsts = [f.first_flagged.timestamp for f in flagged if f.first_flagged]
    lasts = [f.last_flagged.timestamp for f in flagged if f.last_flagged]
    first, last = (min(firsts), max(lasts)) if firsts else (None, None)
    captures = [f.captured_after_opt_out_ms for f in flagged
                if f.captured_after_opt_out_ms is not None]
    categories: Counter[str] = Counter()
    found: Counter[str] = Counter()
    pages: list[str] = []
    for finding in findings:
        categories.update(finding.by_category)
        found.update(finding.pii)
        pages += [p for p in finding.pages_after_opt_out if p not in pages]
    severity = min((f.severity for f in findings), key=_SEVERITY_ORDER.index)

    chart = None
    if flagged and opt_out_ms is not None:
        sessions = []
        for finding in sorted(flagged, key=lambda f: f.first_flagged.timestamp):
            where = (finding.archive_id, finding.session_id)
            times = instants.get(where, [])
            start, end = spans.get(where, (None, None))
            start = start if start is not None else min(times)
            end = end if end is not None else max(times)
            sessions.append((_safe(finding.session_id), start, end, times))
        marks = sorted({(o.at_ms, "opt-out") for o in opt_outs}
                       | {(o.ended_at_ms, "opt-in") for o in opt_outs
                          if o.ended_at_ms is not None})
        chart = build_chart(opt_out_ms, marks, sessions)

    return Person(
        key=_safe(display_key(person)),
        linked_keys=sorted({_safe(key) for f in findings for key in f.keys}),
        severity=severity,
        opt_outs=opt_outs,
        sessions=[SessionLine(
            archive_id=f.archive_id, session_id=_safe(f.session_id), subject=_safe(f.subject),
            device=_safe(f.device), severity=f.severity, flagged_events=f.flagged_events,
            undetermined_events=f.undetermined_events,
            first_ms=f.first_flagged.timestamp if f.first_flagged else None,
            last_ms=f.last_flagged.timestamp if f.last_flagged else None,
            captured_after_ms=f.captured_after_opt_out_ms) for f in findings],
        flagged_events=sum(f.flagged_events for f in findings),
        undetermined_events=sum(f.undetermined_events for f in findings),
        first_ms=first, last_ms=last,
        first_delay_ms=None if first is None or opt_out_ms is None else first - opt_out_ms,
        last_delay_ms=None if last is None or opt_out_ms is None else last - opt_out_ms,
        captured_after_ms=max(captures) if captures else None,
        by_category=[(LABELS[name], categories[name]) for name in CATEGORIES
                     if categories[name]],
        pii=[(_method.PII_LABELS[kind], found[kind]) for kind in PII_KINDS if found[kind]],
        pages=[_safe(page) for page in pages],
        chart=chart)


def _aggregates(audit: AuditResult, affected: list[Person]) -> Aggregates:
    captures = [p.captured_after_ms for p in affected if p.captured_after_ms is not None]
    n = len(affected)
    category_events: Counter[str] = Counter()
    if audit.flagged.num_rows:
        for row in pc.value_counts(audit.flagged.column("category")).to_pylist():
            category_events[row["values"]] = row["counts"]
    categories = [Prevalence(
        LABELS[name],
        people=Ratio(sum(1 for p in affected if any(label == LABELS[name]
                                                    for label, _ in p.by_category)), n),
        events=Ratio(category_events[name], audit.flagged_events)) for name in CATEGORIES]
    kinds = []
    for kind in PII_KINDS:
        label = _method.PII_LABELS[kind]
        counts = [count for p in affected for name, count in p.pii if name == label]
        kinds.append(Prevalence(label, people=Ratio(len(counts), n), occurrences=sum(counts)))
    return Aggregates(
        people_affected=Ratio(n, audit.people_opted_out),
        sessions_affected=Ratio(audit.flagged_sessions, audit.sessions),
        events_flagged=Ratio(audit.flagged_events, audit.events),
        median_capture_ms=round(statistics.median(captures)) if captures else None,
        max_capture_ms=max(captures) if captures else None,
        capture_people=len(captures),
        categories=categories,
        pii=kinds)
