"""Shared by the benchmark scripts: test data made on demand and child processes measured."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
GEN_SESSION = ROOT.parent / "shared" / "tools" / "gen_session.py"


def synthetic_json(events: int, seed: int = 1, duration_s: int = 3600) -> Path:
    """A gen_session.py recording (a JSON array), generated once and cached under data/."""
    DATA.mkdir(parents=True, exist_ok=True)
    out = DATA / f"synth-{events}-s{seed}.json"
    if not out.exists():
        if not GEN_SESSION.exists():
            sys.exit(f"benchmark: {GEN_SESSION} is missing (the shared tools folder)")
        subprocess.run([sys.executable, str(GEN_SESSION), "--events", str(events), "--duration-s",
                        str(duration_s), "--seed", str(seed), "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def synthetic_ndjson(events: int, seed: int = 1) -> Path:
    """The same recording as NDJSON, one event per line."""
    out = DATA / f"synth-{events}-s{seed}.ndjson"
    if not out.exists():
        source = synthetic_json(events, seed)
        tmp = out.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            for event in orjson.loads(source.read_bytes()):
                fh.write(orjson.dumps(event) + b"\n")
        os.replace(tmp, out)
    return out


def run_measured(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run a child process; return (wall seconds, peak resident MiB). Fails on non-zero exit."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark: {' '.join(argv)} failed:\n{child.stderr.read().decode()}")
    child.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)
