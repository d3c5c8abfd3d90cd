"""What readers hand to the store: events, sessions, consent and identity records, problems.

Readers only understand containers (zip, PostHog export, NDJSON...). Everything about a single
rrweb event — unpacking ``@rrweb/packer`` strings, undoing posthog-js field compression,
normalising timestamps, validating the type — happens here once, so every format gets the same
treatment and the redaction later reads events exactly as the import did.
"""

from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

#: rrweb event types, 0..7 (7 = Asset, rrweb 2.1+).
EVENT_TYPES = {0: "DomContentLoaded", 1: "Load", 2: "FullSnapshot", 3: "IncrementalSnapshot",
               4: "Meta", 5: "Custom", 6: "Plugin", 7: "Asset"}
#: Incremental snapshot sources (``data.source`` of type 3).
SOURCES = {0: "Mutation", 1: "MouseMove", 2: "MouseInteraction", 3: "Scroll", 4: "ViewportResize",
           5: "Input", 6: "TouchMove", 7: "MediaInteraction", 8: "StyleSheetRule",
           9: "CanvasMutation", 10: "Font", 11: "Log", 12: "Drag", 13: "StyleDeclaration",
           14: "Selection", 15: "AdoptedStyleSheet", 16: "CustomElement"}

#: Below this a numeric timestamp is taken to be in seconds (10^11 ms is March 1973).
SECONDS_THRESHOLD = 100_000_000_000

PACKER_MARK = "v1"
POSTHOG_COMPRESSION = "2024-10"
_POSTHOG_COMPRESSED_FIELDS = ("adds", "removes", "texts", "attributes")


@dataclass
class SessionMeta:
    """A session as its container describes it (all but the id optional)."""

    session_id: str
    subject: str | None = None
    device: str | None = None
    started_at: int | None = None
    #: Other keys of the same person given by the container (PostHog distinct ids).
    aliases: list[str] = field(default_factory=list)
    origin: str | None = None  # the file or member the session came from


@dataclass
class Problem:
    """Something wrong with one row or part of a file that did not stop the import."""

    location: str  # "file.ndjson line 12", "archive.zip!a.json [3]"
    reason: str
    count: int = 1


@dataclass
class ConsentRecord:
    subject: str
    action: str  # "opt_out" | "opt_in"
    at_ms: int
    scope: str | None = None
    source: str | None = None
    location: str | None = None


@dataclass
class IdentityRecord:
    subject: str
    alias: str
    location: str | None = None


class RecordError(ValueError):
    """A single record that cannot be used; becomes a Problem, the import goes on."""


@dataclass
class NormalEvent:
    timestamp: int | None
    type: int
    source: int | None
    data_json: str
    byte_length: int
    #: Set when the timestamp had to be converted or is missing.
    note: str | None = None


class Sink(Protocol):
    """Where a reader sends what it finds. The importer implements it over the store."""

    location: str

    def session(self, meta: SessionMeta) -> None: ...

    def event(self, session_id: str, record: Any, location: str, window: str | None = None) -> None:
        ...

    def problem(self, location: str, reason: str) -> None: ...

    def consent(self, record: ConsentRecord) -> None: ...

    def identity(self, record: IdentityRecord) -> None: ...

    def bulk_ndjson(self, path: str, session_id: str, *, forced: bool = False,
                    max_object_bytes: int) -> bool:
        """Import an uncompressed NDJSON file of bare events natively; False if it cannot."""
        ...

    def check_cancel(self) -> None: ...

    def session_events(self, session_id: str) -> int:
        """Events accepted so far for ``session_id``."""
        ...


# -- event normalisation -------------------------------------------------------------------

def unpack_string_event(text: str) -> Any:
    """Undo ``@rrweb/packer``: the event is zlib-deflated JSON carried as a latin-1 string."""
    try:
        raw = zlib.decompress(text.encode("latin-1"))
    except (UnicodeEncodeError, zlib.error) as exc:
        raise RecordError("a string where an event was expected, and not one packed by "
                          "@rrweb/packer") from exc
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError("a packed event whose content is not JSON") from exc
    if not isinstance(event, dict) or event.get("v") != PACKER_MARK:
        mark = event.get("v") if isinstance(event, dict) else None
        raise RecordError(f"an event packed by an unknown @rrweb/packer version ({mark!r})")
    event.pop("v", None)
    return event


def _gunzip_latin1(value: str, what: str) -> Any:
    try:
        return orjson.loads(gzip.decompress(value.encode("latin-1")))
    except (UnicodeEncodeError, OSError, EOFError, zlib.error, orjson.JSONDecodeError) as exc:
        raise RecordError(f"posthog-js compressed field '{what}' cannot be decoded ({exc})"
                          ) from exc


def decompress_posthog(event: dict) -> dict:
    """Undo posthog-js ``cv: "2024-10"`` compression (gzip in latin-1 strings)."""
    if event.get("cv") != POSTHOG_COMPRESSION:
        return event
    event = dict(event)
    event.pop("cv")
    data = event.get("data")
    if isinstance(data, str):
        event["data"] = _gunzip_latin1(data, "data")
    elif isinstance(data, dict):
        data = dict(data)
        for key in _POSTHOG_COMPRESSED_FIELDS:
            if isinstance(data.get(key), str):
                data[key] = _gunzip_latin1(data[key], key)
        event["data"] = data
    return event


def parse_instant(value: Any) -> tuple[int | None, str | None]:
    """Epoch milliseconds from a number or an ISO-8601 string, and a note when converted."""
    if isinstance(value, bool) or value is None:
        return None, "no timestamp"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None, "timestamp is not a finite number"
        if value <= 0:
            return None, f"timestamp {value!r} is not a positive epoch time"
        if value < SECONDS_THRESHOLD:
            return round(value * 1000), "timestamp in seconds converted to milliseconds"
        return round(value), None
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_instant(float(text))[0], "numeric string timestamp converted"
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None, f"timestamp {value[:40]!r} is neither a number nor an ISO-8601 time"
        if moment.tzinfo is None:
            return None, (f"ISO timestamp {value[:40]!r} has no UTC offset, so its instant is "
                          "unknown")
        return round(moment.timestamp() * 1000), "ISO-8601 timestamp converted to milliseconds"
    return None, f"timestamp of type {type(value).__name__} cannot be read"


def normalize_event(record: Any) -> NormalEvent:
    """One raw event (dict, or packed string) as the store keeps it. Raises RecordError."""
    if isinstance(record, str):
        record = unpack_string_event(record)
    if not isinstance(record, dict):
        raise RecordError(f"expected an event object, found {_json_kind(record)}")
    record = decompress_posthog(record)
    kind = record.get("type")
    if isinstance(kind, bool) or not isinstance(kind, int) or kind not in EVENT_TYPES:
        raise RecordError(f"'type' is {_describe(kind)}, not an rrweb event type (0-7)")
    timestamp, note = parse_instant(record.get("timestamp"))
    data = record.get("data")
    source = None
    if kind == 3:
        raw_source = data.get("source") if isinstance(data, dict) else None
        if isinstance(raw_source, int) and not isinstance(raw_source, bool):
            source = raw_source
        else:
            raise RecordError("incremental snapshot without an integer 'data.source'")
    data_bytes = orjson.dumps(data)
    return NormalEvent(timestamp, kind, source, data_bytes.decode(), len(data_bytes), note)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _describe(value: Any) -> str:
    if value is None:
        return "missing"
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:37] + "..."


# -- consent and identity records -----------------------------------------------------------

CONSENT_ACTIONS = ("opt_out", "opt_in")


def parse_consent(obj: Any, location: str) -> ConsentRecord:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a consent object, found {_json_kind(obj)}")
    subject = obj.get("subject")
    if not isinstance(subject, str) or not subject:
        raise RecordError("consent record without a 'subject' key")
    action = obj.get("action")
    if action not in CONSENT_ACTIONS:
        raise RecordError(f"consent 'action' is {_describe(action)}, expected opt_out or opt_in")
    at_ms, note = parse_instant(obj.get("at"))
    if at_ms is None:
        raise RecordError(f"consent 'at': {note}")
    scope = obj.get("scope")
    source = obj.get("source")
    return ConsentRecord(subject, action, at_ms,
                         scope if isinstance(scope, str) and scope else None,
                         source if isinstance(source, str) and source else None, location)


def parse_identity(obj: Any, location: str) -> IdentityRecord:
    if not isinstance(obj, dict):
        raise RecordError(f"expected an identity object, found {_json_kind(obj)}")
    subject, alias = obj.get("subject"), obj.get("alias")
    if not isinstance(subject, str) or not subject or not isinstance(alias, str) or not alias:
        raise RecordError("identity record needs string 'subject' and 'alias' keys")
    return IdentityRecord(subject, alias, location)
