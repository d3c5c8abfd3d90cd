"""A seekable session: the page as it stood at any instant, answered from checkpoints.

:class:`ReplaySession` reads a session's page-changing events once (:mod:`.loader`, :mod:`.ops`),
orders them as rrweb's Replayer does (by timestamp, then recorded order), applies them all once to
count problems and lay down checkpoints, and then answers :meth:`ReplaySession.seek` in any order
— forward or backward — with one checkpoint copy plus a bounded number of operations.

The instant semantics: ``seek(ms)`` is the page after every event whose timestamp is at or
before ``ms``. Sessions without timestamps are sought by event position instead
(:meth:`ReplaySession.seek_seq`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson

from ..errors import UsageError
from ..gcpause import no_cycle_collection
from . import dom, ops
from .checkpoints import DEFAULT_NODE_BUDGET, MIN_SPACING, Checkpoints
from .dom import State
from .page import PageState
from .privacy import TypedValues

DUPLICATE_EVENT = "duplicate_event"
NO_FULL_SNAPSHOT = "no_full_snapshot"
NO_TIMESTAMP = "event_without_timestamp"


class RawEvent(NamedTuple):
    """One stored event: position in the session's source order, time, type and data."""

    seq: int
    timestamp: int | None
    type: int
    source: int | None
    data: Any  # JSON text (from the store) or the parsed value


class ReplaySession:
    """A session ready to seek. Build with :meth:`load` or :meth:`from_events`.

    One seek at a time: a session continues from its last answer, so threads need a session
    each (or a lock). The :class:`PageState` values it returns may be shared freely.
    """

    def __init__(self, events: Iterable[RawEvent], *, session_id: str | None = None,
                 archive_id: int | None = None, start: int | None = None,
                 end: int | None = None, node_budget: int = DEFAULT_NODE_BUDGET,
                 min_spacing: int = MIN_SPACING) -> None:
        self.session_id = session_id
        self.archive_id = archive_id
        self._problem_log: list[tuple[int, str]] = []
        self._times: list[int] = []
        self._seqs: list[int] = []
        self._ops: list[tuple] = []
        #: Every value typed in the session, for finding its echoes when masking.
        self.typed = TypedValues()
        with no_cycle_collection():  # millions of small tuples, no cycles
            work = self._compile(events)
            self._checkpoints = Checkpoints(node_budget, min_spacing)
            self._build(work)
        #: True when the events carry timestamps (else only :meth:`seek_seq` works).
        self.timed = bool(self._times)
        #: First and last instants of the session (all its events, not only page changes).
        self.start = start if start is not None else (self._times[0] if self._times else None)
        self.end = end if end is not None else (self._times[-1] if self._times else None)
        positions: dict[str, list[int]] = {}
        for position, kind in sorted(self._problem_log):
            positions.setdefault(kind, []).append(position)
        self._problem_positions = positions
        #: Damage found in the whole session: kind -> count.
        self.problems: dict[str, int] = {kind: len(p) for kind, p in sorted(positions.items())}
        self._current: PageState | None = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def load(cls, con: Any, archive_id: int | None, session_id: str, **options: Any
             ) -> ReplaySession:
        """The session ``session_id`` from a database (a DuckDB connection or a Store)."""
        from .loader import load_events

        loaded = load_events(con, archive_id, session_id)
        return cls(loaded.events, session_id=session_id, archive_id=loaded.archive_id,
                   start=loaded.first_ts, end=loaded.last_ts, **options)

    @classmethod
    def from_events(cls, events: Sequence[dict], **options: Any) -> ReplaySession:
        """A session from rrweb event dicts (``type``, ``data``, ``timestamp``) in source order."""
        raw = []
        for seq, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            kind = event.get("type")
            data = event.get("data")
            source = data.get("source") if isinstance(data, dict) else None
            timestamp = event.get("timestamp")
            if not isinstance(timestamp, int) or isinstance(timestamp, bool):
                timestamp = round(timestamp) if isinstance(timestamp, float) else None
            raw.append(RawEvent(seq, timestamp, kind if isinstance(kind, int) else -1,
                                source if isinstance(source, int) else None, data))
        times = [e.timestamp for e in raw if e.timestamp is not None]
        return cls(raw, start=min(times) if times else None, end=max(times) if times else None,
                   **options)

    def _compile(self, events: Iterable[RawEvent]) -> list[int]:
        page_events = sorted((e for e in events if ops.changes_page(e.type, e.source)),
                             key=lambda e: e.seq)
        # An event without a timestamp keeps its place: it takes the time of the event before
        # it in source order (the first timed one, if it leads).
        first_time = next((e.timestamp for e in page_events if e.timestamp is not None), None)
        timed = []
        last_time = first_time
        untimed_seqs = []
        for event in page_events:
            if event.timestamp is None:
                untimed_seqs.append(event.seq)
                timed.append((last_time, event))
            else:
                last_time = event.timestamp
                timed.append((event.timestamp, event))
        if first_time is not None:
            timed.sort(key=lambda pair: (pair[0], pair[1].seq))
        work: list[int] = []
        untimed = set(untimed_seqs) if first_time is not None else set()
        # Twins of events already seen at the same instant, to recognise re-sent batches.
        group_time: object = object()
        group: set[tuple] = set()
        previous: tuple | None = None
        for time, event in timed:
            data = event.data
            text = data if isinstance(data, str) else orjson.dumps(data)
            position = len(self._ops)
            if time != group_time:
                group_time, group = time, set()
            key = (event.type, text)
            if key in group and (key == previous or _structural(event.type, text)):
                # Counted from the instant of the twin it repeats (after the last kept event).
                self._problem_log.append((position - 1, DUPLICATE_EVENT))
                continue
            group.add(key)
            previous = key
            if isinstance(data, str):
                try:
                    data = orjson.loads(data)
                except orjson.JSONDecodeError:
                    data = None
            compiled = ops.compile_event(event.type, data)
            if compiled.op is None:
                position -= 1  # nothing kept: its problems count from the event before
            self._problem_log.extend((position, kind) for kind in compiled.problems)
            if event.seq in untimed:
                self._problem_log.append((position, NO_TIMESTAMP))
            if compiled.op is None:
                continue
            for value in ops.typed_values(compiled.op):
                self.typed.add(value)
            if time is not None:
                self._times.append(time)
            self._seqs.append(event.seq)
            self._ops.append(compiled.op)
            work.append(compiled.work)
        return work

    def _build(self, work: list[int]) -> None:
        """Apply every operation once: count problems, lay down checkpoints."""
        state = State()
        checkpoints = self._checkpoints
        checkpoints.add(-1, state.copy(), pinned=True)
        log = self._problem_log
        position = 0

        def report(kind: str) -> None:
            log.append((position, kind))

        snapshots = 0
        for position, op in enumerate(self._ops):
            apply(state, op, report)
            if op[0] == ops.SNAPSHOT:
                snapshots += 1
                # The snapshot's own dict is the checkpoint: nothing is copied or kept twice.
                checkpoints.add(position, State(op[1], {}, None, op[2], state.url, state.width,
                                                state.height), pinned=True)
            elif checkpoints.due(work[position]):
                checkpoints.add(position, state.copy())
        if not snapshots:
            log.append((-1, NO_FULL_SNAPSHOT))

    # -- seeking ---------------------------------------------------------------------------
    def seek(self, ms: int) -> PageState:
        """The page after every event with a timestamp at or before ``ms`` (epoch ms)."""
        if not self._times and self._ops:
            raise UsageError(f"session {self.session_id or ''} has no timestamps, so it cannot "
                             "be sought by time", hint="seek by event position (--seq N)")
        return self._state_at(bisect_right(self._times, ms) - 1, at=ms)

    def seek_seq(self, seq: int) -> PageState:
        """The page after every event up to source position ``seq`` (untimed sessions only)."""
        if self._times:
            raise UsageError(f"session {self.session_id or ''} has timestamps; seek by time",
                             hint="use --at MS")
        return self._state_at(bisect_right(self._seqs, seq) - 1, at=None, seq=seq)

    def _state_at(self, position: int, *, at: int | None, seq: int | None = None) -> PageState:
        current = self._current
        if current is not None and current.position == position:
            base_position, base = position, current._state
        else:
            base_position, base = self._checkpoints.at_or_before(position)
            if current is not None and base_position < current.position <= position:
                base_position, base = current.position, current._state
        state = base
        if base_position != position:
            # Checkpoints and handed-out states are never changed: work on a copy.
            state = base.copy()
            ops_list = self._ops
            for i in range(base_position + 1, position + 1):
                apply(state, ops_list[i], None)
        counts = {}
        for kind, positions in self._problem_positions.items():
            n = bisect_right(positions, position)
            if n:
                counts[kind] = n
        page = PageState(state, position=position, at=at, seq=seq, problems=counts,
                         typed=self.typed)
        self._current = page
        return page

    # -- facts for callers -------------------------------------------------------------------
    @property
    def operations(self) -> int:
        """Page-changing events kept (mouse moves, scrolls... are not read at all)."""
        return len(self._ops)

    @property
    def checkpoint_count(self) -> int:
        return len(self._checkpoints)

    @property
    def checkpoint_spacing(self) -> int:
        """Node changes between two checkpoints (the most a seek applies after a restore)."""
        return self._checkpoints.spacing

    @property
    def checkpoint_entries(self) -> int:
        return self._checkpoints.entries

    def checkpoint_bytes(self) -> int:
        """Memory the checkpoints keep alive (walks them: for reports, not for hot paths)."""
        return self._checkpoints.memory_bytes()

    def event_times(self) -> list[int]:
        """Timestamps of the page-changing events, in replay order."""
        return list(self._times)

    def event_seqs(self) -> list[int]:
        return list(self._seqs)


def _structural(event_type: int, text: bytes | str) -> bool:
    """Whether applying the event twice differs from once (it builds or removes nodes)."""
    if event_type == ops.FULL_SNAPSHOT_TYPE:
        return True
    if isinstance(text, bytes):
        return b'"adds":[{' in text or b'"removes":[{' in text
    return '"adds":[{' in text or '"removes":[{' in text


def apply(state: State, op: tuple, report: dom.Report) -> None:
    """Apply one compiled operation to ``state``."""
    code = op[0]
    if code == ops.MUTATION:
        dom.apply_mutation(state, op[1], op[2], op[3], op[4], report)
    elif code == ops.INPUT:
        dom.apply_input(state, op[1], op[2], op[3], report)
    elif code == ops.SNAPSHOT:
        dom.apply_snapshot(state, op[1], op[2])
    elif code == ops.META:
        state.url = op[1]
        if op[2] is not None and op[3] is not None:
            state.width, state.height = op[2], op[3]
    elif code == ops.VIEWPORT and op[1] is not None and op[2] is not None:
        state.width, state.height = op[1], op[2]
