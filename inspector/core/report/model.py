"""What a report says, as plain data: every renderer (HTML here, PDF in the Qt shell) reads this.

The model holds text that is already safe to print: keys, paths, locations and URLs have been
through :mod:`inspector.core.pii` masking, and personal data appears only as kinds and counts.
A renderer formats; it never goes back to the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ratio:
    """A share with its denominator, so a reader sees "4 of 5", not only "80 %"."""

    part: int
    whole: int

    @property
    def percent(self) -> str:
        if not self.whole:
            return "n/a"
        value = 100 * self.part / self.whole
        return f"{value:.0f} %" if value in (0, 100) or value >= 10 else f"{value:.1f} %"

    def as_text(self) -> str:
        return f"{self.part:,} of {self.whole:,} ({self.percent})"


@dataclass(frozen=True)
class InputFile:
    """One imported file (recordings, or a consent or identities file)."""

    archive_id: int
    path: str
    sha256: str
    size_bytes: int | None
    format: str
    recorder: str  # the recorder and exporter identified, in words
    sessions: int
    events: int
    flagged_events: int
    consent_records: int
    identity_links: int
    problems: int
    first_ms: int | None
    last_ms: int | None
    imported_at: str


@dataclass(frozen=True)
class Detector:
    name: str
    version: str
    finds: str


@dataclass(frozen=True)
class Method:
    rules: list[tuple[str, str]]  # (title, statement)
    tolerance_ms: int
    tolerance: str
    categories: list[tuple[str, str]]  # (label, which events)
    detectors: list[Detector]
    pii: str  # how personal data is found and counted


@dataclass(frozen=True)
class OptOut:
    """An opt-out record under which this person's events were flagged."""

    at_ms: int
    key: str
    origin: str  # "ledger" | "marker"
    source: str
    scope: str
    location: str
    ended_at_ms: int | None
    links: list[str]  # "a ~ b ~ c" chains from the sessions' keys to ``key``


@dataclass(frozen=True)
class SessionLine:
    archive_id: int
    session_id: str
    subject: str
    device: str
    severity: str
    flagged_events: int
    undetermined_events: int
    first_ms: int | None
    last_ms: int | None
    captured_after_ms: int | None


@dataclass(frozen=True)
class Segment:
    """One session in a person's chart: its span and the cumulative flagged count over it."""

    session_id: str
    start_ms: int
    end_ms: int
    #: (instant, flagged events of the person so far), in time order, thinned for drawing.
    points: list[tuple[int, int]]
    flagged_events: int


@dataclass(frozen=True)
class Chart:
    opt_out_ms: int  # the earliest opt-out in force
    #: Consent changes to mark: (instant, "opt-out" | "opt-in"), in time order.
    marks: list[tuple[int, str]]
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Person:
    """Everything recorded of one opted-out person after their opt-out."""

    key: str
    linked_keys: list[str]
    severity: str
    opt_outs: list[OptOut]
    sessions: list[SessionLine]
    flagged_events: int
    undetermined_events: int
    first_ms: int | None
    last_ms: int | None
    first_delay_ms: int | None  # from the earliest opt-out to the first flagged event
    last_delay_ms: int | None
    captured_after_ms: int | None  # the longest capture after an opt-out in force
    by_category: list[tuple[str, int]]  # (label, flagged events), report order
    pii: list[tuple[str, int]]  # (label, occurrences), never values
    pages: list[str]  # visited after the opt-out; query values masked
    chart: Chart | None


@dataclass(frozen=True)
class Prevalence:
    label: str
    people: Ratio  # affected people with this category (or kind)
    events: Ratio | None = None  # a category's flagged events among all flagged events
    occurrences: int | None = None  # a kind of personal data: how many times it was found


@dataclass(frozen=True)
class Aggregates:
    people_affected: Ratio  # opted-out people with at least one flagged event
    sessions_affected: Ratio
    events_flagged: Ratio
    median_capture_ms: int | None
    max_capture_ms: int | None
    capture_people: int  # the denominator of the median and maximum
    categories: list[Prevalence]
    pii: list[Prevalence]


@dataclass(frozen=True)
class Report:
    title: str
    tool_version: str
    generated_at: str  # ISO-8601 UTC
    options: list[tuple[str, str]]
    inputs: list[InputFile]
    sessions: int
    events: int
    flagged_events: int
    undetermined_events: int
    people_opted_out: int
    ignored_records: int
    markers_without_timestamp: int
    method: Method
    aggregates: Aggregates
    people: list[Person]
    limitations: list[str]
    custody: str  # the custody log's state when the report was made
    notes: list[str] = field(default_factory=list)


#: The report's sections, in order: (anchor, heading). Both renderers use these headings.
SECTIONS = [("summary", "Summary"), ("inputs", "Inputs"), ("method", "Method"),
            ("people", "Findings by person"), ("aggregates", "Aggregates"),
            ("limitations", "Limitations")]
