"""The command line: parses arguments, calls the core, prints. No logic of its own.

``inspector [PATH...]`` opens the desktop app; ``inspector import|sessions ...`` run headless.
Errors a user can meet print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import orjson

from . import cli_audit, cli_bundle, cli_page, cli_redact, cli_report
from .core.errors import Cancelled, InspectorError

COMMANDS = ("import", "sessions", "audit", "page", "redact", "report", *cli_bundle.COMMANDS)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="FILE",
                        help="DuckDB database file (default: one in your user data folder)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Import, audit, replay and redact session-replay recordings. "
                    "With no command, opens the desktop app on the given paths.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    imp = sub.add_parser("import", help="import recordings into the database")
    imp.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or archives")
    _add_db(imp)
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    ses = sub.add_parser("sessions", help="list the imported sessions")
    _add_db(ses)
    ses.add_argument("--json", action="store_true", help="print the sessions as JSON")
    cli_audit.add_parser(sub)
    cli_page.add_parser(sub)
    cli_redact.add_parser(sub)
    cli_report.add_parser(sub)
    cli_bundle.add_parsers(sub)
    return parser


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Open the desktop app, importing PATHs. Commands: " + ", ".join(COMMANDS)
                    + " (see inspector COMMAND --help).")
    parser.add_argument("paths", nargs="*", metavar="PATH")
    _add_db(parser)
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="import PATHs (into a temporary database unless --db), show a "
                             "session mid-replay offscreen, save the window as OUT.png, exit")
    parser.add_argument("--session", metavar="ID",
                        help="with --screenshot: the session to show (default: the first "
                             "flagged one)")
    parser.add_argument("--at", metavar="MS", type=int,
                        help="with --screenshot: the instant, in ms from the session's start "
                             "(or epoch ms; default: the middle of its flagged events)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] in COMMANDS:
            args = _parser().parse_args(args_list)
            return _run_command(args)
        if args_list and args_list[0] in ("-h", "--help"):
            _parser().print_help()
            return 0
        args = _app_parser().parse_args(args_list)
        from .ui.app import run  # Qt is imported only when the app is wanted

        return run(args.paths, args.db, screenshot=args.screenshot, session=args.session,
                   at=args.at)
    except Cancelled as exc:
        print(f"inspector: {exc}", file=sys.stderr)
        return 130
    except InspectorError as exc:
        print(f"inspector: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("inspector: interrupted; nothing was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (| head) went away: not an error of ours
        sys.stdout = None  # type: ignore[assignment] # no flush of a closed pipe at exit
        return 0


def _run_command(args: argparse.Namespace) -> int:
    if args.command == "audit":
        return cli_audit.run(args)
    if args.command == "page":
        return cli_page.run(args)
    if args.command == "redact":
        return cli_redact.run(args)
    if args.command == "report":
        return cli_report.run(args)
    if args.command in cli_bundle.COMMANDS:
        return cli_bundle.run(args)
    from .core.store import Store

    with Store(args.db) as store:
        if args.command == "import":
            return _import(store, args)
        return _sessions(store, args)


def _import(store, args: argparse.Namespace) -> int:
    from .core.importer import import_paths

    report = import_paths(store, args.paths)
    if args.json:
        sys.stdout.write(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for archive in report.archives:
            if archive.status == "imported":
                print(f"imported {archive.path}: {archive.format}, {archive.sessions} sessions, "
                      f"{archive.events:,} events, {sum(p.count for p in archive.problems):,} "
                      "problems")
                for problem in archive.problems[:20]:
                    count = f" ({problem.count:,}x)" if problem.count > 1 else ""
                    print(f"  problem: {problem.location}: {problem.reason}{count}")
                if len(archive.problems) > 20:
                    print(f"  ... {len(archive.problems) - 20} more (inspector sessions --db; "
                          "table import_problems)")
            elif archive.status in ("duplicate", "skipped"):
                print(f"{archive.status} {archive.path}: {archive.error}")
    for archive in report.failed:
        print(f"inspector: error: {archive.error}", file=sys.stderr)
    return 2 if report.failed else 0


def _sessions(store, args: argparse.Namespace) -> int:
    table = store.sessions()
    rows = table.to_pylist()
    if args.json:
        sys.stdout.write(orjson.dumps({"sessions": rows}, option=orjson.OPT_INDENT_2).decode()
                         + "\n")
        return 0
    if not rows:
        print("no sessions imported yet (inspector import PATH...)")
        return 0
    header = f"{'session':<36} {'subject':<24} {'device':<16} {'events':>8}  first URL"
    print(header)
    for row in rows:
        print(f"{row['session_id'][:36]:<36} {(row['subject'] or '-')[:24]:<24} "
              f"{(row['device'] or '-')[:16]:<16} {row['events']:>8,}  {row['first_url'] or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
