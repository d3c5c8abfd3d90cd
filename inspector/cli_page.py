"""``inspector page``: a session's page rebuilt at given instants, as HTML, text or JSON.

Only argument handling and printing live here; the replay is :mod:`inspector.core.replay`.
PATHs are imported first — into ``--db`` when given, else into a temporary database that is
deleted afterwards — and the session is looked for among the archives they hold. With ``--db``
and no PATH the database is used as it is (without either, the default database).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

FORMATS = ("html", "text", "json")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "page", help="rebuild a session's page at given instants",
        description="Rebuild the page of a session as it stood at each instant (the state after "
                    "every event with a timestamp at or before it) and print it. Several "
                    "instants are answered in the order given by one replay engine.")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="recordings to import first (default: use the database as it is)")
    parser.add_argument("--db", metavar="FILE",
                        help="DuckDB database file (with PATH: imported into it; without --db, "
                             "PATH goes into a temporary database)")
    parser.add_argument("--session", required=True, metavar="ID", help="the session id")
    parser.add_argument("--archive", type=int, metavar="ID",
                        help="the archive id, when the session id is in several archives")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", metavar="MS[,MS...]",
                      help="instants: epoch milliseconds, or +N for N ms after the session's "
                           "first event")
    when.add_argument("--seq", metavar="N[,N...]",
                      help="event positions (0-based), for sessions recorded without "
                           "timestamps: the page after events 0..N")
    parser.add_argument("--format", choices=FORMATS, default="html",
                        help="html: the rebuilt document (safe to open: no scripts, nothing "
                             "fetched); text: its visible text; json: one object per instant")
    parser.add_argument("--no-html", action="store_true",
                        help="with --format json: leave the html out of each instant")
    parser.add_argument("--mask-pii", action="store_true",
                        help="replace every typed value and mask personal data in text, "
                             "attributes and URLs")
    parser.add_argument("--timings", action="store_true",
                        help="report the milliseconds each seek took (in the JSON, or on "
                             "stderr for html and text)")
    return parser


def run(args: argparse.Namespace) -> int:
    from .core.errors import UsageError

    instants = _parse_list(args.at if args.at is not None else args.seq,
                           "--at" if args.at is not None else "--seq", allow_offset=args.at
                           is not None)
    if args.no_html and args.format != "json":
        raise UsageError("--no-html only applies to --format json")
    if args.paths and args.db is None:
        with tempfile.TemporaryDirectory(prefix="inspector-page-") as tmp:
            return _run(args, instants, Path(tmp) / "page.duckdb")
    return _run(args, instants, args.db)


def _run(args: argparse.Namespace, instants: list[tuple[bool, int]], db: str | Path | None
         ) -> int:
    from .core.store import Store

    with Store(db) as store:
        archive_id = args.archive
        if args.paths:
            archive_id = _import(store, args.paths, args.session, archive_id)
        return _answer(store, args, archive_id, instants)


def _import(store, paths: list[str], session_id: str, archive_id: int | None) -> int | None:
    """Import PATHs; the archive among them holding the session (None: let the loader say)."""
    from .core.errors import InputError, UsageError
    from .core.importer import import_paths
    from .core.replay.loader import known_sessions

    report = import_paths(store, paths)
    scope = [a.archive_id for a in report.archives if a.archive_id is not None]
    if not scope:
        errors = "; ".join(a.error or a.status for a in report.archives)
        raise InputError(f"nothing could be imported ({errors})")
    if archive_id is not None:
        return archive_id
    cur = store.cursor()
    try:
        rows = cur.execute("SELECT archive_id FROM sessions WHERE session_id = ? "
                           "AND archive_id IN (SELECT unnest(?)) ORDER BY archive_id",
                           [session_id, scope]).fetchall()
        if len(rows) == 1:
            return rows[0][0]
        if len(rows) > 1:
            raise UsageError(f"session {session_id!r} is in several of the given files "
                             f"(archives {', '.join(str(r[0]) for r in rows)})",
                             hint="choose one with --archive ID")
        known = [s for a in scope for s in known_sessions(cur, a)]
    finally:
        cur.close()
    listed = ", ".join(repr(s) for s in known[:5]) + (", ..." if len(known) > 5 else "")
    raise UsageError(f"no session {session_id!r} in {', '.join(paths)}",
                     hint=f"sessions there: {listed}" if known else None)


def _answer(store, args: argparse.Namespace, archive_id: int | None,
            instants: list[tuple[bool, int]]) -> int:
    import orjson

    from .core.errors import UsageError
    from .core.replay import ReplaySession
    from .core.replay.privacy import Masker

    started = time.perf_counter()
    session = ReplaySession.load(store, archive_id, args.session)
    load_ms = (time.perf_counter() - started) * 1000
    by_time = args.at is not None
    if by_time and not session.timed and session.operations:
        seqs = session.event_seqs()
        raise UsageError(f"session {args.session!r} was recorded without timestamps, so it "
                         "cannot be sought by time",
                         hint=f"use --seq N with event positions {seqs[0]}..{seqs[-1]}")
    if not by_time and session.timed:
        raise UsageError(f"session {args.session!r} has timestamps",
                         hint="use --at MS (epoch milliseconds, or +N after its start)")
    masker = Masker(args.mask_pii, session.typed)
    answers = []
    for is_offset, value in instants:
        if is_offset:
            if session.start is None:
                raise UsageError(f"session {args.session!r} has no start time for +{value}")
            value += session.start
        started = time.perf_counter()
        page = session.seek(value) if by_time else session.seek_seq(value)
        seek_ms = (time.perf_counter() - started) * 1000
        answers.append((value, page, seek_ms))

    out = sys.stdout
    if args.format == "json":
        doc = {"session": args.session, "archive_id": session.archive_id,
               "start": session.start, "end": session.end, "timed": session.timed,
               "problems": session.problems, "instants": []}
        if args.timings:
            doc["load_ms"] = round(load_ms, 3)
        for value, page, seek_ms in answers:
            item = {"at" if by_time else "seq": value,
                    "url": masker.url(page.url) if page.url else page.url,
                    "viewport": {"width": page.viewport[0], "height": page.viewport[1]}
                    if page.viewport else None,
                    "nodes": page.nodes, "problems": page.problems,
                    "text": page.text(mask_pii=args.mask_pii)}
            if not args.no_html:
                item["html"] = page.html(mask_pii=args.mask_pii)
            if args.timings:
                item["seek_ms"] = round(seek_ms, 3)
            doc["instants"].append(item)
        out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        several = len(answers) > 1
        for value, page, _ in answers:
            label = f"{'at' if by_time else 'seq'} {value}"
            if args.format == "html":
                url = masker.url(page.url) if page.url else "-"
                problems = ", ".join(f"{k} {n}" for k, n in page.problems.items()) or "none"
                out.write(f"<!-- inspector page: session {_comment(args.session)} {label}; "
                          f"url {_comment(url)}; {page.nodes} nodes; problems: "
                          f"{problems} -->\n")
                out.write(page.html(mask_pii=args.mask_pii))
            else:
                if several:
                    out.write(f"=== {label} ===\n")
                text = page.text(mask_pii=args.mask_pii)
                out.write(text + ("\n" if text else ""))
        if session.problems:
            summary = ", ".join(f"{k} {n}" for k, n in session.problems.items())
            print(f"inspector: note: damage in session {args.session}: {summary}",
                  file=sys.stderr)
    if args.timings and args.format != "json":
        print(f"inspector: load {load_ms:.1f} ms", file=sys.stderr)
        for value, _, seek_ms in answers:
            print(f"inspector: seek {value}: {seek_ms:.3f} ms", file=sys.stderr)
    return 0


def _parse_list(text: str, option: str, *, allow_offset: bool) -> list[tuple[bool, int]]:
    """``"1,+20,3"`` -> [(False, 1), (True, 20), (False, 3)] (True: offset from the start)."""
    from .core.errors import UsageError

    values = []
    for part in text.split(","):
        part = part.strip()
        offset = allow_offset and part.startswith("+")
        try:
            number = int(part[1:] if offset else part)
        except ValueError:
            raise UsageError(f"{option} {text!r}: {part!r} is not a whole number",
                             hint="give integers separated by commas"
                                  + (", e.g. 1700000000000,+1500" if allow_offset else "")
                             ) from None
        values.append((offset, number))
    return values


def _comment(text: str) -> str:
    return text.replace("--", "- -").replace(">", "&gt;")
