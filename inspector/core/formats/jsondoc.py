"""Whole JSON documents: judging their shape from the first bytes, and parsing them with a place.

Detection sees only the head of a file (64 KiB), and a recording is often one line of megabytes
or a pretty-printed document whose first line is a lone ``{``. :func:`peek` walks that head
without parsing it whole, so a reader can ask "is this an object whose ``result`` is an array
of event objects?" of a 2 MB single-line export and of an indented one alike.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import orjson

from ..errors import InputError
from ..sources import Source

_WHITE = b" \t\r\n"
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STRUCTURE = re.compile(rb'["\[\]{}]')
_SCALAR_END = re.compile(rb"[,\]}\s]")
#: The longest escape sequence (``\uXXXX``); a string cut by the head loses at most this much.
_ESCAPE_BYTES = 6


class Peek:
    """One JSON value seen only through the bytes of the head that holds its start."""

    def __init__(self, buffer: bytes, start: int) -> None:
        self._buffer = buffer
        self._start = start

    @property
    def kind(self) -> str:
        """object, array, string, number, literal, cut (the head ends first) or invalid."""
        char = self._buffer[self._start:self._start + 1]
        if not char:
            return "cut"
        if char == b"{":
            return "object"
        if char == b"[":
            return "array"
        if char == b'"':
            return "string"
        if char in b"-0123456789":
            return "number"
        if char in b"tfn":
            return "literal"
        return "invalid"

    def members(self) -> Iterator[tuple[str, Peek]]:
        """An object's members whose key lies wholly inside the head, in document order."""
        if self.kind != "object":
            return
        buffer = self._buffer
        at = _skip_white(buffer, self._start + 1)
        while True:
            match = _STRING.match(buffer, at)
            if not match:
                return
            try:
                key = orjson.loads(match.group())
            except orjson.JSONDecodeError:
                return
            at = _skip_white(buffer, match.end())
            if buffer[at:at + 1] != b":":
                return
            at = _skip_white(buffer, at + 1)
            yield key, Peek(buffer, at)
            end = _skip_value(buffer, at)
            if end is None:
                return
            at = _skip_white(buffer, end)
            if buffer[at:at + 1] != b",":
                return
            at = _skip_white(buffer, at + 1)

    def keys(self) -> dict[str, Peek]:
        return dict(self.members())

    def elements(self) -> Iterator[Peek]:
        """An array's elements that start inside the head."""
        if self.kind != "array":
            return
        buffer = self._buffer
        at = _skip_white(buffer, self._start + 1)
        if buffer[at:at + 1] in (b"]", b""):
            return
        while True:
            yield Peek(buffer, at)
            end = _skip_value(buffer, at)
            if end is None:
                return
            at = _skip_white(buffer, end)
            if buffer[at:at + 1] != b",":
                return
            at = _skip_white(buffer, at + 1)

    def first(self) -> Peek | None:
        return next(self.elements(), None)

    @property
    def is_empty_array(self) -> bool:
        if self.kind != "array":
            return False
        at = _skip_white(self._buffer, self._start + 1)
        return self._buffer[at:at + 1] == b"]"

    def text(self) -> str | None:
        """A string's value; a string the head cuts short gives as much as the head holds."""
        if self.kind != "string":
            return None
        match = _STRING.match(self._buffer, self._start)
        if match:
            try:
                return orjson.loads(match.group())
            except orjson.JSONDecodeError:
                return None
        body = self._buffer[self._start + 1:]
        # Cut before a half escape or a half UTF-8 character at the very end.
        for cut in range(_ESCAPE_BYTES + 1):
            try:
                return orjson.loads(b'"' + body[:len(body) - cut] + b'"')
            except orjson.JSONDecodeError:
                continue
        return None


def peek(head: bytes) -> Peek:
    """The top-level value of a document from its head (a BOM and white space skipped)."""
    text = head.lstrip(b"\xef\xbb\xbf" + _WHITE)
    return Peek(text, 0)


def _skip_white(buffer: bytes, at: int) -> int:
    size = len(buffer)
    while at < size and buffer[at] in _WHITE:
        at += 1
    return at


def _skip_value(buffer: bytes, at: int) -> int | None:
    """The index just after the value starting at ``at``, or None if the head ends first."""
    char = buffer[at:at + 1]
    if char == b'"':
        match = _STRING.match(buffer, at)
        return match.end() if match else None
    if char in (b"{", b"["):
        depth = 0
        while True:
            match = _STRUCTURE.search(buffer, at)
            if not match:
                return None
            if match.group() == b'"':
                string = _STRING.match(buffer, match.start())
                if not string:
                    return None
                at = string.end()
                continue
            depth += 1 if match.group() in (b"{", b"[") else -1
            at = match.end()
            if depth == 0:
                return at
    match = _SCALAR_END.search(buffer, at)
    return match.start() if match else None


class KeptDocuments:
    """Documents :func:`load` parsed while this is the current :func:`kept_documents`,
    by source name and size."""

    def __init__(self) -> None:
        self._documents: dict[tuple[str, int], Any] = {}
        self._open = True

    def holds(self, source: Source) -> bool:
        return self._open and _key(source) in self._documents

    def load(self, source: Source) -> Any:
        if not self._open:
            return _parse(source)
        key = _key(source)
        if key not in self._documents:
            self._documents[key] = _parse(source)
        return self._documents[key]

    def close(self) -> None:
        """Drop what is kept, and keep nothing more."""
        self._open = False
        self._documents.clear()


_KEPT: ContextVar[KeptDocuments | None] = ContextVar("kept_documents", default=None)


@contextlib.contextmanager
def kept_documents() -> Iterator[KeptDocuments]:
    """Within, each document :func:`load` parses is kept, and a later reading of the same
    source (by name and size) is given the same parsed document instead of parsing it again.

    For work that reads its input twice (a redaction: once to import it, once to write the
    copy), which owns the objects in between: they are the same ones, so whoever changes them
    changes them for the next reading too. Parsing a large document (and freeing it) takes
    longer than anything else done with it.
    """
    kept = KeptDocuments()
    token = _KEPT.set(kept)
    try:
        yield kept
    finally:
        _KEPT.reset(token)
        kept.close()


def is_kept(source: Source) -> bool:
    """Whether :func:`load` would give ``source``'s document as an earlier reading parsed it."""
    kept = _KEPT.get()
    return kept is not None and kept.holds(source)


def load(source: Source) -> Any:
    """The whole decompressed source parsed as one JSON document, or an InputError with a place."""
    kept = _KEPT.get()
    return _parse(source) if kept is None else kept.load(source)


def _key(source: Source) -> tuple[str, int]:
    return source.name, source.stored_size


def _parse(source: Source) -> Any:
    content = source.read_all()
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        cut_short = "end of data" in exc.msg  # orjson's words for a document that stops
        hint = ("the document ends early, so the file was cut short; obtain a complete copy"
                if cut_short else "the file is damaged; obtain an undamaged copy")
        raise InputError(f"is not valid JSON ({exc.msg})", path=source.name,
                         where=f"line {exc.lineno}, column {exc.colno}", hint=hint) from exc
