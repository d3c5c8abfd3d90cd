"""rrweb events as one whole JSON document, the way players and test suites save them.

Accepted shapes: an array of events; ``{"events": [...]}`` or ``{"result": [...]}`` (PostHog's
API answer); an object whose values are event arrays, one session per key; and any of these
holding ``@rrweb/packer`` strings instead of event objects (the sink unpacks them). One line
of JSON per event is NDJSON and belongs to :mod:`.rrweb_ndjson`; a ``{"version", "data"}``
object is a PostHog export and belongs to :mod:`.posthog_export`.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from ..errors import InputError
from ..records import SessionMeta, Sink
from ..sources import Source
from . import Sniff, jsondoc
from .rrweb_ndjson import SESSION_KEYS, default_session_id, session_of

NAME = "rrweb-json"

#: Keys under which a document holds its event array.
ARRAY_KEYS = ("events", "result")
#: How many events are read between two looks at the cancel button.
CANCEL_EVERY = 2000
#: Keys an event object may show before the head ends (rrweb writes "data" first sometimes).
_PARTIAL_EVENT_KEYS = frozenset({"data", "timestamp"})


def detect(sniff: Sniff) -> bool:
    if sniff.lines_of_json:
        return False
    top = jsondoc.peek(sniff.stripped)
    if top.kind == "array":
        return holds_events(top)
    members = top.keys()
    for key in ARRAY_KEYS:
        if key in members:
            return holds_events(members[key])
    # One session per key: every value the head shows is an array, the first of events.
    return (bool(members) and all(value.kind in ("array", "cut") for value in members.values())
            and holds_events(next(iter(members.values()))))


def holds_events(value: jsondoc.Peek) -> bool:
    """An empty array, or one whose first element looks like an event or a packed event."""
    if value.is_empty_array:
        return True
    first = value.first()
    if first is None:
        return False
    if first.kind == "object":
        keys = set(first.keys())
        return "type" in keys or (bool(keys) and keys <= _PARTIAL_EVENT_KEYS)
    if first.kind == "string":
        return looks_packed(first.text())
    return False


def looks_packed(text: str | None) -> bool:
    """Whether a string starts like an ``@rrweb/packer`` event (zlib-deflated JSON in latin-1)."""
    if not text:
        return False
    try:
        packed = text.encode("latin-1")
        start = zlib.decompressobj().decompress(packed, 16)
    except (UnicodeEncodeError, zlib.error):
        return False
    return start.lstrip()[:1] == b"{"


def read(source: Source, sink: Sink) -> None:
    document = jsondoc.load(source)
    name = source.name
    default = default_session_id(name)
    if isinstance(document, list):
        _emit(sink, name, document, f"{name} ", default, forced=False)
        return
    if not isinstance(document, dict):
        raise _not_events(source)
    for key in ARRAY_KEYS:
        events = document.get(key)
        if isinstance(events, list):
            own = _session_key(document)
            _emit(sink, name, events, f"{name} {key}", own or default, forced=own is not None)
            return
    arrays = 0
    for key, events in document.items():
        where = f"{name} {orjson.dumps(key).decode()}"
        if not isinstance(events, list):
            sink.problem(where, f"holds {_kind(events)}, not an event array; skipped")
            continue
        arrays += 1
        if not events:
            sink.problem(where, "is an empty event array; no session made for it")
        _emit(sink, name, events, where, key, forced=True)
    if not arrays:
        raise _not_events(source)


def _emit(sink: Sink, origin: str, events: list[Any], where: str, default: str, *,
          forced: bool) -> None:
    """Events in source order; each session announced before its first event."""
    announced: set[str] = set()
    sink.check_cancel()
    for index, record in enumerate(events):
        session_id = default if forced else session_of(record, default)
        if session_id not in announced:
            announced.add(session_id)
            sink.session(SessionMeta(session_id, origin=origin))
        sink.event(session_id, record, f"{where}[{index}]")
        if index % CANCEL_EVERY == CANCEL_EVERY - 1:
            sink.check_cancel()


def _session_key(document: dict) -> str | None:
    """The session id a ``{"sessionId": ..., "events": [...]}`` document gives itself."""
    for key in SESSION_KEYS:
        value = document.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _kind(value: Any) -> str:
    return {dict: "an object", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), "null" if value is None else type(value).__name__)


def _not_events(source: Source) -> InputError:
    return InputError("is JSON but holds no rrweb event array", path=source.name,
                      hint='expected [events], {"events": [...]}, {"result": [...]} or an '
                           "object of event arrays")
