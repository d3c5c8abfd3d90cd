"""Consent and identity records from files of their own, for exports that carry none (PostHog).

A file holds the same records as a replay archive's ``consent.ndjson`` / ``identities.ndjson``
(docs/archive-format.md), as NDJSON or as CSV with the same columns and a header line. It is
stored like an archive without sessions (format ``consent-file`` or ``identities-file``, keyed
by the file's sha256) in one transaction, so the audit applies it to every session, and adding
the same file again changes nothing. Unlike an archive, a file with a bad row is refused whole:
the user named this file to be applied, and applying part of it would audit against a ledger
nobody wrote.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from ..errors import InputError
from ..records import ConsentRecord, IdentityRecord, RecordError, parse_consent, parse_identity
from ..sources import Source
from ..store import Store

CONSENT, IDENTITIES = "consent", "identities"
FORMATS = {CONSENT: "consent-file", IDENTITIES: "identities-file"}
COLUMNS = {CONSENT: ("subject", "action", "at", "scope", "source"),
           IDENTITIES: ("subject", "alias")}
_REQUIRED = {CONSENT: ("subject", "action", "at"), IDENTITIES: ("subject", "alias")}
_PARSERS = {CONSENT: parse_consent, IDENTITIES: parse_identity}


@dataclass
class RecordsFileResult:
    path: str
    kind: str  # consent | identities
    sha256: str
    records: int
    status: str  # added | duplicate
    archive_id: int


def add_records_file(store: Store | duckdb.DuckDBPyConnection, path: str | os.PathLike[str],
                     kind: str) -> RecordsFileResult:
    """Store the consent or identity records of ``path``; raises InputError on a bad row."""
    if kind not in FORMATS:
        raise ValueError(kind)
    file = Path(path)
    if not file.is_file():
        raise InputError("does not exist or is not a file", path=str(file),
                         hint=f"check the --{kind} path")
    name = str(file.resolve())
    source = Source(name, path=file)
    con = store.cursor()
    try:
        try:
            sha256 = source.sha256()
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", path=name) from exc
        known = con.execute("SELECT archive_id, format FROM archives WHERE sha256 = ?",
                            [sha256]).fetchall()
        if known:
            archive_id, fmt = known[0]
            if fmt != FORMATS[kind]:
                raise InputError(f"was already imported as {fmt} (archive {archive_id})",
                                 path=name, hint=f"a --{kind} file holds only {kind} records")
            (count,), = con.execute(f"SELECT count(*) FROM {kind} WHERE archive_id = ?",
                                    [archive_id]).fetchall()
            return RecordsFileResult(name, kind, sha256, count, "duplicate", archive_id)
        try:
            records = list(_read(source, kind))
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", path=name) from exc
        if not records:
            raise InputError(f"holds no {kind} records", path=name,
                             hint=f"expected one record per line with "
                                  f"{', '.join(_REQUIRED[kind])}")
        archive_id = _store(con, name, sha256, kind, file.stat().st_size, records)
    finally:
        con.close()
    return RecordsFileResult(name, kind, sha256, len(records), "added", archive_id)


def records_files(store: Store | duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The consent and identity files added to the database, by kind; raises if one is gone.

    What a job that starts again from the files (a redacted copy, an evidence bundle) passes on,
    so that it applies the ledger the database's audit applied.
    """
    con = store.cursor()
    try:
        rows = con.execute("SELECT path, format FROM archives WHERE format IN (?, ?) "
                           "ORDER BY archive_id", [FORMATS[CONSENT], FORMATS[IDENTITIES]]
                           ).fetchall()
    finally:
        con.close()
    kinds = {fmt: kind for kind, fmt in FORMATS.items()}
    found: dict[str, list[str]] = {CONSENT: [], IDENTITIES: []}
    for path, fmt in rows:
        kind = kinds[fmt]
        if not Path(path).is_file():
            raise InputError(f"this {kind} file was added to the database but is no longer "
                             "on disk", path=path,
                             hint="put it back, or use a database without it")
        found[kind].append(path)
    return found


def _store(con: duckdb.DuckDBPyConnection, name: str, sha256: str, kind: str, size: int,
           records: list) -> int:
    con.execute("BEGIN TRANSACTION")
    try:
        (archive_id,), = con.execute("SELECT nextval('archive_ids')").fetchall()
        con.execute("INSERT INTO archives VALUES (?, ?, ?, ?, ?, now(), NULL, NULL, 0, 0, 0)",
                    [archive_id, name, sha256, FORMATS[kind], size])
        if kind == CONSENT:
            con.executemany("INSERT INTO consent VALUES (?, ?, ?, ?, ?, ?, ?)", [
                [archive_id, r.subject, r.action, r.at_ms, r.scope, r.source, r.location]
                for r in records])
        else:
            con.executemany("INSERT INTO identities VALUES (?, ?, ?, ?, ?)", [
                [archive_id, r.subject, r.alias, "identities file", r.location]
                for r in records])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return archive_id


def _read(source: Source, kind: str) -> Iterator[ConsentRecord | IdentityRecord]:
    head = source.head(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return
    if head.startswith(b"{") and not source.name.lower().removesuffix(".gz").endswith(".csv"):
        yield from _ndjson(source, kind)
    else:
        yield from _csv(source, kind)


def _ndjson(source: Source, kind: str) -> Iterator[ConsentRecord | IdentityRecord]:
    parse = _PARSERS[kind]
    for number, line in source.iter_lines():
        if line is None:
            raise _bad(source, number, "the line is too long")
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise _bad(source, number, f"invalid JSON ({exc.args[0].split(':')[0]})") from exc
        yield _parsed(parse, obj, source, number)


def _csv(source: Source, kind: str) -> Iterator[ConsentRecord | IdentityRecord]:
    parse = _PARSERS[kind]
    with source.open() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            rows = csv.DictReader(text)
            header = [column.strip().lower() for column in rows.fieldnames or []]
            missing = [column for column in _REQUIRED[kind] if column not in header]
            if missing:
                raise _bad(source, 1, f"the header has no {', '.join(missing)} column "
                                      f"(expected {','.join(COLUMNS[kind])}), or the file is "
                                      "neither NDJSON nor CSV")
            rows.fieldnames = header
            for row in rows:
                values = {key: value.strip() for key, value in row.items()
                          if key is not None and isinstance(value, str)}
                if not any(values.values()):
                    continue
                values = {key: value for key, value in values.items() if value}
                yield _parsed(parse, values, source, rows.line_num)
        except UnicodeDecodeError as exc:
            raise InputError("is not UTF-8 text", path=source.name,
                             hint="save it as UTF-8 NDJSON or CSV") from exc
        except csv.Error as exc:
            raise InputError(f"is not valid CSV ({exc})", path=source.name) from exc


def _parsed(parse: Any, obj: Any, source: Source, number: int) -> ConsentRecord | IdentityRecord:
    try:
        return parse(obj, f"{source.name} line {number}")
    except RecordError as exc:
        raise _bad(source, number, str(exc)) from exc


def _bad(source: Source, number: int, reason: str) -> InputError:
    return InputError(reason, path=source.name, where=f"line {number}",
                      hint="fix or remove the line; nothing from this file was added")
