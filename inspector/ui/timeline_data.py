"""A session laid out in time for the timeline and the player: sorted instants and how to bin them.

No Qt here: a worker builds a :class:`SessionTimeline` from Arrow columns, and the timeline
widget asks :func:`column_counts` and :func:`occupied_columns` for the pixel columns it paints.
Both cost O(columns x log events) or O(visible events), never O(events), so a million events
paint as fast as a thousand. Instants are kept in ``array('q')`` (epoch ms, sorted), which
``bisect`` searches in C.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

#: rrweb-player's threshold: a gap over this long between two user interactions is inactive.
INACTIVITY_MS = 10_000

# Marker kinds, as the loader's SQL numbers them (0: any other event).
OTHER, CLICK, INPUT, NAVIGATION, ERROR, CUSTOM = range(6)
MARKER_KINDS = (CLICK, INPUT, NAVIGATION, ERROR, CUSTOM)
KIND_NAMES = {CLICK: "clicks", INPUT: "input", NAVIGATION: "navigation",
              ERROR: "console errors", CUSTOM: "custom events"}


@dataclass(frozen=True)
class OptOut:
    """An opt-out in force during the session: shaded from ``start`` to ``end``.

    ``instant`` is when the person opted out (it may lie before the session); ``end`` is the
    opt-in that ended it, or None when it never ended.
    """

    instant: int
    end: int | None
    source: str | None
    scope: str | None
    key: str | None


@dataclass
class SessionTimeline:
    """Every timed event of one session, by kind, in (timestamp, seq) order."""

    start: int
    end: int
    times: array  # every timed event
    seqs: array  # their seqs, aligned with ``times``
    layers: dict[int, array]  # marker kind -> instants
    inactive: list[tuple[int, int]]
    flagged_times: array = field(default_factory=lambda: array("q"))
    flagged_seqs: array = field(default_factory=lambda: array("q"))
    opt_outs: list[OptOut] = field(default_factory=list)
    untimed: int = 0  # events without a timestamp: not on the timeline
    first_page: int | None = None  # the first FullSnapshot: where replay starts by default

    @property
    def duration(self) -> int:
        return self.end - self.start

    def event_index_at(self, ms: int) -> int:
        """Index of the last event at or before ``ms`` (-1 before the first)."""
        return bisect_right(self.times, ms) - 1

    def flagged_seq_set(self) -> frozenset[int]:
        return frozenset(self.flagged_seqs)

    def next_flagged(self, ms: int, seq: int, step: int) -> int | None:
        """Index into the flagged arrays of the flagged event after (``step`` 1) or before
        (``step`` -1) the event (``ms``, ``seq``), or None when there is none."""
        times, seqs = self.flagged_times, self.flagged_seqs
        lo = bisect_left(times, ms)
        hi = bisect_right(times, ms)
        if step > 0:
            for index in range(lo, hi):  # events at the same instant, by seq
                if seqs[index] > seq:
                    return index
            return hi if hi < len(times) else None
        for index in range(hi - 1, lo - 1, -1):
            if seqs[index] < seq:
                return index
        return lo - 1 if lo > 0 else None


def int_array(values: pa.Array | pa.ChunkedArray) -> array:
    """An Arrow integer column (no nulls) as ``array('q')``, copied in one block."""
    return _array(values, pa.int64(), "q")


def float_array(values: pa.Array | pa.ChunkedArray) -> array:
    return _array(values, pa.float64(), "d")


def _array(values: pa.Array | pa.ChunkedArray, kind: pa.DataType, code: str) -> array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], kind)
    values = values.cast(kind)
    if values.null_count:
        values = values.fill_null(0)
    out = array(code)
    if len(values):
        width = out.itemsize
        data = memoryview(values.buffers()[1])
        out.frombytes(data[values.offset * width:(values.offset + len(values)) * width])
    return out


def inactive_periods(interactions: pa.Array, start: int, end: int,
                     threshold: int = INACTIVITY_MS) -> list[tuple[int, int]]:
    """Gaps longer than ``threshold`` between user interactions, as rrweb-player finds them:
    from the session's start to the first interaction, between interactions, and (unlike
    rrweb-player, which stops playing there) from the last one to the end."""
    if isinstance(interactions, pa.ChunkedArray):
        interactions = interactions.combine_chunks()
    points = pa.concat_arrays([pa.array([start], pa.int64()), interactions.cast(pa.int64()),
                               pa.array([end], pa.int64())])
    before, after = points.slice(0, len(points) - 1), points.slice(1)
    gaps = pc.subtract(after, before)
    where = pc.indices_nonzero(pc.greater(gaps, threshold))
    return list(zip(pc.take(before, where).to_pylist(), pc.take(after, where).to_pylist(),
                    strict=True))


def column_counts(times: Sequence[int], t0: float, t1: float, columns: int) -> list[int]:
    """How many of the sorted ``times`` fall in each of ``columns`` equal slices of
    ``[t0, t1)``: one bisect per column edge."""
    if columns <= 0 or t1 <= t0:
        return [0] * max(columns, 0)
    step = (t1 - t0) / columns
    edges = [bisect_left(times, t0 + step * i) for i in range(columns)]
    edges.append(bisect_left(times, t1))
    return [edges[i + 1] - edges[i] for i in range(columns)]


def occupied_columns(times: Sequence[int], t0: float, t1: float, columns: int) -> list[int]:
    """The columns (as in :func:`column_counts`) holding at least one of ``times``: walks the
    visible events when they are few, bisects column edges when they are many."""
    if columns <= 0 or t1 <= t0:
        return []
    lo, hi = bisect_left(times, t0), bisect_left(times, t1)
    if hi - lo > 4 * columns:
        counts = column_counts(times, t0, t1, columns)
        return [i for i, n in enumerate(counts) if n]
    scale = columns / (t1 - t0)
    found = sorted({int((times[i] - t0) * scale) for i in range(lo, hi)})
    return [c for c in found if 0 <= c < columns]
