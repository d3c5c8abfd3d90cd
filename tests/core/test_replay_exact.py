"""The replay engine against gen_session.py's oracle: exact at every instant, in any seek order.

gen_session.py keeps its own model of the DOM while it writes a session, and records after each
structural mutation the live node count, and after each clock mutation the clock's text, at the
event's offset from t0. An entry therefore holds from its event on: the page at an instant is the
last entry whose offset is at or before it (several events can share a millisecond; the last
one's entry is the state after all of them). Instants are drawn at random and also exactly on
entries (and one millisecond before them), so the "at or before" boundary is pinned, then visited
in random order: forward and backward jumps of every size.
"""

from __future__ import annotations

import random
import subprocess
import sys
from bisect import bisect_right
from itertools import pairwise
from pathlib import Path

import orjson
import pytest

from inspector.core.importer import import_paths
from inspector.core.replay import ReplaySession
from inspector.core.store import Store

from .support import SHARED

GEN_SESSION = SHARED / "tools" / "gen_session.py"
INSTANTS = 200


class Oracle:
    def __init__(self, recording: Path) -> None:
        expect = orjson.loads(recording.with_suffix(".expect.json").read_bytes())
        self.t0 = expect["t0"]
        self.duration = expect["duration_ms"]
        self.clock_id = expect["clock_id"]
        self.initial_nodes = expect["initial_nodes"]
        self.node_offsets = [offset for offset, _ in expect["node_timeline"]]
        self.node_counts = [count for _, count in expect["node_timeline"]]
        self.clock_offsets = [offset for offset, _ in expect["clock_timeline"]]
        self.clock_texts = [text for _, text in expect["clock_timeline"]]
        self.initial_clock = _snapshot_text(recording, self.clock_id)

    def nodes(self, offset: int) -> int:
        i = bisect_right(self.node_offsets, offset) - 1
        return self.node_counts[i] if i >= 0 else self.initial_nodes

    def clock(self, offset: int) -> str:
        i = bisect_right(self.clock_offsets, offset) - 1
        return self.clock_texts[i] if i >= 0 else self.initial_clock

    def instants(self, rng: random.Random, count: int = INSTANTS) -> list[int]:
        """Offsets after the FullSnapshot (t0 + 1): a third on entries or just before them."""
        on_entries = rng.sample(self.node_offsets + self.clock_offsets, count // 3)
        offsets = [max(1, o - rng.choice((0, 1))) for o in on_entries]
        offsets += [rng.randint(1, self.duration) for _ in range(count - len(offsets))]
        rng.shuffle(offsets)
        return offsets


def _snapshot_text(recording: Path, node_id: int) -> str:
    """The text of ``node_id`` in the recording's FullSnapshot (its value before any change)."""
    events = orjson.loads(recording.read_bytes())
    stack = [next(e for e in events if e["type"] == 2)["data"]["node"]]
    while stack:
        node = stack.pop()
        if node["id"] == node_id:
            return node["textContent"]
        stack.extend(node.get("childNodes", []))
    raise AssertionError(f"node {node_id} is not in the FullSnapshot")


def _generate(folder: Path, events: int, duration_s: int, seed: int) -> Path:
    out = folder / f"synth-{events}-{duration_s}s-seed{seed}.json"
    subprocess.run([sys.executable, str(GEN_SESSION), "--events", str(events), "--duration-s",
                    str(duration_s), "--seed", str(seed), "--out", str(out)], check=True,
                   capture_output=True)
    return out


def _load(recording: Path, db: Path, **options) -> ReplaySession:
    with Store(db) as store:
        report = import_paths(store, [recording])
        assert [a.status for a in report.archives] == ["imported"]
        return ReplaySession.load(store, None, recording.stem, **options)


def _check(session: ReplaySession, oracle: Oracle, offsets: list[int]) -> None:
    wrong = []
    for offset in offsets:
        page = session.seek(oracle.t0 + offset)
        clock = page.node(oracle.clock_id)
        got = (page.nodes, clock.text if clock else None)
        want = (oracle.nodes(offset), oracle.clock(offset))
        if got != want:
            wrong.append((offset, got, want))
    assert not wrong, f"{len(wrong)} of {len(offsets)} instants differ, first: {wrong[:3]}"
    assert session.problems == {}


@pytest.fixture(scope="session")
def synth_100k(tmp_path_factory) -> tuple[ReplaySession, Oracle]:
    folder = tmp_path_factory.mktemp("synth100k")
    recording = _generate(folder, 100_000, 3600, 1)
    return _load(recording, folder / "db.duckdb"), Oracle(recording)


def test_100k_events_exact_at_random_instants_in_random_order(synth_100k) -> None:
    session, oracle = synth_100k
    offsets = oracle.instants(random.Random(100))
    _check(session, oracle, offsets)
    # Both directions were exercised, with long jumps.
    steps = [b - a for a, b in pairwise(offsets)]
    assert min(steps) < -oracle.duration // 4 and max(steps) > oracle.duration // 4


def test_100k_events_same_answers_again_after_seeking_around(synth_100k) -> None:
    session, oracle = synth_100k
    offsets = oracle.instants(random.Random(101))
    first = [(session.seek(oracle.t0 + o).nodes) for o in offsets]
    again = [(session.seek(oracle.t0 + o).nodes) for o in reversed(offsets)]
    assert first == list(reversed(again))


@pytest.mark.parametrize(("duration_s", "seed"), [(3600, 1), (600, 2), (60, 3), (20, 4)])
def test_10k_events_exact(tmp_path: Path, duration_s: int, seed: int) -> None:
    # The short sessions put several events in most milliseconds: ties are ordered as recorded.
    recording = _generate(tmp_path, 10_000, duration_s, seed)
    oracle = Oracle(recording)
    session = _load(recording, tmp_path / "db.duckdb")
    _check(session, oracle, oracle.instants(random.Random(seed)))


def test_10k_events_exact_with_a_tiny_checkpoint_budget(tmp_path: Path) -> None:
    # A budget this small forces checkpoints to be thinned again and again while loading, so
    # seeks restore far-apart checkpoints and replay long stretches: still exact.
    recording = _generate(tmp_path, 10_000, 600, 5)
    oracle = Oracle(recording)
    session = _load(recording, tmp_path / "db.duckdb", node_budget=5_000, min_spacing=1)
    assert session.checkpoint_entries <= 5_000 + session.seek(oracle.t0 + oracle.duration).nodes
    assert session.checkpoint_spacing > 1
    _check(session, oracle, oracle.instants(random.Random(5)))


def test_from_events_matches_the_store(tmp_path: Path) -> None:
    recording = _generate(tmp_path, 10_000, 600, 6)
    oracle = Oracle(recording)
    stored = _load(recording, tmp_path / "db.duckdb")
    direct = ReplaySession.from_events(orjson.loads(recording.read_bytes()))
    for offset in oracle.instants(random.Random(6), 50):
        a, b = stored.seek(oracle.t0 + offset), direct.seek(oracle.t0 + offset)
        assert (a.nodes, a.url, a.viewport, a.text()) == (b.nodes, b.url, b.viewport, b.text())
