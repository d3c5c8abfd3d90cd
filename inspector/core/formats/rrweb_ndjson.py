"""Bare rrweb events, one JSON object per line (plain or gzip), grouped by a session id field.

An uncompressed file on disk is first offered to DuckDB's native JSON reader through
:meth:`Sink.bulk_ndjson` (several times faster than parsing in Python); a file that reader
cannot take whole — damaged lines, wrong types, compressed or packed events, a zip member —
is streamed line by line here, so every bad line is reported with its number and the good
lines still import.
"""

from __future__ import annotations

import re

from ..records import SessionMeta, Sink
from ..sources import Source
from . import Sniff, json_lines

NAME = "rrweb-ndjson"

_EVENT_PREFIX = re.compile(rb'\s*\{\s*"(type|timestamp|data|sessionId|session_id)"\s*:')
SESSION_KEYS = ("session_id", "sessionId")


def detect(sniff: Sniff) -> bool:
    value = sniff.first_value
    if isinstance(value, dict):
        return "type" in value and ("data" in value or "timestamp" in value)
    if isinstance(value, str):  # @rrweb/packer strings, one per line
        return sniff.more_lines
    return not sniff.first_line_complete and bool(_EVENT_PREFIX.match(sniff.first_line))


def default_session_id(name: str) -> str:
    """A session id from a file or member name: its base name without recording suffixes."""
    base = name.rsplit("!", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".gz", ".ndjson", ".jsonl", ".json"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base or "session"


def session_of(record: object, default: str) -> str:
    if isinstance(record, dict):
        for key in SESSION_KEYS:
            value = record.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
    return default


def read(source: Source, sink: Sink, session_id: str | None = None) -> None:
    """Read every line; ``session_id`` (from a manifest) overrides the per-line keys."""
    default = session_id or default_session_id(source.name)
    # Only uncompressed files go to DuckDB: its gzip reader has no guard against bombs.
    if source.path is not None and not source.is_gzip and sink.bulk_ndjson(
            str(source.path), default, forced=session_id is not None,
            max_object_bytes=source.limits.max_line_bytes):
        return
    read_lines(source, sink, default, forced=session_id is not None)


def read_lines(source: Source, sink: Sink, default: str, *, forced: bool = False) -> None:
    announced: set[str] = set()
    for number, location, record in json_lines(source, sink):
        sid = default if forced else session_of(record, default)
        if sid not in announced:
            announced.add(sid)
            sink.session(SessionMeta(sid, origin=source.name))
        sink.event(sid, record, location)
        if number % 5000 == 0:
            sink.check_cancel()
