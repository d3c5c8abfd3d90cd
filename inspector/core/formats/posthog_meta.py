"""PostHog recording metadata (``recording_meta.json``): recognised, so it is not a failure.

PostHog's API gives a recording's metadata (id, person, start time, duration, click counts)
apart from its snapshots. On its own it holds no events, so the importer reports it as skipped;
next to a snapshot blob it names that blob's session and person (see :mod:`.posthog_blob`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import SkipFile
from ..records import Sink
from ..sources import Source
from . import Sniff, jsondoc

NAME = "posthog-recording-meta"

#: Keys that would make the object a recording rather than its description.
_EVENT_KEYS = frozenset({"data", "events", "result", "snapshots", "snapshotsByWindowId",
                         "snapshot_data_by_window_id"})


def detect(sniff: Sniff) -> bool:
    if sniff.lines_of_json:
        return False
    members = jsondoc.peek(sniff.stripped).keys()
    return "id" in members and members["id"].kind == "string" and has_meta_keys(members)


def has_meta_keys(keys: Iterable[str]) -> bool:
    keys = set(keys)
    return ("person" in keys and bool(keys & {"start_time", "recording_duration"})
            and not keys & _EVENT_KEYS)


def is_recording_meta(value: Any) -> bool:
    """Whether a parsed JSON value is a PostHog recording's metadata object."""
    return (isinstance(value, dict) and isinstance(value.get("id"), str) and bool(value["id"])
            and has_meta_keys(value))


def read(source: Source, sink: Sink) -> None:
    raise SkipFile("is PostHog recording metadata, which holds no events; skipped",
                   path=source.name,
                   hint="import it in the same folder as its snapshot file (.jsonl) to give that "
                        "recording its session id and person")
