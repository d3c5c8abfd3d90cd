"""Import speed: ``inspector import`` of ~1M rrweb events as NDJSON against DuckDB's own reader.

Both run as separate processes on the same file, alternating, in the same run (shared machines
are noisy, so only the ratio is meaningful). The reference is DuckDB's ``read_ndjson`` into a
table with explicit columns, the fastest way DuckDB itself has to land that file. Targets
(issue 2): ratio <= 1.3, peak memory of the import under 1 GB.

    python benchmarks/import_speed.py [--events N] [--repeat K]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import median, run_measured, synthetic_ndjson

REFERENCE = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE events AS SELECT * FROM read_ndjson(?, columns={type: 'INTEGER', "
            "timestamp: 'BIGINT', data: 'JSON'})", [sys.argv[1]])
con.close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Made in a child process: a child's peak memory (ru_maxrss) counts what it inherits from
    # this one, and making the file parses a whole JSON recording here.
    subprocess.run([sys.executable, "-c", "import sys; from _common import synthetic_ndjson; "
                    "synthetic_ndjson(int(sys.argv[1]))", str(args.events)],
                   cwd=Path(__file__).parent, check=True)
    data = synthetic_ndjson(args.events)
    size_mb = data.stat().st_size / 1e6
    print(f"input: {data.name}, {args.events:,} events, {size_mb:,.0f} MB")
    ours, ref, peaks = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            db_ref = Path(tmp) / f"ref{round_}.duckdb"
            db_ours = Path(tmp) / f"ours{round_}.duckdb"
            seconds, _ = run_measured([sys.executable, "-c", REFERENCE, str(data), str(db_ref)])
            ref.append(seconds)
            seconds, peak = run_measured([sys.executable, "-m", "inspector", "import", str(data),
                                          "--db", str(db_ours)])
            ours.append(seconds)
            peaks.append(peak)
            print(f"round {round_ + 1}: inspector import {ours[-1]:.2f} s (peak {peak:,.0f} MiB), "
                  f"duckdb read_ndjson {ref[-1]:.2f} s")
    ratio = median(ours) / median(ref)
    peak = max(peaks)
    print(f"median: inspector import {median(ours):.2f} s, duckdb read_ndjson {median(ref):.2f} s")
    print(f"ratio {ratio:.2f} (target <= 1.3): {'met' if ratio <= 1.3 else 'NOT met'}")
    print(f"peak memory {peak:,.0f} MiB (target < 1024): {'met' if peak < 1024 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
