"""``inspector bundle``, ``verify``, ``log`` and ``keygen``: the evidence an audit leaves behind.

Arguments only; the work is :mod:`inspector.core.bundle` and :mod:`inspector.core.custody`
(docs/evidence.md). Exit status: ``bundle`` and ``keygen`` 0 when written; ``verify`` 0 when
every check passed, 2 when one failed (the message names the file and the check); ``log`` 0 when
the chain is intact, 1 when it is broken; 2 on an error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from .cli_audit import add_ledger_options

COMMANDS = ("bundle", "verify", "log", "keygen")


def add_parsers(subparsers) -> None:
    bundle = subparsers.add_parser(
        "bundle", help="package originals, findings and report as a BagIt evidence bundle",
        description="Copy PATHs untouched into a BagIt (RFC 8493) bag with the findings "
                    "(data/findings.json) and the report (data/report.html) of an audit of those "
                    "very copies, and the custody log; zip it to OUT, optionally signed with an "
                    "Ed25519 key (docs/evidence.md). The bundle is recorded in your custody log. "
                    "Exit status: 0 written, 2 error (nothing is written at OUT).")
    bundle.add_argument("paths", nargs="+", metavar="PATH", help="recordings to bundle")
    bundle.add_argument("-o", "--out", metavar="OUT.zip", required=True,
                        help="the bundle to write")
    add_ledger_options(bundle, "apply and bundle")
    bundle.add_argument("--sign-key", metavar="FILE",
                        help="Ed25519 private key to sign the bundle with (PEM, OpenSSH or 32 "
                             "raw bytes; inspector keygen FILE makes one)")
    bundle.add_argument("--force", action="store_true", help="replace OUT if it exists")
    bundle.add_argument("--db", metavar="FILE",
                        help="record the bundle in this database's custody log (default: the "
                             "one in your user data folder)")
    bundle.add_argument("--json", action="store_true", help="print the result as JSON")

    verify = subparsers.add_parser(
        "verify", help="check every byte of an evidence bundle and audit it again",
        description="Check an evidence bundle: every member of the zip, every file's sha256, "
                    "the tag manifest, the signature, the custody log inside, and the audit run "
                    "again on the bundled originals against its findings. Exit status: 0 every "
                    "check passed, 2 one failed (the message names the file and the check).")
    verify.add_argument("bundle", metavar="BUNDLE.zip", help="the bundle to check")
    verify.add_argument("--public-key", metavar="FILE",
                        help="require a signature by this Ed25519 public key (PEM, OpenSSH or "
                             "32 raw bytes; the FILE.pub of inspector keygen)")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")

    log = subparsers.add_parser(
        "log", help="print the custody log and check its hash chain",
        description="Print the database's custody log (every import, audit, redaction, report "
                    "and bundle) and whether its hash chain is intact. Exit status: 0 intact, "
                    "1 broken, 2 error.")
    log.add_argument("--db", metavar="FILE",
                     help="DuckDB database file (default: the one in your user data folder)")
    log.add_argument("--json", action="store_true", help="print the log and verdict as JSON")

    keygen = subparsers.add_parser(
        "keygen", help="make an Ed25519 key pair for signing bundles",
        description="Write a new Ed25519 private key to FILE (PEM, readable only by you) and "
                    "its public key to FILE.pub, to give to whoever verifies your bundles.")
    keygen.add_argument("file", metavar="FILE", help="where to write the private key")
    keygen.add_argument("--force", action="store_true",
                        help="replace FILE and FILE.pub if they exist")


def run(args: argparse.Namespace) -> int:
    return {"bundle": _bundle, "verify": _verify, "log": _log, "keygen": _keygen}[
        args.command](args)


def record_log(log: Iterable, db_path: str | None = None,
               origin: str = "a temporary database") -> None:
    """Keep a temporary database's custody entries in a lasting log; warn, never fail."""
    from .core.custody import record_in_user_log

    warning = record_in_user_log(log, db_path=db_path, origin=origin)
    if warning:
        print(f"inspector: warning: {warning}", file=sys.stderr)


def _bundle(args: argparse.Namespace) -> int:
    from .core.bundle import make_bundle

    result = make_bundle(args.paths, args.out, consent=args.consent, identities=args.identities,
                         tolerance_ms=args.tolerance_ms, sign_key=args.sign_key,
                         force=args.force)
    record_log(result.custody, args.db, origin="the bundle's own database")
    if args.json:
        _print_json(result.as_json())
        return 0
    sys.stdout.write(result.as_text())
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .core.bundle import verify_bundle

    report = verify_bundle(args.bundle, public_key=args.public_key)
    if args.json:
        _print_json(report.as_json())
    else:
        sys.stdout.write(report.as_text())
    if not report.ok:
        print(f"inspector: error: {report.path}: {report.failure}", file=sys.stderr)
        return 2
    return 0


def _log(args: argparse.Namespace) -> int:
    from .core import custody
    from .core.store import Store

    with Store(args.db) as store:
        log, verdict = custody.entries(store), custody.check(store)
    if args.json:
        _print_json({"database": str(store.path), "entries": [e.as_json() for e in log],
                     "check": verdict.as_json()})
    else:
        sys.stdout.write(custody.format_log(log, verdict))
    return 0 if verdict.intact else 1


def _keygen(args: argparse.Namespace) -> int:
    from .core.bundle.keys import generate_key_pair

    private, public, fingerprint = generate_key_pair(args.file, force=args.force)
    print(f"wrote {private} (private key: keep it secret) and {public} (public key: give it "
          f"to whoever verifies your bundles)")
    print(f"  fingerprint {fingerprint}")
    return 0


def _print_json(value: dict) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
