"""Audit speed: ``run_audit`` on 10M events against a plain full scan of the events table.

The database is generated directly in DuckDB SQL (``range``): 10,000 people, each with an
anonymous id linked to a user id (identities), two sessions of 500 events on their device, the
first under the anonymous id, the second under the user id. Events are a realistic mix (mouse
moves with per-position time offsets, mutations, scrolls, clicks, typed input, console) with
real JSON data; byte_length is the data's length. 1% of the people opt out by a ledger record
in the middle of their first session (a fifth of them opt back in during the second), 1% have
a marketing opt-out that governs nothing, and a few opt out with an in-band marker.

Everything is timed in the same process, alternating, on the same file (only ratios mean
anything on a shared machine). Three full scans of the events table are the references:

- ``count(*), sum(byte_length)``, the issue's example (two integer columns);
- the columns the audit reads for every event (archive_id, session_id, seq, timestamp, type,
  source), without ``data``;
- the same plus ``data``: a scan touching every column the audit touches. The audit must read
  the data of every Custom event, wherever it is (a consent marker may be any of them), and
  ``data`` is stored zstd-compressed, so that alone costs about one decompression of the
  column.

The audit is timed whole (``run_audit``: flagging, findings, personal-data scan of the flagged
content) and up to the end of flagging (from its progress reports). Target (issue 3): at most
5x the scan touching the same columns.

    python benchmarks/audit_speed.py [--events N] [--people N] [--repeat K] [--db FILE]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, median

sys.path.insert(0, str(ROOT))

from inspector.core.audit import run_audit
from inspector.core.store import Store

T0 = 1_700_000_000_000
EVENT_MS = 1000  # one event a second: a session of 500 events lasts 500 s

SCANS = {
    "count(*), sum(byte_length)": "SELECT count(*), sum(byte_length) FROM events",
    "scan of the audit's columns without data": (
        "SELECT count(*), max(archive_id), max(session_id), sum(seq), sum(timestamp), "
        "sum(type), sum(source) FROM events"),
    "scan of the audit's columns": (
        "SELECT count(*), max(archive_id), max(session_id), sum(seq), sum(timestamp), "
        "sum(type), sum(source), sum(length(data)) FROM events"),
}
TARGET_REFERENCE = "scan of the audit's columns"
TARGET = 5.0


def generate(store: Store, events: int, people: int) -> None:
    con = store.con
    sessions = people * 2
    per_session = events // sessions
    params = {"people": people, "sessions": sessions, "per": per_session, "t0": T0,
              "ms": EVENT_MS}
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO archives VALUES (1, 'benchmark', 'benchmark', 'benchmark', NULL, "
                "now(), NULL, NULL, $sessions, $sessions * $per, 0)",
                {"sessions": sessions, "per": per_session})
    # Session s belongs to person s // 2; its id is random-looking, as imported ids are.
    con.execute("""
        INSERT INTO sessions
        SELECT 1, md5('session' || s), CASE WHEN s % 2 = 0 THEN 'anon-' || (s // 2)
                                            ELSE 'u-' || (s // 2) END,
               'dev-' || (s // 2), 'benchmark', 1, $t0 + s * $per * $ms,
               $t0 + (s * $per + $per - 1) * $ms, $per, 'https://app.example/'
        FROM range($sessions) t(s)""", {k: params[k] for k in ("sessions", "per", "t0", "ms")})
    con.execute("""
        INSERT INTO events
        SELECT 1, md5('session' || s), k, ts, type, source, NULL, data, strlen(data)
        FROM (
            SELECT i // $per AS s, i % $per AS k, $t0 + i * $ms AS ts, i % 100 AS r,
                   CASE WHEN i % $per = 0 THEN 4 WHEN i % $per = 1 THEN 2
                        WHEN i % 100 = 99 THEN 6 WHEN i % 500 = 37 THEN 5 ELSE 3 END AS type,
                   CASE WHEN type <> 3 THEN NULL WHEN r < 50 THEN 1 WHEN r < 75 THEN 0
                        WHEN r < 85 THEN 3 WHEN r < 94 THEN 2 ELSE 5 END AS source,
                   CASE
                     WHEN type = 4 THEN '{"href":"https://app.example/orders/' || i
                                        || '?tab=open","width":1440,"height":900}'
                     WHEN type = 2 THEN '{"node":{"type":0,"childNodes":[{"type":2,"tagName":'
                        || '"html","attributes":{},"childNodes":[{"type":2,"tagName":"body",'
                        || '"attributes":{},"childNodes":[{"type":2,"tagName":"input",'
                        || '"attributes":{"type":"email","name":"email"},"childNodes":[],'
                        || '"id":4},{"type":2,"tagName":"input","attributes":{"type":'
                        || '"password","name":"password"},"childNodes":[],"id":5},{"type":3,'
                        || '"textContent":"Orders of customer ' || (i // $per) || '","id":6}],'
                        || '"id":3}],"id":2}],"id":1},"initialOffset":{"left":0,"top":0}}'
                     WHEN type = 6 THEN '{"plugin":"rrweb/console@1","payload":{"level":"log",'
                        || '"payload":["\\"loaded order ' || i || '\\""],"trace":[]}}'
                     WHEN type = 5 THEN '{"tag":"$pageview","payload":{"href":'
                        || '"https://app.example/orders/' || i || '"}}'
                     WHEN source = 1 THEN '{"source":1,"positions":[{"x":' || (i % 1440)
                        || ',"y":' || (i % 900) || ',"id":6,"timeOffset":-520},{"x":'
                        || (i % 1440 + 3) || ',"y":' || (i % 900 + 2)
                        || ',"id":6,"timeOffset":-260},{"x":' || (i % 1440 + 5) || ',"y":'
                        || (i % 900 + 4) || ',"id":6,"timeOffset":-10}]}'
                     WHEN source = 0 THEN '{"source":0,"texts":[{"id":6,"value":"Order '
                        || i || ' shipped"}],"attributes":[{"id":3,"attributes":{"class":'
                        || '"row-' || (i % 7) || '"}}],"removes":[],"adds":[]}'
                     WHEN source = 3 THEN '{"source":3,"id":1,"x":0,"y":' || (i % 4000) || '}'
                     WHEN source = 2 THEN '{"source":2,"type":2,"id":6,"x":' || (i % 1440)
                        || ',"y":' || (i % 900) || '}'
                     WHEN i % 3 = 0 THEN '{"source":5,"text":"user' || (i // $per)
                        || '@example.com","isChecked":false,"id":4}'
                     ELSE '{"source":5,"text":"' || repeat('*', 1 + i % 9)
                        || '","isChecked":false,"id":5}'
                   END AS data
            FROM range($sessions * $per) t(i)
        )""", {k: params[k] for k in ("sessions", "per", "t0", "ms")})
    con.execute("INSERT INTO identities SELECT 1, 'u-' || p, 'anon-' || p, 'benchmark', NULL "
                "FROM range($people) t(p)", {"people": people})
    # 1% opt out in the middle of their first session; a fifth of them opt back in half way
    # through the second; 1% have a marketing opt-out, which governs nothing.
    con.execute("""
        INSERT INTO consent
        SELECT 1, 'u-' || p, 'opt_out', $t0 + (2 * p * $per + $per // 2) * $ms, 'replay',
               'privacy_center', NULL FROM range($people) t(p) WHERE p % 100 = 7
        UNION ALL
        SELECT 1, 'u-' || p, 'opt_in', $t0 + ((2 * p + 1) * $per + $per // 2) * $ms, 'replay',
               'privacy_center', NULL FROM range($people) t(p) WHERE p % 500 = 7
        UNION ALL
        SELECT 1, 'anon-' || p, 'opt_out', $t0 + 2 * p * $per * $ms, 'marketing', 'email',
               NULL FROM range($people) t(p) WHERE p % 100 = 42""",
                {k: params[k] for k in ("people", "per", "t0", "ms")})
    con.execute("COMMIT")
    con.execute("CHECKPOINT")


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep the generated database here (reused)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "audit-bench.duckdb"
        fresh = not db.exists()
        with Store(db) as store:
            store.con.execute("SET memory_limit = '4GB'")
            if fresh:
                seconds = timed(lambda: generate(store, args.events, args.people))
                print(f"generated {db.name}: {args.events:,} events, {args.people:,} people "
                      f"in {seconds:.1f} s")
            (events,), = store.con.execute("SELECT count(*) FROM events").fetchall()
            print(f"database: {events:,} events, {db.stat().st_size / 1e6:,.0f} MB on disk")
            times: dict[str, list[float]] = {name: [] for name in SCANS}
            audit, flagging = [], []
            result = None
            for round_ in range(args.repeat):
                for name, sql in SCANS.items():
                    times[name].append(timed(lambda sql=sql: store.con.execute(sql).fetchall()))
                marks: list[tuple[str, float]] = []
                start = time.perf_counter()
                result = run_audit(store, progress=lambda p, marks=marks: marks.append(
                    (p.stage, time.perf_counter())))
                audit.append(time.perf_counter() - start)
                flagging.append(max(t for stage, t in marks if stage == "flagging") - start)
                print(f"round {round_ + 1}: audit {audit[-1] * 1000:,.0f} ms (flagging "
                      f"{flagging[-1] * 1000:,.0f} ms); " + "; ".join(
                          f"{name} {values[-1] * 1000:,.0f} ms" for name, values in times.items()))
    assert result is not None
    print(f"audit: {result.flagged_events:,} flagged events in {result.flagged_sessions:,} "
          f"sessions, {result.people_opted_out:,} people opted out, "
          f"{sum(sum(f.pii.values()) for f in result.findings):,} pieces of personal data")
    print(f"median: audit {median(audit) * 1000:,.0f} ms, flagging "
          f"{median(flagging) * 1000:,.0f} ms")
    for name, values in times.items():
        print(f"  {name}: {median(values) * 1000:,.0f} ms; audit / scan "
              f"{median(audit) / median(values):.1f}, flagging / scan "
              f"{median(flagging) / median(values):.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (generation, scans, audits): {peak:,.0f} MiB")
    ratio = median(audit) / median(times[TARGET_REFERENCE])
    print(f"ratio to the {TARGET_REFERENCE}: {ratio:.1f} (target <= {TARGET:g}): "
          f"{'met' if ratio <= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
