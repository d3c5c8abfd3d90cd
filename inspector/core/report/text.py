"""How the report writes instants, sizes and durations; shared by the HTML and PDF renderers."""

from __future__ import annotations

from datetime import UTC, datetime

from ..audit.report import duration

__all__ = ["SUBTITLE", "after", "captured", "duration", "key_figures", "person_facts", "size",
           "span", "when"]

#: What the report is, under its title.
SUBTITLE = ("Events recorded in session replays after the person recorded had opted out. "
            "Personal data is reported by kind and count; no value is reproduced.")


def when(ms: int | None) -> str:
    """``2024-03-12 14:25:43.494 UTC``."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def after(ms: int | None) -> str:
    """A delay since the opt-out: ``+1 d 6 h``, ``at the opt-out``."""
    if ms is None:
        return "-"
    if ms == 0:
        return "at the opt-out instant"
    return ("+" if ms > 0 else "") + duration(ms) + (" after the opt-out" if ms > 0
                                                     else " before the opt-out")


def span(first: int | None, last: int | None) -> str:
    if first is None or last is None:
        return "no timestamps"
    return f"{when(first)} to {when(last)} ({duration(last - first)})"


def size(count: int | None) -> str:
    if count is None:
        return "-"
    if count < 1024:
        return f"{count:,} bytes"
    value = count / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:,.1f} {unit} ({count:,} bytes)"
        value /= 1024
    return f"{value:,.1f} GiB ({count:,} bytes)"


def key_figures(report) -> list[tuple[str, str]]:
    """The summary's figures, each a value and what it counts (its denominator said)."""
    a = report.aggregates
    people = f"(n = {a.capture_people:,} people)"
    return [
        (a.people_affected.as_text(), "opted-out people with at least one flagged event"),
        (a.events_flagged.as_text(), "events flagged, of all events"),
        (a.sessions_affected.as_text(), "sessions with flagged events, of all sessions"),
        (duration(a.median_capture_ms), f"median capture after the opt-out {people}"),
        (duration(a.max_capture_ms), f"longest capture after the opt-out {people}"),
        (f"{report.undetermined_events:,}", "undetermined events (no usable timestamp)"),
    ]


def person_facts(person) -> list[tuple[str, str]]:
    """What a person's section states first: when capture after the opt-out began and ended,
    how long it went on, how much of it there was."""
    sessions = len(person.sessions)
    return [
        ("First flagged event", f"{when(person.first_ms)} ({after(person.first_delay_ms)})"),
        ("Last flagged event", f"{when(person.last_ms)} ({after(person.last_delay_ms)})"),
        ("Capture after the opt-out", duration(person.captured_after_ms)),
        ("Flagged events", f"{person.flagged_events:,} in {sessions:,} session"
                           f"{'s' if sessions != 1 else ''}"),
        ("Undetermined events", f"{person.undetermined_events:,}"),
    ]


def captured(person) -> list[tuple[str, str]]:
    """What a person's "Captured after the opt-out" states: the flagged events by category,
    and the personal data in them by kind (counts only, no value)."""
    categories = ", ".join(f"{label} {count:,}" for label, count in person.by_category)
    found = ", ".join(f"{label} \u00d7{count:,}" for label, count in person.pii)
    return [("Categories", categories or "none"),
            ("Personal data (masked; kinds and occurrences)", found or "none found")]
