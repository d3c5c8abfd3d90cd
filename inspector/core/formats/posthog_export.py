"""PostHog's "export recording" files (``*.ph-recording.json``): one session and its person.

Two versions exist. ``2023-04-28``: ``{"version", "data": {"id", "person", "snapshots":
[event + "windowId"]}}`` (the window id an integer or a UUID string). ``2022-12-02``:
``{"version", "data": {"person", "snapshotsByWindowId": {uuid: [events]}}}``. The person's
distinct ids name the subject (the first) and its aliases (the others), so an opt-out recorded
under any of them finds the session.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError
from ..records import SessionMeta, Sink
from ..sources import Source
from . import Sniff, jsondoc
from .rrweb_json import CANCEL_EVERY
from .rrweb_ndjson import default_session_id

NAME = "posthog-export"

VERSIONS = ("2022-12-02", "2023-04-28")
_EVENT_LISTS = frozenset({"snapshots", "snapshotsByWindowId"})
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}")


def detect(sniff: Sniff) -> bool:
    if sniff.lines_of_json:
        return False
    members = jsondoc.peek(sniff.stripped).keys()
    data = members.get("data")
    if data is None or data.kind != "object":
        return False
    # A dated version claims the file even when unknown, so read() can say which it is.
    version = members["version"].text() if "version" in members else None
    return bool(version and _DATED.fullmatch(version)) or bool(_EVENT_LISTS & data.keys().keys())


def read(source: Source, sink: Sink) -> None:
    document = jsondoc.load(source)
    name = source.name
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise InputError('is not a PostHog export (it has no "data" object)', path=name,
                         hint="export the recording again from PostHog")
    version = document.get("version")
    data = document["data"]
    if version == "2023-04-28":
        events = _snapshots(data, name)
    elif version == "2022-12-02":
        events = _by_window(data, name, sink)
    else:
        raise InputError(f"is a PostHog export of version {version!r}, which this tool cannot "
                         "read", path=name, where="version",
                         hint=f"known versions are {', '.join(VERSIONS)}; export the recording "
                              "again or report the new version")
    session_id = key_of(data.get("id")) or key_of(data.get("session_id")) \
        or default_session_id(name)
    subject, aliases = person_keys(data.get("person"), data.get("distinct_id"))
    sink.session(SessionMeta(session_id, subject=subject, aliases=aliases, origin=name))
    for count, (record, location, window) in enumerate(events, 1):
        sink.event(session_id, record, location, window=window)
        if count % CANCEL_EVERY == 0:
            sink.check_cancel()


def _snapshots(data: dict, name: str) -> list[tuple[Any, str, str | None]]:
    snapshots = data.get("snapshots")
    if not isinstance(snapshots, list):
        raise InputError('is a PostHog export without a "snapshots" array', path=name,
                         where="data.snapshots", hint="the file is damaged or was edited")
    return [(record, f"{name} data.snapshots[{index}]",
             key_of(record.get("windowId")) if isinstance(record, dict) else None)
            for index, record in enumerate(snapshots)]


def _by_window(data: dict, name: str, sink: Sink) -> list[tuple[Any, str, str | None]]:
    windows = data.get("snapshotsByWindowId")
    if not isinstance(windows, dict):
        raise InputError('is a PostHog export without a "snapshotsByWindowId" object', path=name,
                         where="data.snapshotsByWindowId", hint="the file is damaged or was edited")
    events = []
    for window, records in windows.items():
        where = f"{name} data.snapshotsByWindowId.{window}"
        if not isinstance(records, list):
            sink.problem(where, "is not an array of events; this window was skipped")
            continue
        events.extend((record, f"{where}[{index}]", window) for index, record in enumerate(records))
    return events


def key_of(value: Any) -> str | None:
    """An id as text: a non-empty string, or an integer (PostHog numbers some windows)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value:
        return value
    return None


def person_keys(person: Any, fallback: Any = None) -> tuple[str | None, list[str]]:
    """The subject and aliases of a PostHog person record.

    The subject is the first distinct id (else ``distinct_id``, ``fallback`` or the person's
    name); the other distinct ids are aliases of the same person.
    """
    if not isinstance(person, dict):
        return key_of(fallback), []
    ids: list[str] = []
    raw = person.get("distinct_ids")
    for value in raw if isinstance(raw, list) else ():
        key = key_of(value)
        if key and key not in ids:
            ids.append(key)
    if ids:
        return ids[0], ids[1:]
    for candidate in (person.get("distinct_id"), fallback, person.get("name")):
        if key_of(candidate):
            return key_of(candidate), []
    return None, []
