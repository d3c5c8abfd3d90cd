"""One source event as the import read it, and written back in the encoding it came in.

The redaction reads events through the same readers and the same normalisation as the import
(:func:`inspector.core.records.normalize_event`), so an event it accepts is an event the store
numbered. An event it changes is written back the way it was found: an ``@rrweb/packer`` string
stays packed, a posthog-js compressed event (``"cv": "2024-10"``) keeps its compressed fields
compressed, and every other top-level key (``windowId``, ``sessionId``, the timestamp exactly as
recorded) is kept.

:meth:`Decoded.numbers_only` is the one quick look the masking and the verification's
collection of personal data share, so most pointer, scroll and click events are walked by
neither.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from ..records import (
    _POSTHOG_COMPRESSED_FIELDS,
    EVENT_TYPES,
    PACKER_MARK,
    POSTHOG_COMPRESSION,
    SECONDS_THRESHOLD,
    decompress_posthog,
    normalize_event,
    parse_instant,
    unpack_string_event,
)

#: Keys of the pointer, scroll, click, resize, media and selection events that hold numbers.
_NUMBER_KEYS = frozenset({
    "source", "type", "id", "x", "y", "positions", "timeOffset", "pointerType", "width",
    "height", "currentTime", "volume", "playbackRate", "ranges", "start", "startOffset", "end",
    "endOffset"})
#: The integers orjson serialises (the stand-in's ``data.source`` is serialised by
#: normalize_event; outside these it raises, so such an event goes to it).
_MIN_INT64, _MAX_UINT64 = -(2 ** 63), 2 ** 64 - 1
#: Numbers from here on are read as text by the masking and the verification (phone, card...).
_BIG_NUMBER = 1_000_000


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
    _numbers_only: bool | None = None

    @property
    def data(self) -> Any:
        return self.event.get("data")

    def numbers_only(self) -> bool:
        """Whether the data is known keys holding numbers below 1,000,000 only, directly or in
        lists of flat objects (a pointer batch's positions, a selection's ranges): then there
        is no text in it to mask or collect. Computed once; False when unsure.
        """
        if self._numbers_only is None:
            self._numbers_only = _numbers_only(self.data)
        return self._numbers_only

    def known_numbers_only(self) -> None:
        """What :meth:`numbers_only` would find, known from elsewhere (the stored text)."""
        self._numbers_only = True


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
    accepted = _accepted(event)
    if accepted is not None:
        return Decoded(record, event, packed, compressed, *accepted)
    # normalize_event of the unpacked, decompressed event is normalize_event of the record:
    # both steps are idempotent, and it raises for everything the import refused. Of the
    # data it only reads ``source`` (it also serialises the data for the store, which the
    # import did already and nothing here needs), so it is given the event with a stand-in.
    normal = normalize_event(_stand_in(event))
    return Decoded(record, event, packed, compressed, normal.type, normal.source,
                   normal.timestamp)


def _accepted(event: Any) -> tuple[int, int | None, int | None] | None:
    """(type, source, timestamp) of an unpacked, decompressed event that
    :func:`normalize_event` of its stand-in certainly accepts, found by the same checks in the
    same order without building anything; None when unsure (then normalize_event decides).

    The usual event is an object with an integer type, a number or string timestamp (read by
    the import's own :func:`parse_instant`) and an object, list or null as data whose
    ``source`` is absent or an integer the store's serialiser takes.
    """
    if type(event) is not dict:
        return None
    kind = event.get("type")
    if type(kind) is not int or kind not in EVENT_TYPES:
        return None
    timestamp = event.get("timestamp")
    if type(timestamp) is not int or timestamp < SECONDS_THRESHOLD:  # else: as it is
        timestamp = parse_instant(timestamp)[0]
    data = event.get("data")
    if type(data) is dict:
        source = data.get("source")
        if source is None:
            if kind == 3:
                return None
        elif type(source) is not int or not _MIN_INT64 <= source <= _MAX_UINT64:
            return None
    elif data is None or type(data) is list:
        if kind == 3:
            return None
        source = None
    else:
        return None
    return kind, source if kind == 3 else None, timestamp


def _stand_in(event: Any) -> Any:
    if not isinstance(event, dict):
        return event
    data = event.get("data")
    if isinstance(data, dict):
        return {**event, "data": {"source": data.get("source")}}
    return {**event, "data": None} if isinstance(data, list) else event


def _numbers_only(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    for key, value in data.items():
        if key not in _NUMBER_KEYS:
            return False
        kind = type(value)
        if kind is list:
            for item in value:
                if type(item) is not dict or not _NUMBER_KEYS.issuperset(item):
                    return False
                for number in item.values():
                    if (type(number) is not int and type(number) is not float) \
                            or not -_BIG_NUMBER < number < _BIG_NUMBER:
                        return False
        elif (kind is not int and kind is not float) or not -_BIG_NUMBER < value < _BIG_NUMBER:
            return False
    return True


def _numbers_only_pattern() -> str:
    """A regular expression (RE2 and Python) matching the compact JSON text of data that
    :func:`_numbers_only` accepts: whole or not at all, so a match is certain and a miss
    (spaces, exponents, escapes the store's serialiser does not write) leaves it to Python.

    Numbers are plain decimals below 1,000,000 in magnitude: an integer part of up to five
    digits with any fraction, or of six digits with up to eight fraction digits (more could
    round a float up to 1,000,000).
    """
    key = "(?:" + "|".join(sorted(_NUMBER_KEYS)) + ")"
    number = r"-?(?:(?:0|[1-9][0-9]{0,4})(?:\.[0-9]+)?|[1-9][0-9]{5}(?:\.[0-9]{1,8})?)"
    flat = rf'\{{(?:"{key}":{number}(?:,"{key}":{number})*)?\}}'
    items = rf"\[(?:{flat}(?:,{flat})*)?\]"
    member = rf'"{key}":(?:{number}|{items})'
    return rf"\{{(?:{member}(?:,{member})*)?\}}"


#: Data known to be numbers only from its stored text (see :func:`_numbers_only_pattern`).
NUMBERS_ONLY_PATTERN = _numbers_only_pattern()


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
