"""Seek speed: random seeks in one-hour gen_session.py sessions, against rrweb's Replayer.

Each session (seed 1, 3600 s) is imported into a temporary DuckDB database, loaded once by
``ReplaySession.load``, then sought at random instants in random order inside this one process;
each seek is timed alone (``perf_counter`` around ``session.seek``). Every answer is also checked
against the generator's oracle (node count and clock text), so a fast wrong answer cannot pass.

The rrweb figures are the Replayer measured in headless Chromium on this machine (issue 7);
they are quoted, not re-measured here. Targets (issue 7): p95 <= 50 ms at 100k events,
p95 <= 100 ms at 1M events; checkpoint memory bounded.

    python benchmarks/seek_speed.py [--events 100000 1000000] [--instants 50] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from bisect import bisect_right
from pathlib import Path

import orjson
from _common import median, synthetic_json

from inspector.core.importer import import_paths
from inspector.core.replay import ReplaySession
from inspector.core.replay.checkpoints import DEFAULT_NODE_BUDGET
from inspector.core.store import Store

# rrweb Replayer in headless Chromium, random seeks in the same sessions: (median, p95) in ms.
RRWEB = {100_000: (236.0, 397.0), 1_000_000: (1437.0, 2628.0)}
TARGET_P95 = {100_000: 50.0, 1_000_000: 100.0}


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def oracle(recording: Path):
    """(nodes(offset), clock(offset), clock id, t0) from gen_session's .expect.json, if any."""
    real = recording.resolve()
    expect_path = real.with_name(real.name.removesuffix(".json") + ".expect.json")
    if not expect_path.exists():
        return None
    expect = orjson.loads(expect_path.read_bytes())
    node_offsets = [o for o, _ in expect["node_timeline"]]
    clock_offsets = [o for o, _ in expect["clock_timeline"]]

    def nodes(offset: int) -> int:
        i = bisect_right(node_offsets, offset) - 1
        return expect["node_timeline"][i][1] if i >= 0 else expect["initial_nodes"]

    def clock(offset: int) -> str | None:
        i = bisect_right(clock_offsets, offset) - 1
        return expect["clock_timeline"][i][1] if i >= 0 else None

    return nodes, clock, expect["clock_id"], expect["t0"]


def run(events: int, instants: int, seed: int) -> dict:
    recording = synthetic_json(events, seed=1)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        started = time.perf_counter()
        report = import_paths(store, [recording])
        import_s = time.perf_counter() - started
        if report.failed:
            sys.exit(f"benchmark: import failed: {report.failed[0].error}")
        session_id = store.sessions().column("session_id")[0].as_py()
        started = time.perf_counter()
        session = ReplaySession.load(store, None, session_id)
        load_s = time.perf_counter() - started
    rng = random.Random(seed)
    points = [rng.randint(session.start, session.end) for _ in range(instants)]
    check = oracle(recording)
    seeks, wrong = [], 0
    for at in points:
        started = time.perf_counter()
        page = session.seek(at)
        seeks.append((time.perf_counter() - started) * 1000)
        if check:
            nodes, clock, clock_id, t0 = check
            want_clock = clock(at - t0)
            got_clock = page.node(clock_id).text
            if page.nodes != nodes(at - t0) or (want_clock is not None and
                                                got_clock != want_clock):
                wrong += 1
    return {"events": events, "ops": session.operations, "import_s": import_s,
            "load_s": load_s, "median": median(seeks), "p95": p95(seeks), "max": max(seeks),
            "checked": check is not None, "wrong": wrong,
            "checkpoints": session.checkpoint_count, "spacing": session.checkpoint_spacing,
            "entries": session.checkpoint_entries, "bytes": session.checkpoint_bytes(),
            "nodes": session.seek(session.end).nodes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--instants", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7, help="seed of the random instants")
    args = parser.parse_args()
    met = True
    for events in args.events:
        r = run(events, args.instants, args.seed)
        print(f"\n== {events:,} events, one hour (gen_session seed 1): {r['ops']:,} page-changing "
              f"events; import {r['import_s']:.1f} s, load {r['load_s']:.1f} s")
        print(f"{args.instants} random seeks in random order, one process:")
        ref = RRWEB.get(events)
        print(f"  ours : median {r['median']:8.2f} ms   p95 {r['p95']:8.2f} ms   "
              f"max {r['max']:8.2f} ms")
        if ref:
            print(f"  rrweb: median {ref[0]:8.0f} ms   p95 {ref[1]:8.0f} ms   (Replayer, "
                  "headless Chromium)")
            print(f"  p95 {ref[1] / r['p95']:.0f}x faster than rrweb's")
        if r["checked"]:
            print(f"  exactness: {args.instants - r['wrong']}/{args.instants} instants equal "
                  "the generator's oracle (node count and clock text)")
        else:
            print("  exactness: no .expect.json beside the recording; not checked")
        print(f"  checkpoints: {r['checkpoints']} spaced every {r['spacing']:,} node changes, "
              f"{r['entries']:,} node entries (bound {DEFAULT_NODE_BUDGET:,}), "
              f"{r['bytes'] / 2**20:.1f} MiB ({r['bytes'] / max(1, r['entries']):.0f} B/entry); "
              f"live page {r['nodes']:,} nodes")
        target = TARGET_P95.get(events)
        if target is not None:
            ok = r["p95"] <= target and r["wrong"] == 0
            met &= ok
            print(f"  target p95 <= {target:.0f} ms and exact: {'met' if ok else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
