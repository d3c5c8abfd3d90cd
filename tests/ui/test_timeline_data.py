"""Binning, inactivity and flagged stepping: checked against brute force on random data."""

from __future__ import annotations

import itertools
import random
from array import array

import pyarrow as pa
import pytest

from inspector.ui.timeline_data import (
    INACTIVITY_MS,
    SessionTimeline,
    column_counts,
    inactive_periods,
    int_array,
    occupied_columns,
)


def brute_counts(times, t0, t1, columns):
    step = (t1 - t0) / columns
    counts = [0] * columns
    for t in times:
        if t0 <= t < t1:
            # The same edges as the bisecting version: column i is [t0 + i*step, t0+(i+1)*step)
            i = min(int((t - t0) / step), columns - 1)
            while i > 0 and t < t0 + step * i:
                i -= 1
            while i < columns - 1 and t >= t0 + step * (i + 1):
                i += 1
            counts[i] += 1
    return counts


@pytest.mark.parametrize("seed", range(5))
def test_column_counts_match_brute_force(seed):
    rng = random.Random(seed)
    times = array("q", sorted(rng.randrange(0, 100_000) for _ in range(rng.randrange(0, 3000))))
    for _ in range(20):
        t0 = rng.uniform(-1000, 90_000)
        t1 = t0 + rng.uniform(1, 50_000)
        columns = rng.randrange(1, 700)
        counts = column_counts(times, t0, t1, columns)
        assert counts == brute_counts(times, t0, t1, columns)
        assert sum(counts) == sum(1 for t in times if t0 <= t < t1)


@pytest.mark.parametrize("seed", range(5))
def test_occupied_columns_are_the_nonzero_counts(seed):
    rng = random.Random(100 + seed)
    dense = rng.random() < 0.5
    size = rng.randrange(5000, 20000) if dense else rng.randrange(0, 300)
    times = array("q", sorted(rng.randrange(0, 1_000_000) for _ in range(size)))
    for _ in range(10):
        t0 = rng.uniform(0, 900_000)
        t1 = t0 + rng.uniform(10, 500_000)
        columns = rng.randrange(1, 1500)
        assert occupied_columns(times, t0, t1, columns) == \
            [i for i, n in enumerate(column_counts(times, t0, t1, columns)) if n]


def test_inactive_periods_are_gaps_over_ten_seconds_between_interactions():
    start, end = 1_000, 100_000
    interactions = [5_000, 6_000, 20_000, 30_001, 30_500, 45_000]
    periods = inactive_periods(pa.array(interactions, pa.int64()), start, end)
    expected = []
    points = [start, *interactions, end]
    for a, b in itertools.pairwise(points):
        if b - a > INACTIVITY_MS:
            expected.append((a, b))
    assert periods == expected == [(6_000, 20_000), (20_000, 30_001), (30_500, 45_000),
                                   (45_000, 100_000)]
    assert inactive_periods(pa.array([], pa.int64()), 0, 5_000) == []
    assert inactive_periods(pa.array([], pa.int64()), 0, 50_000) == [(0, 50_000)]


def test_int_array_copies_a_sliced_chunked_column():
    column = pa.chunked_array([pa.array([1, 2, 3], pa.int64()), pa.array([4, 5], pa.int64())])
    assert list(int_array(column.slice(1, 3))) == [2, 3, 4]
    assert list(int_array(pa.array([7, None, 9]))) == [7, 0, 9]
    assert list(int_array(pa.chunked_array([], pa.int64()))) == []


def test_next_flagged_visits_events_sharing_an_instant_by_seq():
    timeline = SessionTimeline(start=0, end=100, times=array("q"), seqs=array("q"), layers={},
                               inactive=[], flagged_times=array("q", [10, 20, 20, 20, 30]),
                               flagged_seqs=array("q", [1, 4, 5, 9, 12]))
    walk = []
    index = timeline.next_flagged(0, -1, 1)
    while index is not None:
        walk.append((timeline.flagged_times[index], timeline.flagged_seqs[index]))
        index = timeline.next_flagged(*walk[-1], 1)
    assert walk == [(10, 1), (20, 4), (20, 5), (20, 9), (30, 12)]
    back = []
    index = timeline.next_flagged(100, 2**62, -1)
    while index is not None:
        back.append((timeline.flagged_times[index], timeline.flagged_seqs[index]))
        index = timeline.next_flagged(*back[-1], -1)
    assert back == walk[::-1]
    assert timeline.next_flagged(20, 5, 1) == 3
    assert timeline.next_flagged(15, -1, -1) == 0
