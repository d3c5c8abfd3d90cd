"""Readers for every recording format, one module each, chosen by content.

A reader is a module with ``NAME``, ``detect(sniff) -> bool`` and ``read(source, sink)``.
``detect`` looks only at the :class:`Sniff` of the file (its first line and head), never at the
file name alone; ``read`` streams what it finds into a :class:`~inspector.core.records.Sink`.
Adding a vendor format is one new module added to :data:`READERS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import orjson

from ..errors import InputError
from ..records import Sink
from ..sources import Source

#: How much of the first line detection reads before judging by prefix alone.
SNIFF_LINE_BYTES = 1024 * 1024
_UNPARSED = object()


@dataclass
class Sniff:
    """What detection may look at: the decompressed head and the first line."""

    head: bytes
    first_line: bytes  # up to SNIFF_LINE_BYTES, without the newline
    first_line_complete: bool
    more_lines: bool  # another non-blank line follows the first
    _value: Any = _UNPARSED

    @property
    def first_value(self) -> Any:
        """The first line parsed as JSON, or None when it is not (complete) JSON."""
        if self._value is _UNPARSED:
            self._value = None
            if self.first_line_complete:
                with contextlib.suppress(orjson.JSONDecodeError):
                    self._value = orjson.loads(self.first_line)
        return self._value

    @property
    def stripped(self) -> bytes:
        return self.head.lstrip(b"\xef\xbb\xbf \t\r\n")

    @property
    def lines_of_json(self) -> bool:
        """True when the file looks like NDJSON: a complete JSON first line and more lines."""
        return self.first_value is not None and self.more_lines


def sniff(source: Source) -> Sniff:
    with source.open() as fh:
        head = fh.read(64 * 1024)
        # The first line, skipping a BOM and blank lines.
        buffer = head
        while True:
            text = buffer.lstrip(b"\xef\xbb\xbf \t\r\n")
            newline = text.find(b"\n")
            if newline >= 0 or len(buffer) >= SNIFF_LINE_BYTES:
                break
            more = fh.read(256 * 1024)
            if not more:
                break
            buffer += more
        text = buffer.lstrip(b"\xef\xbb\xbf \t\r\n")
        newline = text.find(b"\n")
        if newline < 0:
            complete = len(buffer) < SNIFF_LINE_BYTES and not fh.read(1)
            return Sniff(head, text[:SNIFF_LINE_BYTES].rstrip(b"\r"), complete, False)
        first = text[:newline].rstrip(b"\r")
        rest = text[newline + 1:]
        while not rest.strip():
            more = fh.read(64 * 1024)
            if not more:
                return Sniff(head, first, True, False)
            rest += more
        return Sniff(head, first, True, True)


def json_lines(source: Source, sink: Sink) -> Iterator[tuple[int, str, Any]]:
    """Each non-blank line of an NDJSON source, parsed: ``(number, location, value)``.

    Over-long lines and lines that are not JSON are reported to ``sink`` and skipped, so one
    damaged line never stops the rest.
    """
    for number, line in source.iter_lines():
        location = f"{source.name} line {number}"
        if line is None:
            sink.problem(location, f"line longer than {source.limits.max_line_bytes:,} bytes "
                                   "skipped")
            continue
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            sink.problem(location, f"invalid JSON ({exc.msg})")
            continue
        yield number, location, value


def _readers() -> list[ModuleType]:
    from . import posthog_blob, posthog_export, posthog_meta, rrweb_json, rrweb_ndjson

    # Most specific first: a PostHog export is also "a JSON object", blob lines are also NDJSON.
    return [posthog_export, posthog_meta, rrweb_json, posthog_blob, rrweb_ndjson]


def detect(source: Source) -> tuple[ModuleType, Sniff]:
    """The reader for this source, or an InputError saying why none fits."""
    if source.stored_size == 0:
        raise InputError("is empty", path=source.name, hint="nothing to import")
    found = sniff(source)
    if not found.stripped:
        raise InputError("contains only white space", path=source.name, hint="nothing to import")
    for reader in _readers():
        if reader.detect(found):
            return reader, found
    first = found.stripped[:1]
    if first not in (b"{", b"["):
        what = "binary data" if _looks_binary(found.head) else "text that is not JSON"
        raise InputError(f"is {what}, not a recording", path=source.name,
                         hint="expected rrweb events as JSON or NDJSON, a PostHog export, or a "
                              "replay archive")
    raise _unknown_json(source)


def _unknown_json(source: Source) -> InputError:
    """Why a file that starts like JSON fits no reader: broken JSON (where), one lone event, or
    JSON of another shape."""
    hint = ("expected rrweb events, {\"events\"|\"result\": [...]}, a PostHog export or a "
            "replay archive")
    try:
        document = orjson.loads(source.read_all())
    except orjson.JSONDecodeError as exc:
        return InputError(f"is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg})", path=source.name,
                          hint="it may be a template or a truncated copy; " + hint)
    except InputError as exc:  # too large to parse whole
        return InputError("is JSON but not a recording format this tool knows", path=exc.path,
                          hint=hint)
    if isinstance(document, dict) and "type" in document and "data" in document:
        return InputError("is a single rrweb event, not a recording", path=source.name,
                          hint="a recording is a list of events: wrap it in [ ... ]")
    return InputError("is JSON but not a recording format this tool knows", path=source.name,
                      hint=hint)


def _looks_binary(head: bytes) -> bool:
    sample = head[:4096]
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(sample) - 4  # a cut multi-byte character at the end is fine
    return False
