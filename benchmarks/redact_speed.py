"""Redaction speed: ``inspector redact`` of ~1M rrweb events against ``inspector import`` of them.

The recording is gen_session.py's (benchmarks/_common.py), put in a replay archive folder so
that a consent file can name its person: a plain rrweb file carries no subject, and a session
without one can only be opted out by a marker inside it. The session file is the generated
JSON array itself (``--member json``, hard-linked, not rewritten) or the same events as NDJSON
(``--member ndjson``, which the import hands to DuckDB whole). The consent file opts the
person out at 40% of the session and back in at 60%, so a fifth of the events go and the kept
page after the gap has to be followed for references to removed nodes.

Both commands run as separate processes on the same folder, alternating, in the same run
(shared machines are noisy: only the ratio is meaningful); the redaction with ``--mask-pii``
(every event is parsed and masked) and without it. Target (issue 5): the masked redaction at
most 3x the import.

    python benchmarks/redact_speed.py [--events N] [--repeat K] [--member json|ndjson]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import orjson
from _common import DATA, median, run_measured, synthetic_json, synthetic_ndjson

TARGET = 3.0
SUBJECT = "u-bench"
T0 = 1_700_000_000_000  # gen_session.py's first event
DURATION_MS = 3_600_000  # synthetic_json's default duration


def archive(events: int, member: str) -> Path:
    """A replay archive folder holding the generated recording, made once under data/."""
    source = synthetic_json(events) if member == "json" else synthetic_ndjson(events)
    root = DATA / f"synth-{events}-s1-archive-{member}"
    manifest = root / "manifest.json"
    if manifest.exists():
        return root
    path = f"sessions/synth.{member}"
    (root / "sessions").mkdir(parents=True, exist_ok=True)
    if not (root / path).exists():
        os.link(source, root / path)
    digest = hashlib.sha256()
    with open(source, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    body = {"format": "replay-archive", "version": 1, "exporter": "benchmarks/redact_speed.py",
            "exported_at": "2024-01-01T00:00:00+00:00",
            "sessions": [{"session_id": "synth", "path": path, "sha256": digest.hexdigest(),
                          "events": events, "subject": SUBJECT}]}
    tmp = manifest.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    os.replace(tmp, manifest)
    return root


def consent_file(folder: Path) -> Path:
    path = folder / "consent.ndjson"
    records = [{"subject": SUBJECT, "action": "opt_out", "at": T0 + DURATION_MS * 4 // 10},
               {"subject": SUBJECT, "action": "opt_in", "at": T0 + DURATION_MS * 6 // 10}]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--member", choices=("json", "ndjson"), default="json",
                        help="the session file inside the archive (default json)")
    args = parser.parse_args()
    source = archive(args.events, args.member)
    size_mb = sum(p.stat().st_size for p in source.rglob("*") if p.is_file()) / 1e6
    print(f"input: {source.name}, {args.events:,} events, {size_mb:,.0f} MB")
    runs: dict[str, list[float]] = {"import": [], "redact": [], "redact --mask-pii": []}
    peaks: dict[str, float] = dict.fromkeys(runs, 0.0)
    inspector = [sys.executable, "-m", "inspector"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        consent = consent_file(work)
        for round_ in range(args.repeat):
            commands = {
                "import": ["import", str(source), "--db", str(work / f"db{round_}.duckdb")],
                "redact": ["redact", str(source), "-o", str(work / f"plain{round_}"),
                           "--consent", str(consent)],
                "redact --mask-pii": ["redact", str(source), "-o", str(work / f"masked{round_}"),
                                      "--consent", str(consent), "--mask-pii"],
            }
            for name, argv in commands.items():
                seconds, peak = run_measured(inspector + argv)
                runs[name].append(seconds)
                peaks[name] = max(peaks[name], peak)
            print(f"round {round_ + 1}: " + ", ".join(f"inspector {name} {runs[name][-1]:.2f} s"
                                                      for name in runs))
        copy = work / "masked0"
        record = orjson.loads((copy / "redaction.json").read_bytes())
        counts = record["counts"]
        print(f"copy: {counts['events']['copy']:,} of {counts['events']['source']:,} events, "
              f"{counts['removed']['flagged']:,} flagged removed, "
              f"{counts['removed']['dependent']['events']:,} dependent removed, "
              f"{counts['masked']['total']:,} pieces of personal data masked")
    reference = median(runs["import"])
    print("median: " + ", ".join(f"inspector {name} {median(values):.2f} s (peak "
                                 f"{peaks[name]:,.0f} MiB)" for name, values in runs.items()))
    for name in ("redact", "redact --mask-pii"):
        ratio = median(runs[name]) / reference
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(f"ratio {name} / import: {ratio:.2f} (target <= {TARGET:g}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
