"""PostHog snapshot storage: NDJSON lines, each ``[windowId, event]`` or ``{"window_id", "data"}``.

This is how PostHog keeps a recording in blob storage and what its API returns for one
session's snapshots; a ``data`` line may carry many events. The file is one session. PostHog
keeps the session's id and person apart, in a metadata object (``recording_meta.json``); when
such a file lies next to the blob and matches it (same id as the blob's name, or a start time
equal to the first event's), the session takes its id, subject and aliases from it.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from ..records import RecordError, SessionMeta, Sink, parse_instant
from ..sources import Source
from . import Sniff, json_lines, jsondoc
from .posthog_export import key_of, person_keys
from .posthog_meta import is_recording_meta
from .rrweb_json import CANCEL_EVERY
from .rrweb_ndjson import default_session_id

NAME = "posthog-blob"

WINDOW_KEYS = ("window_id", "windowId")
#: Metadata objects are a few KiB; larger sibling files are not read when looking for one.
META_MAX_BYTES = 256 * 1024


def detect(sniff: Sniff) -> bool:
    value = sniff.first_value
    if value is not None:
        return _is_line(value)
    if sniff.first_line_complete:
        return False  # a first line that is not JSON: not a line format
    # A first line longer than detection reads (a big FullSnapshot): judge by its start.
    top = jsondoc.peek(sniff.first_line)
    if top.kind == "array":
        pair = list(islice(top.elements(), 2))
        return len(pair) == 2 and pair[0].kind in ("string", "number") \
            and pair[1].kind == "object"
    members = top.keys()
    data = members.get("data")
    return any(key in members for key in WINDOW_KEYS) and data is not None \
        and data.kind == "array"


def _is_line(value: Any) -> bool:
    if isinstance(value, list):
        return (len(value) == 2 and key_of(value[0]) is not None and isinstance(value[1], dict)
                and "type" in value[1])
    return (isinstance(value, dict) and any(key in value for key in WINDOW_KEYS)
            and isinstance(value.get("data"), list))


def read(source: Source, sink: Sink) -> None:
    session_id: str | None = None
    count = 0
    for _, where, value in json_lines(source, sink):
        try:
            events = _line_events(value, where)
        except RecordError as exc:
            sink.problem(where, f"{exc}; line skipped")
            continue
        for record, location, window in events:
            if session_id is None:
                meta = _session(source, record)
                session_id = meta.session_id
                sink.session(meta)
            sink.event(session_id, record, location, window=window)
            count += 1
            if count % CANCEL_EVERY == 0:
                sink.check_cancel()


def _line_events(value: Any, where: str) -> list[tuple[Any, str, str | None]]:
    if isinstance(value, list):
        if len(value) == 2 and key_of(value[0]) is not None:
            return [(value[1], where, key_of(value[0]))]
        raise RecordError("an array that is not [windowId, event]")
    if isinstance(value, dict):
        window_key = next((key for key in WINDOW_KEYS if key in value), None)
        if window_key is None and "type" in value:
            return [(value, where, None)]  # a bare event: no window known
        events = value.get("data")
        if window_key is not None and isinstance(events, list):
            window = key_of(value[window_key])
            return [(record, f"{where} [{index}]", window) for index, record in enumerate(events)]
    raise RecordError('not [windowId, event] nor {"window_id": ..., "data": [events]}')


def _session(source: Source, first_event: Any) -> SessionMeta:
    """The session of this blob: from a matching metadata file beside it, else its name."""
    stem = default_session_id(source.name)
    first_ms = None
    if isinstance(first_event, dict):
        first_ms = parse_instant(first_event.get("timestamp"))[0]
    meta = sibling_meta(source.path, stem, first_ms) if source.path is not None else None
    if meta is None:
        return SessionMeta(stem, origin=source.name)
    subject, aliases = person_keys(meta.get("person"), meta.get("distinct_id"))
    return SessionMeta(meta["id"], subject=subject, aliases=aliases, origin=source.name,
                       started_at=parse_instant(meta.get("start_time"))[0])


def sibling_meta(path: Path, stem: str, first_ms: int | None) -> dict | None:
    """The recording metadata in ``path``'s folder for this blob, if there is one.

    A metadata object whose id is the blob's name wins; otherwise the first (by file name)
    whose start time is the blob's first event time.
    """
    by_time = None
    for candidate in sorted(path.parent.glob("*.json")):
        try:
            if not candidate.is_file() or candidate.stat().st_size > META_MAX_BYTES:
                continue
            value = orjson.loads(candidate.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if not is_recording_meta(value):
            continue
        if value["id"] == stem:
            return value
        if by_time is None and first_ms is not None \
                and parse_instant(value.get("start_time"))[0] == first_ms:
            by_time = value
    return by_time
