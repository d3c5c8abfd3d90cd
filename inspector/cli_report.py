"""``inspector report``: import, audit, and write the auditor's report as HTML or PDF.

Arguments only; the work is :mod:`inspector.core.report` (the model and the HTML) and, for a
PDF, :mod:`inspector.ui.report_pdf` (Qt, imported only then). The report is recorded in the
custody log with the sha256 of every input and of the file written.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from .cli_audit import add_ledger_options

HELP = "write the opt-out audit as a report (HTML or PDF)"
FORMATS = {".html": "html", ".pdf": "pdf"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report", help=HELP,
        description="Audit recordings for events captured after an opt-out and write the "
                    "report: inputs with their sha256, the method, each affected person, "
                    "aggregates with denominators, charts and limitations; personal data as "
                    "kinds and counts only. PATHs are imported first, into --db or, without "
                    "it, into a temporary database; with no PATH the database is reported as "
                    "it is. Exit status: 0 written, 2 error.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="recordings to import before the audit")
    parser.add_argument("-o", "--out", metavar="FILE", required=True,
                        help="the report to write: FILE.html or FILE.pdf")
    parser.add_argument("--db", metavar="FILE",
                        help="DuckDB database file (default: a temporary one when PATHs are "
                             "given, else the one in your user data folder)")
    add_ledger_options(parser, "add")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    return parser


def run(args: argparse.Namespace) -> int:
    from .core import custody
    from .core.audit import run_audit
    from .core.audit.inputs import load_inputs
    from .core.errors import UsageError
    from .core.report import make_report, write_html
    from .core.store import Store

    out = Path(args.out)
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        raise UsageError("the report must be a .html or .pdf file", path=str(out))
    if out.exists() and not args.force:
        raise UsageError("exists; add --force to replace it", path=str(out))
    if out.is_dir():
        raise UsageError("is a folder, not a file", path=str(out))
    if not out.parent.resolve().is_dir():
        raise UsageError("its folder does not exist", path=str(out))
    if kind == "pdf":  # Qt loads only for a PDF; fail before the work if it cannot
        from .ui.report_pdf import ensure_gui_application, write_pdf

        ensure_gui_application()

    with contextlib.ExitStack() as stack:
        db = args.db
        temporary = db is None and bool(args.paths)
        if temporary:
            db = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="inspector-report-"))) / "report.duckdb"
        store = stack.enter_context(Store(db))
        loaded = load_inputs(store, args.paths, consent=args.consent,
                             identities=args.identities)
        for line in loaded.lines():
            print(line)
        result = run_audit(store, tolerance_ms=args.tolerance_ms)
        report = make_report(store, audit=result, tolerance_ms=args.tolerance_ms)
        if kind == "pdf":
            pages = write_pdf(report, out).pages
            written = f"{pages} pages"
        else:
            write_html(report, out)
            written = "HTML"
        archives = [(row["path"], row["sha256"]) for row in store.archives().to_pylist()]
        custody.append(store, "report", inputs=archives, outputs=[custody.file_ref(out)],
                       details={"format": kind, "tolerance_ms": args.tolerance_ms})
        warning = (custody.record_in_user_log(custody.entries(store),
                                              origin="the temporary database of this report")
                   if temporary else None)
    affected = report.aggregates.people_affected
    print(f"wrote {out} ({written}): {affected.part:,} of {affected.whole:,} opted-out people "
          f"recorded after opting out, {report.flagged_events:,} flagged events")
    if warning:
        print(f"inspector: warning: {warning}", file=sys.stderr)
    return 0
