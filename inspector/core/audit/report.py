"""The audit as text a person reads: a summary, then a table per person and their sessions.

Values of personal data never appear: only kinds and counts, and URLs with their query strings
masked. The tolerance is stated in the first line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .categories import CATEGORIES, LABELS
from .findings import UNDETERMINED, ConsentInForce, Finding, display_key, iso_ms

if TYPE_CHECKING:
    from . import AuditResult

_PII_LABELS = {"email": "e-mail", "phone": "phone", "card": "payment card", "iban": "IBAN",
               "national_id": "national id", "password": "password"}
_MAX_PAGES = 12


def render_text(result: AuditResult) -> str:
    lines = [f"Opt-out audit (tolerance {result.tolerance_ms:,} ms: every opt-out instant moved "
             f"that much later)",
             f"{result.sessions:,} sessions, {_events(result.events)}; "
             f"people opted out: {result.people_opted_out:,}",
             f"flagged: {_events(result.flagged_events)} in {result.flagged_sessions:,} "
             f"sessions; undetermined (no usable timestamp): "
             f"{_events(result.undetermined_events)}"]
    if result.ignored_records:
        lines.append(f"not applied: {result.ignored_records:,} consent records whose scope "
                     "does not govern replay (marketing, ads...)")
    if result.markers_without_timestamp:
        lines.append(f"not applied: {result.markers_without_timestamp:,} consent markers "
                     "without a timestamp")
    if not result.findings:
        lines.append("")
        lines.append("Nothing was recorded while a person was opted out.")
        return "\n".join(lines) + "\n"
    by_person: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_person.setdefault(finding.person, []).append(finding)
    for person, findings in by_person.items():
        keys = sorted({key for f in findings for key in f.keys})
        lines += ["", f"Person {display_key(person)}"
                  + (f" (linked keys: {', '.join(keys)})" if len(keys) > 1 else "")]
        lines += _table(findings)
        for finding in findings:
            lines += _details(finding)
    return "\n".join(lines) + "\n"


def _table(findings: list[Finding]) -> list[str]:
    header = f"  {'session':<38} {'severity':<12} {'flagged':>8} {'undet.':>6}  " \
             f"{'first flagged':<24} {'captured after opt-out':<22}"
    rows = [header, "  " + "-" * (len(header) - 2)]
    for f in findings:
        first = iso_ms(f.first_flagged.timestamp) if f.first_flagged else "-"
        rows.append(f"  {f.session_id[:38]:<38} {f.severity.upper():<12} "
                    f"{f.flagged_events:>8,} {f.undetermined_events:>6,}  {first:<24} "
                    f"{duration(f.captured_after_opt_out_ms):<22}")
    return rows


def _details(f: Finding) -> list[str]:
    out = ["", f"  Session {f.session_id} (archive {f.archive_id}; subject "
               f"{f.subject or '-'}, device {f.device or '-'}): {f.severity.upper()}"]
    for record in f.consent:
        out.append("    consent: " + _record(record))
    if f.first_flagged and f.last_flagged:
        out.append(f"    flagged {_events(f.flagged_events)}: first seq {f.first_flagged.seq} "
                   f"at {iso_ms(f.first_flagged.timestamp)}, last seq {f.last_flagged.seq} at "
                   f"{iso_ms(f.last_flagged.timestamp)}; capture went on "
                   f"{duration(f.captured_after_opt_out_ms)} after the opt-out")
        out.append("    by category: " + ", ".join(
            f"{LABELS[name]} {f.by_category[name]:,}" for name in CATEGORIES
            if f.by_category.get(name)))
    if f.pages_after_opt_out:
        pages = f.pages_after_opt_out[:_MAX_PAGES]
        more = len(f.pages_after_opt_out) - len(pages)
        out.append("    pages after the opt-out: " + ", ".join(pages)
                   + (f" and {more} more" if more > 0 else ""))
    if f.pii:
        out.append("    personal data captured: " + ", ".join(
            f"{_PII_LABELS.get(kind, kind)} x{count:,}" for kind, count in f.pii.items()))
    elif f.severity != UNDETERMINED:
        out.append("    personal data captured: none found")
    if f.undetermined_events:
        seqs = ", ".join(map(str, f.undetermined_seqs[:10]))
        more = "..." if len(f.undetermined_seqs) > 10 else ""
        out.append(f"    undetermined: {_events(f.undetermined_events)} without a usable "
                   f"timestamp (seq {seqs}{more})")
    return out


def _record(record: ConsentInForce) -> str:
    where = (f"in-band marker at seq {record.seq} of session {record.session_id}"
             if record.origin == "marker" else f"ledger {record.location}")
    text = (f"opt-out of {display_key(record.key)} at {iso_ms(record.at_ms)}, {where}, "
            f"source {record.source or '-'}, scope {record.scope or '(none: all)'}")
    text += (f"; opted back in at {iso_ms(record.ended_at_ms)}" if record.ended_at_ms is not None
             else "; never opted back in")
    chains = [" ~ ".join(link["path"]) for link in record.links if len(link["path"]) > 1]
    if chains:
        text += "; linked by " + "; ".join(chains)
    return text


def _events(count: int) -> str:
    return f"{count:,} event" + ("" if count == 1 else "s")


def duration(ms: int | None) -> str:
    """``450 ms``, ``7 min 13 s``, ``1 d 17 h``."""
    if ms is None:
        return "-"
    if ms < 0:
        return "-" + duration(-ms)
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms // 1000
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    parts = []
    for name, size in units:
        if seconds >= size:
            parts.append(f"{seconds // size} {name}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)
