"""One source event as the import read it, and written back in the encoding it came in.

The redaction reads events through the same readers and the same normalisation as the import
(:func:`inspector.core.records.normalize_event`), so an event it accepts is an event the store
numbered. An event it changes is written back the way it was found: an ``@rrweb/packer`` string
stays packed, a posthog-js compressed event (``"cv": "2024-10"``) keeps its compressed fields
compressed, and every other top-level key (``windowId``, ``sessionId``, the timestamp exactly as
recorded) is kept.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from ..records import (
    _POSTHOG_COMPRESSED_FIELDS,
    PACKER_MARK,
    POSTHOG_COMPRESSION,
    decompress_posthog,
    normalize_event,
    unpack_string_event,
)


@dataclass(slots=True)
class Decoded:
    """A source event: as found (``record``), unpacked (``event``), and normalised."""

    record: Any
    event: dict
    packed: bool
    #: posthog-js compression of the original: "data" (the whole data gzipped), a tuple of the
    #: compressed field names, or None when the event was not compressed.
    compressed: str | tuple[str, ...] | None
    type: int
    source: int | None
    timestamp: int | None

    @property
    def data(self) -> Any:
        return self.event.get("data")


def decode(record: Any) -> Decoded:
    """The event as the import sees it; raises RecordError exactly when the import does."""
    packed = isinstance(record, str)
    event = unpack_string_event(record) if packed else record
    compressed: str | tuple[str, ...] | None = None
    if isinstance(event, dict) and event.get("cv") == POSTHOG_COMPRESSION:
        data = event.get("data")
        if isinstance(data, str):
            compressed = "data"
        else:
            compressed = tuple(key for key in _POSTHOG_COMPRESSED_FIELDS
                               if isinstance(data, dict) and isinstance(data.get(key), str))
        event = decompress_posthog(event)
    # normalize_event of the unpacked, decompressed event is normalize_event of the record:
    # both steps are idempotent, and it raises for everything the import refused.
    normal = normalize_event(event)
    return Decoded(record, event, packed, compressed, normal.type, normal.source,
                   normal.timestamp)


def encode(decoded: Decoded, data: Any) -> Any:
    """``decoded``'s record with ``data`` in place of its data, in the record's own encoding."""
    event = dict(decoded.event)
    if decoded.compressed is not None:
        if decoded.compressed == "data":
            data = _gzip_latin1(data)
        elif isinstance(data, dict):
            data = {key: _gzip_latin1(value) if key in decoded.compressed else value
                    for key, value in data.items()}
        event["data"] = data
        event["cv"] = POSTHOG_COMPRESSION
    else:
        event["data"] = data
    if decoded.packed:
        return zlib.compress(orjson.dumps({**event, "v": PACKER_MARK})).decode("latin-1")
    return event


def signature(record: Any) -> tuple:
    """A cheap fingerprint of a raw record, to prove two readings line up slot by slot."""
    if isinstance(record, dict):
        return ("event", _scalar(record.get("type")), _scalar(record.get("timestamp")))
    if isinstance(record, str):
        return ("packed", len(record))
    return ("other", type(record).__name__)


def _scalar(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def _gzip_latin1(value: Any) -> str:
    return gzip.compress(orjson.dumps(value), mtime=0).decode("latin-1")
