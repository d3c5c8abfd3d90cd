"""A Sink that keeps everything a reader sends, for testing readers without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspector.core.records import (
    ConsentRecord,
    IdentityRecord,
    NormalEvent,
    SessionMeta,
    normalize_event,
)


@dataclass
class Collected:
    session_id: str
    record: Any
    location: str
    window: str | None


@dataclass
class CollectingSink:
    location: str = ""
    sessions: list[SessionMeta] = field(default_factory=list)
    events: list[Collected] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    consents: list[ConsentRecord] = field(default_factory=list)
    identities: list[IdentityRecord] = field(default_factory=list)
    cancel_checks: int = 0

    def session(self, meta: SessionMeta) -> None:
        self.sessions.append(meta)

    def event(self, session_id: str, record: Any, location: str, window: str | None = None) -> None:
        # The contract every reader keeps: a session is announced before its events.
        assert session_id in self.session_ids, f"event for unannounced session {session_id!r}"
        self.events.append(Collected(session_id, record, location, window))

    def problem(self, location: str, reason: str) -> None:
        self.problems.append((location, reason))

    def consent(self, record: ConsentRecord) -> None:
        self.consents.append(record)

    def identity(self, record: IdentityRecord) -> None:
        self.identities.append(record)

    def bulk_ndjson(self, path: str, gzip: bool, session_id: str, **_: Any) -> bool:
        return False

    def check_cancel(self) -> None:
        self.cancel_checks += 1

    # -- for assertions -------------------------------------------------------------------
    @property
    def session_ids(self) -> list[str]:
        return [meta.session_id for meta in self.sessions]

    def count_by_session(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for event in self.events:
            counts[event.session_id] = counts.get(event.session_id, 0) + 1
        return counts

    def windows(self) -> set[str | None]:
        return {event.window for event in self.events}

    def normalized(self) -> list[NormalEvent]:
        """The events as the importer's sink would store them (raises on a bad one)."""
        return [normalize_event(event.record) for event in self.events]
