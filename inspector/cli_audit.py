"""``inspector audit``: import what it is given, add consent and identity files, audit, print.

Arguments only; the work is :func:`inspector.core.audit.run_audit` and friends. Exit status:
0 when nothing is flagged, 1 when something is, 2 on an error (printed on one line).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

HELP = "find events recorded after a person opted out"


def _tolerance(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds"
                                         ) from None
    if value < 0:
        raise argparse.ArgumentTypeError("the tolerance cannot be negative")
    return value


def add_ledger_options(parser: argparse.ArgumentParser, verb: str = "apply") -> None:
    """--consent, --identities and --tolerance-ms: what every command that audits takes."""
    parser.add_argument("--consent", metavar="FILE", action="append", default=[],
                        help=f"consent records to {verb} (NDJSON or CSV: subject,action,at,"
                             "scope,source); may be repeated")
    parser.add_argument("--identities", metavar="FILE", action="append", default=[],
                        help=f"identity links to {verb} (NDJSON or CSV: subject,alias); may be "
                             "repeated")
    parser.add_argument("--tolerance-ms", metavar="N", type=_tolerance, default=0,
                        help="move every opt-out instant N ms later, for clock skew (default 0)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "audit", help=HELP,
        description="Audit recordings for events captured while their person was opted out "
                    "(docs/audit-rules.md). PATHs are imported first, into --db or, without "
                    "it, into a temporary database; with no PATH the database is audited as it "
                    "is. Exit status: 0 nothing flagged, 1 something flagged, 2 error.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="recordings to import before the audit")
    parser.add_argument("--db", metavar="FILE",
                        help="DuckDB database file (default: a temporary one when PATHs are "
                             "given, else the one in your user data folder)")
    add_ledger_options(parser, "add")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    import orjson

    from .core.audit import run_audit
    from .core.audit.inputs import load_inputs
    from .core.store import Store

    with contextlib.ExitStack() as stack:
        db = args.db
        if db is None and args.paths:
            db = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="inspector-audit-"))) / "audit.duckdb"
        store = stack.enter_context(Store(db))
        loaded = load_inputs(store, args.paths, consent=args.consent,
                             identities=args.identities)
        if not args.json:
            for line in loaded.lines():
                print(line)
        result = run_audit(store, tolerance_ms=args.tolerance_ms)
        if args.db is None and args.paths:  # a temporary database: keep its custody entries
            from .cli_bundle import record_log
            from .core.custody import entries

            record_log(entries(store))
    if args.json:
        sys.stdout.write(orjson.dumps(result.as_json(), option=orjson.OPT_INDENT_2).decode()
                         + "\n")
    else:
        if args.paths or args.consent or args.identities:
            print()
        sys.stdout.write(result.as_text())
    return 1 if result.flagged_events else 0
