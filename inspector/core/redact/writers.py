"""Writing one redacted file of the copy, in the shape and encoding of its source file.

A :class:`FileJob` receives the verdict on each event of its source file from the sink, in the
order the reader found them, then writes the copy:

- **lines** (rrweb NDJSON, PostHog blob lines): the verdicts are keyed by the line number in
  the reader's location (``file line 12``, ``file line 3 [7]`` for the seventh event of a blob
  line), and the source is read again line by line: a kept line is copied byte for byte, a
  changed one is re-serialised with every other key kept (``window_id``, extra fields), a line
  that held nothing the import accepted (damage) is left out;
- **documents** (rrweb JSON, PostHog exports, an archive's JSON session file): a document that
  is a bare array of events is the records the reader gave, in order, each replaced by its
  verdict. Any other is parsed again and its event arrays are walked in the reader's order,
  the n-th element getting the n-th verdict; each element must look like the record the sink
  saw (:func:`.codec.signature`), or the redaction stops;
- **bulk** (an uncompressed NDJSON file on disk, when nothing needs parsing but the events the
  plan names): the file is copied line by line with only those parsed, the way the import
  took it whole with DuckDB; it is used only when the file's non-blank lines are exactly the
  session's events as stored, otherwise the reader goes on line by line.

Gzip sources give gzip copies (``mtime`` 0, no file name).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ..cancel import CancelToken
from ..formats import jsondoc, posthog_export, rrweb_json
from ..records import RecordError
from ..sources import Source
from .codec import decode, signature
from .editor import DROP, KEEP, Editor
from .plan import DriftError, SessionPlan

#: Format of a JSON session file inside a replay archive (an array of events).
ARCHIVE_SESSION = "replay-archive-session"
_LINE = re.compile(r" line (\d+)(?: \[(\d+)\])?")
_CHECK_EVERY = 65536


class FileJob:
    def __init__(self, source: Source, out: Path, fmt: str, *,
                 finish_document: Callable[[Any], None] | None = None) -> None:
        self.source = source
        self.out = out
        self.fmt = fmt
        self.gzip = source.is_gzip
        self._finish_document = finish_document
        self.mode: str | None = None  # lines | document | bulk
        self._lines: dict[int, Any] = {}
        self._slots: list[tuple[Any, tuple]] = []
        #: Events written, per session.
        self.written: Counter[str] = Counter()
        #: Lines or elements that held nothing the import accepted, left out.
        self.unreadable = 0

    # -- verdicts from the sink ---------------------------------------------------------------
    def verdict(self, location: str, record: Any, verdict: Any, session_id: str) -> None:
        if verdict is not DROP:
            self.written[session_id] += 1
        if self.mode == "document":
            self._slots.append((verdict, record))
            return
        if self.mode is None:
            self.mode = "lines" if self._line_of(location) else "document"
        if self.mode == "document":
            self._slots.append((verdict, record))
            return
        found = self._line_of(location)
        if found is None:
            raise DriftError(f"the reader named an event of {self.source.name} as "
                             f"{location!r}, not by its line")
        number, index = found
        if index is None:
            self._lines[number] = verdict
        else:
            self._lines.setdefault(number, _Indexed())[index] = verdict

    def _line_of(self, location: str) -> tuple[int, int | None] | None:
        if not location.startswith(self.source.name):
            return None
        match = _LINE.fullmatch(location, len(self.source.name))
        if match is None:
            return None
        return int(match.group(1)), None if match.group(2) is None else int(match.group(2))

    # -- writing ------------------------------------------------------------------------------
    def finish(self, cancel: CancelToken) -> None:
        if self.mode == "bulk":
            return
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if self.mode == "document":
            self._write_document()
        else:
            self._write_lines(cancel)

    def _write_lines(self, cancel: CancelToken) -> None:
        with self._open() as out:
            for number, line in self.source.iter_lines():
                if number % _CHECK_EVERY == 0:
                    cancel.check()
                verdict = self._lines.get(number)
                if verdict is None:
                    if line is None or line.strip():
                        self.unreadable += 1
                    continue
                if verdict is DROP:
                    continue
                if verdict is KEEP:
                    out.write(line if line.endswith(b"\n") else line + b"\n")
                    continue
                assert line is not None  # the reader gave this line an event
                rebuilt = self._rebuild(orjson.loads(line), verdict, number)
                if rebuilt is not None:
                    out.write(orjson.dumps(rebuilt) + b"\n")

    def _rebuild(self, value: Any, verdict: Any, number: int) -> Any:
        if isinstance(verdict, _Indexed):  # the events of one blob line
            events = value.get("data") if isinstance(value, dict) else None
            if not isinstance(events, list) or len(events) != len(verdict):
                raise DriftError(f"{self.source.name} line {number} holds other events the "
                                 "second time it is read")
            kept = [event if verdict[i] is KEEP else verdict[i]
                    for i, event in enumerate(events) if verdict[i] is not DROP]
            return {**value, "data": kept} if kept else None
        if isinstance(value, list) and len(value) == 2:  # [windowId, event]
            return [value[0], verdict]
        return verdict

    def _write_document(self) -> None:
        if self.source.head(64).lstrip()[:1] == b"[":
            # The document is the event array the reader went through: the records it gave
            # (a kept one is unchanged: a change makes a new record) are the document.
            document: Any = [record if verdict is KEEP else verdict
                             for verdict, record in self._slots if verdict is not DROP]
            self._slots = []
        else:
            document = self._wrapper()
        if self._finish_document is not None:
            self._finish_document(document)
        with self._open() as out:
            out.write(orjson.dumps(document))

    def _wrapper(self) -> Any:
        """The source document parsed again, its event arrays replaced by what is kept."""
        document = jsondoc.load(self.source)
        slots = iter(self._slots)
        for events in event_arrays(self.fmt, document):
            kept = []
            for element in events:
                verdict, seen = next(slots, (None, None))
                if seen is None or signature(element) != signature(seen):
                    raise DriftError(f"the events of {self.source.name} are not in the same "
                                     "places the second time it is read")
                if verdict is KEEP:
                    kept.append(element)
                elif verdict is not DROP:
                    kept.append(verdict)
            events[:] = kept
        if next(slots, None) is not None:
            raise DriftError(f"{self.source.name} holds fewer events the second time it is read")
        return document

    def bulk(self, path: str, plan: SessionPlan, editor: Editor, cancel: CancelToken) -> bool:
        """Copy an NDJSON file of ``plan``'s session, parsing only the events that need it.

        False (nothing written) when the file's non-blank lines are not exactly the events the
        import stored for the session: then the reader goes line by line.
        """
        state = editor.checkpoint()
        # What Editor.needs_content asks for when not every event is needed (see stream.py).
        parse = set(plan.trim)
        if plan.tracked:
            parse |= plan.dom_seqs | {s for s, kind in plan.removed.items() if kind == 2}
        special = parse | plan.removed.keys()
        seq = written = 0
        self.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "rb", buffering=1 << 20) as source, self._open() as out:
                write = out.write
                for line in source:
                    if not line.strip():
                        continue
                    current, seq = seq, seq + 1
                    if current not in special:
                        write(line)
                        written += 1
                    elif current in parse:
                        written += self._bulk_special(line, current, plan, editor, write)
                    if seq % _CHECK_EVERY == 0:
                        cancel.check()
        except _NotBulk:
            seq = -1
        if seq != plan.events:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.out)
            editor.restore(state)
            return False
        self.mode = "bulk"
        self.written[plan.session_id] += written
        return True

    def _bulk_special(self, line: bytes, seq: int, plan: SessionPlan, editor: Editor,
                      write: Callable[[bytes], Any]) -> bool:
        decoded = None
        if editor.needs_content(plan, seq):
            try:
                record = orjson.loads(line)
                decoded = decode(record)
            except (orjson.JSONDecodeError, RecordError):
                raise _NotBulk() from None
        verdict = editor.decide(plan, seq, None, decoded)
        if verdict is DROP:
            return False
        write(line if verdict is KEEP else orjson.dumps(verdict) + b"\n")
        return True

    @contextlib.contextmanager
    def _open(self) -> Iterator[BinaryIO]:
        with open(self.out, "wb") as raw:
            if not self.gzip:
                yield raw
                return
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
                yield packed  # type: ignore[misc]


class _Indexed(dict):
    """The verdicts on the events of one line holding several (``{"data": [events]}``)."""


class _NotBulk(Exception):
    """A line the bulk copy cannot take (the import's line-by-line reader will explain it)."""


def event_arrays(fmt: str, document: Any) -> list[list]:
    """The event arrays of a JSON document, in the order its reader emits their events."""
    if fmt == ARCHIVE_SESSION:
        return [document] if isinstance(document, list) else []
    if fmt == rrweb_json.NAME:
        if isinstance(document, list):
            return [document]
        if not isinstance(document, dict):
            return []
        for key in rrweb_json.ARRAY_KEYS:
            if isinstance(document.get(key), list):
                return [document[key]]
        return [value for value in document.values() if isinstance(value, list)]
    if fmt == posthog_export.NAME:
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            return []
        if document.get("version") == "2023-04-28":
            return [data["snapshots"]] if isinstance(data.get("snapshots"), list) else []
        windows = data.get("snapshotsByWindowId")
        return [v for v in windows.values() if isinstance(v, list)] \
            if isinstance(windows, dict) else []
    raise ValueError(fmt)
