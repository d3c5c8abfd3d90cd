"""``inspector redact``: write a copy of a recording without what was captured after an opt-out.

Arguments only; the work is :func:`inspector.core.redact.redact` (docs/redaction.md). Exit
status: 0 when the copy was written and passed its check, 2 on an error (printed on one line;
nothing is written at OUT).
"""

from __future__ import annotations

import argparse
import sys

from .cli_audit import add_ledger_options

HELP = "write a redacted copy: flagged events removed, optionally personal data masked"


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "redact", help=HELP,
        description="Write a copy of PATH (a replay archive, zip or folder, or one rrweb or "
                    "PostHog file) in the same container, without the events the audit flags "
                    "(docs/audit-rules.md) and, with --mask-pii, with personal data masked. "
                    "The copy is imported and audited before it is put at OUT; if anything "
                    "flagged or masked is still in it, nothing is written (docs/redaction.md). "
                    "Exit status: 0 written, 2 error.")
    parser.add_argument("path", metavar="PATH", help="the recording to redact")
    parser.add_argument("-o", "--out", metavar="OUT", required=True,
                        help="where to write the copy (a single file's record goes beside it "
                             "as OUT.redaction.json)")
    add_ledger_options(parser)
    parser.add_argument("--mask-pii", action="store_true",
                        help="mask personal data in everything kept ([EMAIL], [CARD]...)")
    parser.add_argument("--pseudonymize-key", metavar="FILE",
                        help="replace subject, device and alias keys and e-mail addresses by "
                             "HMAC-SHA256 pseudonyms made with the secret in FILE")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--db", metavar="FILE",
                        help="record the redaction in this database's custody log (default: "
                             "the one in your user data folder)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    import orjson

    from .core.custody import append_to_user_log
    from .core.redact import redact
    from .core.redact.log_entry import custody_refs

    result = redact(args.path, args.out, consent=args.consent, identities=args.identities,
                    tolerance_ms=args.tolerance_ms, mask_pii=args.mask_pii,
                    pseudonymize_key=args.pseudonymize_key, force=args.force)
    warning = append_to_user_log("redact", db_path=args.db, **custody_refs(args.path, result))
    if warning:
        print(f"inspector: warning: {warning}", file=sys.stderr)
    if args.json:
        sys.stdout.write(orjson.dumps(result.as_json(), option=orjson.OPT_INDENT_2).decode()
                         + "\n")
    else:
        sys.stdout.write(result.as_text())
    return 0
