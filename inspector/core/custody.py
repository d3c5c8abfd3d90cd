"""The chain of custody: a hash-chained log, kept in the database, of what was done to the evidence.

Every import, audit, redaction, report and bundle appends one entry: when (UTC), the tool's
version, the operation, the sha256 of each input and output file, and details. An entry's hash
covers its fields and the previous entry's hash, so changing, removing or reordering an entry
breaks the chain from there on; :func:`check` names the first broken entry. Removing only the
newest entries leaves a shorter chain that is still intact: the head hash kept elsewhere (an
evidence bundle carries the log) shows that.

Use :func:`append` after the work it records is done; it commits the entry in a transaction of
its own. A caller that wants the entry to land atomically with its own writes holds
:func:`lock` around :func:`append_in_transaction` and its own ``COMMIT``. Entries are numbered
1, 2, 3...; the lock keeps two threads of this process from taking the same number (DuckDB lets
only one process write a database file).

Commands that work in a temporary database (``inspector audit PATH...`` without ``--db``,
``bundle``) copy their entries into the user's database with :func:`record_in_user_log`, which
warns instead of failing when that database is busy. The design: docs/evidence.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from .. import __version__
from .errors import InspectorError
from .sources import sha256_file
from .store import Store, _first_line, default_db_path

#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64

#: What an entry names: a file and its sha256 (``(path, sha256)``, or a mapping with those keys).
Ref = tuple[str, str] | Mapping[str, str]

_LOCK = threading.RLock()
_COLUMNS = "entry, \"at\", tool_version, operation, inputs, outputs, details, prev_hash, hash"


@dataclass(frozen=True)
class Entry:
    entry: int
    at: str
    tool_version: str
    operation: str
    inputs: list[dict]
    outputs: list[dict]
    details: dict
    prev_hash: str
    hash: str

    def as_json(self) -> dict:
        return {"entry": self.entry, "at": self.at, "tool_version": self.tool_version,
                "operation": self.operation, "inputs": self.inputs, "outputs": self.outputs,
                "details": self.details, "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on a log: intact, or where it first breaks and why."""

    entries: int
    head: str | None  # the hash of the last entry
    broken_at: int | None = None  # the entry number (or position) of the first break
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def as_text(self) -> str:
        if self.intact:
            if not self.entries:
                return "custody log: empty (nothing recorded yet); intact"
            return (f"custody log: {self.entries:,} entries, chain intact; head "
                    f"{self.head}")
        return f"custody log: chain BROKEN at entry {self.broken_at}: {self.reason}"

    def as_json(self) -> dict:
        return {"entries": self.entries, "intact": self.intact, "head": self.head,
                "broken_at": self.broken_at, "reason": self.reason}


def file_ref(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(absolute path, sha256)`` of a file, for :func:`append`."""
    resolved = os.path.abspath(path)
    return resolved, sha256_file(resolved)


@contextlib.contextmanager
def lock() -> Iterator[None]:
    """Held from :func:`append_in_transaction` until the caller's ``COMMIT`` or ``ROLLBACK``."""
    with _LOCK:
        yield


def append(db: Store | duckdb.DuckDBPyConnection, operation: str, *,
           inputs: Iterable[Ref] = (), outputs: Iterable[Ref] = (),
           details: Mapping[str, Any] | None = None) -> Entry:
    """Append one entry and commit it, in a transaction of its own.

    ``db`` is a :class:`Store` or a connection or cursor with no transaction open.
    ``inputs``/``outputs`` are ``(path, sha256)`` pairs; ``details`` any JSON-able mapping.
    """
    con = db.cursor()
    try:
        with _LOCK:
            con.execute("BEGIN TRANSACTION")
            try:
                entry = _insert(con, con, operation, inputs, outputs, details)
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
    finally:
        con.close()
    return entry


def append_in_transaction(con: duckdb.DuckDBPyConnection, operation: str, *,
                          inputs: Iterable[Ref] = (), outputs: Iterable[Ref] = (),
                          details: Mapping[str, Any] | None = None) -> Entry:
    """Append one entry inside the caller's open transaction on ``con``; it commits with it.

    Hold :func:`lock` from before this call until after the caller's ``COMMIT``: the entry's
    number and ``prev_hash`` are taken from the newest committed entry.
    """
    with _LOCK:
        latest = con.cursor()  # a transaction of its own: sees what others committed since
        try:
            return _insert(con, latest, operation, inputs, outputs, details)
        finally:
            latest.close()


def copy_entries(log: Iterable[Entry], db: Store | duckdb.DuckDBPyConnection, *,
                 origin: str) -> list[Entry]:
    """Append a copy of each entry of another database's log to this one, oldest first.

    For commands that work in a temporary database: what they did must outlive it. A copy
    keeps the operation, inputs, outputs and details, adds ``copied_from`` (``origin``, the
    original entry's number, time and hash) and is chained and timed here like any entry.
    """
    copies = []
    for item in log:
        details = {**item.details, "copied_from": {"database": origin, "entry": item.entry,
                                                   "at": item.at, "hash": item.hash}}
        copies.append(append(db, item.operation, inputs=item.inputs, outputs=item.outputs,
                             details=details))
    return copies


def record_in_user_log(log: Iterable[Entry], *, db_path: str | os.PathLike[str] | None = None,
                       origin: str = "a temporary database") -> str | None:
    """Copy ``log`` into the log of the user's database (or ``db_path``); never raises for it.

    Returns None when done, else a one-line warning for the caller to show (the database is
    open in another process, or cannot be written): the command itself has succeeded and must
    not fail over its log entry.
    """
    log = list(log)
    if not log:
        return None
    return _in_user_log(lambda store: copy_entries(log, store, origin=origin), db_path,
                        f"{len(log)} entr{'y' if len(log) == 1 else 'ies'} of {origin}")


def append_to_user_log(operation: str, *, inputs: Iterable[Ref] = (),
                       outputs: Iterable[Ref] = (), details: Mapping[str, Any] | None = None,
                       db_path: str | os.PathLike[str] | None = None) -> str | None:
    """:func:`append` to the user's database (or ``db_path``), for work done outside any
    database (a redaction); like :func:`record_in_user_log`, a warning instead of an error."""
    return _in_user_log(lambda store: append(store, operation, inputs=inputs, outputs=outputs,
                                             details=details), db_path, f"the {operation}")


def _in_user_log(write: Any, db_path: str | os.PathLike[str] | None, what: str) -> str | None:
    path = Path(db_path) if db_path is not None else default_db_path()
    try:
        with Store(path) as store:
            write(store)
    except (InspectorError, duckdb.Error, OSError) as exc:
        return (f"{path}: could not record this command in its custody log "
                f"({_first_line(exc)}); {what} not kept")
    return None


def entries(db: Store | duckdb.DuckDBPyConnection) -> list[Entry]:
    """Every entry, oldest first."""
    con = db.cursor()
    try:
        rows = con.execute(f"SELECT {_COLUMNS} FROM custody ORDER BY entry").fetchall()
    finally:
        con.close()
    return [Entry(number, at, version, operation, _loads(inputs, []), _loads(outputs, []),
                  _loads(details, {}), prev, digest)
            for number, at, version, operation, inputs, outputs, details, prev, digest in rows]


def check(db: Store | duckdb.DuckDBPyConnection) -> ChainCheck:
    """Recompute every hash and link; the first entry that does not hold breaks the chain."""
    con = db.cursor()
    try:
        rows = con.execute(f"SELECT {_COLUMNS} FROM custody ORDER BY entry").fetchall()
    finally:
        con.close()
    return _check_rows(rows)


def check_entries(log: Iterable[Entry | Mapping[str, Any]]) -> ChainCheck:
    """:func:`check` for a log kept outside a database (an evidence bundle's custody.json).

    Entries are taken in the order given, as :meth:`Entry.as_json` writes them.
    """
    rows = []
    for item in log:
        data = item.as_json() if isinstance(item, Entry) else item
        rows.append((data["entry"], data["at"], data["tool_version"], data["operation"],
                     _dumps(data["inputs"]), _dumps(data["outputs"]), _dumps(data["details"]),
                     data["prev_hash"], data["hash"]))
    return _check_rows(rows)


def _check_rows(rows: list[tuple]) -> ChainCheck:
    prev = GENESIS
    for position, row in enumerate(rows, start=1):
        number, *fields, prev_hash, digest = row
        if number != position:
            missing = position if number > position else number
            return ChainCheck(len(rows), None, missing,
                              f"entry {missing} is missing (entries go from {position - 1} to "
                              f"{number}): an entry was removed or renumbered")
        if prev_hash != prev:
            return ChainCheck(len(rows), None, number,
                              f"entry {number} does not follow entry {number - 1}: it names "
                              f"{prev_hash[:16]}… as the hash before it, entry {number - 1} has "
                              f"{prev[:16]}… (an entry was removed, inserted or re-hashed)")
        if _digest(number, *fields, prev_hash) != digest:
            return ChainCheck(len(rows), None, number,
                              f"entry {number} ({fields[2]} at {fields[0]}) was changed after it "
                              "was written: its content no longer matches its hash")
        prev = digest
    return ChainCheck(len(rows), prev if rows else None)


def format_log(log: list[Entry], verdict: ChainCheck) -> str:
    """The log as a person reads it: one block per entry, then the verdict."""
    lines = []
    for item in log:
        lines.append(f"#{item.entry} {item.at} {item.operation} (inspector {item.tool_version})"
                     f" hash {item.hash[:16]}…")
        for label, refs in (("in ", item.inputs), ("out", item.outputs)):
            for ref in refs:
                lines.append(f"    {label} {ref.get('sha256', '?')}  {ref.get('path', '?')}")
        if item.details:
            lines.append("    " + ", ".join(f"{key}={_short(value)}"
                                            for key, value in item.details.items()))
    lines.append(verdict.as_text())
    return "\n".join(lines) + "\n"


def _insert(con: duckdb.DuckDBPyConnection, latest: duckdb.DuckDBPyConnection, operation: str,
            inputs: Iterable[Ref], outputs: Iterable[Ref],
            details: Mapping[str, Any] | None) -> Entry:
    if not operation or not isinstance(operation, str):
        raise ValueError("an operation name is required")
    heads = [_head(c) for c in (con, latest)]  # own uncommitted entries, others' committed ones
    number, prev = max(heads)
    number += 1
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ins, outs = _refs(inputs), _refs(outputs)
    fields = (at, __version__, operation, _dumps(ins), _dumps(outs), _dumps(dict(details or {})))
    digest = _digest(number, *fields, prev)
    con.execute("INSERT INTO custody VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [number, *fields, prev, digest])
    return Entry(number, at, __version__, operation, ins, outs, dict(details or {}), prev, digest)


def _head(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    rows = con.execute("SELECT entry, hash FROM custody ORDER BY entry DESC LIMIT 1").fetchall()
    return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)


def _refs(refs: Iterable[Ref]) -> list[dict]:
    out = []
    for ref in refs:
        path, sha256 = (ref["path"], ref["sha256"]) if isinstance(ref, Mapping) else ref
        out.append({"path": str(path), "sha256": sha256})
    return out


def _digest(number: int, at: str, version: str, operation: str, inputs: str, outputs: str,
            details: str, prev_hash: str) -> str:
    body = orjson.dumps([number, at, version, operation, inputs, outputs, details, prev_hash])
    return hashlib.sha256(body).hexdigest()


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _loads(text: str, default: Any) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return default


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else _dumps(value)
    return text if len(text) <= 80 else text[:79] + "…"
