"""Writes one archive into the store as a single transaction: the importer's :class:`Sink`.

Events are normalised (``records.normalize_event``), numbered per session in source order
(``seq``), buffered and inserted as Arrow batches. The transaction starts at the first write,
so a plain NDJSON file can be inserted by DuckDB's native reader and, if DuckDB cannot take it
whole, rolled back and read line by line instead; whatever fails, :meth:`abort` rolls the
archive back and the database is as it was.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import duckdb

from .cancel import CancelToken
from .records import (
    ConsentRecord,
    IdentityRecord,
    Problem,
    RecordError,
    SessionMeta,
    normalize_event,
)

BATCH_ROWS = 20_000
#: Individual problems kept per source before they are summarised.
MAX_PROBLEMS_PER_SOURCE = 1000
#: DuckDB's JSON reader refuses objects larger than this; such files take the line-by-line path.
#: DuckDB's default: a larger one makes its reader hold buffers that cost a second at close.
BULK_MAX_OBJECT_BYTES = 16 * 1024 * 1024
#: NDJSON files up to this size are inserted in memory and numbered by their row ids, which
#: lets DuckDB parse on every core (peak memory about the file's size plus 300 MiB); larger
#: files are numbered as the reader streams them (bounded memory, one parsing thread).
BULK_IN_MEMORY_BYTES = 400 * 1024 * 1024

EVENT_COLUMNS = ("session_id", "seq", "timestamp", "type", "source", "window_id", "data",
                 "byte_length")

# data.source of an incremental snapshot: rrweb writes it first, so a prefix check avoids
# parsing every event's JSON a second time; anything else falls back to a real JSON lookup.
_SOURCE_SQL = r"""CASE WHEN type <> 3 THEN NULL
  WHEN starts_with(data, '{"source":')
    THEN try_cast(regexp_extract(data, '^\{"source":(\d+)[,}]', 1) AS SMALLINT)
  ELSE try_cast(json_extract_string(data, '$.source') AS SMALLINT) END"""

_BULK_COLUMNS = ("{type: 'INTEGER', timestamp: 'BIGINT', data: 'JSON', session_id: 'VARCHAR', "
                 "sessionId: 'VARCHAR', cv: 'VARCHAR'}")

_TIMESTAMP_SQL = """CASE WHEN timestamp IS NULL OR timestamp <= 0 THEN NULL
  WHEN timestamp < 100000000000 THEN timestamp * 1000 ELSE timestamp END"""


class ArchiveWriter:
    """Collects one archive's content and writes it in one transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, archive_id: int, *,
                 cancel: CancelToken, on_flush: Callable[[int], None] | None = None,
                 before_write: Callable[[], None] | None = None) -> None:
        self.con = con
        self.archive_id = archive_id
        self.cancel = cancel
        self.location = ""  # the current source's name, set by the importer
        self.events = 0
        self._on_flush = on_flush
        #: Called once, just before the first write (the importer's duplicate check, which
        #: needs the archive's sha256, computed meanwhile on another thread).
        self._before_write = before_write
        self._txn = False
        self._metas: dict[str, SessionMeta] = {}
        self._seq: dict[str, int] = {}
        self._rows: dict[str, list] = {name: [] for name in EVENT_COLUMNS}
        self._problems: list[Problem] = []
        self._problems_per_source: dict[str, int] = {}
        self._notes: dict[tuple[str, str], Problem] = {}
        self._consent: list[ConsentRecord] = []
        self._identities: list[tuple[IdentityRecord, str]] = []

    # -- Sink ---------------------------------------------------------------------------
    def session(self, meta: SessionMeta) -> None:
        known = self._metas.get(meta.session_id)
        if known is None:
            self._metas[meta.session_id] = meta
            return
        for field in ("subject", "device", "started_at", "origin"):
            if getattr(known, field) is None and getattr(meta, field) is not None:
                setattr(known, field, getattr(meta, field))
        known.aliases.extend(a for a in meta.aliases if a not in known.aliases)

    def event(self, session_id: str, record: object, location: str,
              window: str | None = None) -> None:
        try:
            event = normalize_event(record)
        except RecordError as exc:
            self.problem(location, str(exc))
            return
        if event.note:
            self._note(location, event.note)
        if session_id not in self._metas:
            self._metas[session_id] = SessionMeta(session_id, origin=self.location)
        seq = self._seq.get(session_id, 0)
        self._seq[session_id] = seq + 1
        rows = self._rows
        rows["session_id"].append(session_id)
        rows["seq"].append(seq)
        rows["timestamp"].append(event.timestamp)
        rows["type"].append(event.type)
        rows["source"].append(event.source)
        rows["window_id"].append(window)
        rows["data"].append(event.data_json)
        rows["byte_length"].append(event.byte_length)
        if len(rows["seq"]) >= BATCH_ROWS:
            self._flush()

    def problem(self, location: str, reason: str) -> None:
        source = self.location
        seen = self._problems_per_source.get(source, 0) + 1
        self._problems_per_source[source] = seen
        if seen <= MAX_PROBLEMS_PER_SOURCE:
            self._problems.append(Problem(location, reason))
        else:
            self._note(source, "further problems in this file (details of the first "
                               f"{MAX_PROBLEMS_PER_SOURCE} are listed)")

    def consent(self, record: ConsentRecord) -> None:
        self._consent.append(record)

    def identity(self, record: IdentityRecord, origin: str = "identities") -> None:
        self._identities.append((record, origin))

    def check_cancel(self) -> None:
        self.cancel.check()

    def session_events(self, session_id: str) -> int:
        return self._seq.get(session_id, 0)

    def bulk_ndjson(self, path: str, session_id: str, *, forced: bool = False,
                    max_object_bytes: int = BULK_MAX_OBJECT_BYTES) -> bool:
        """Insert a whole NDJSON file with DuckDB's reader; False (nothing changed) if it can't.

        Only possible as the archive's first write: the insert opens the transaction, and any
        row DuckDB cannot take whole (bad JSON, wrong types, compressed or over-long events)
        aborts it, so the caller falls back to the line-by-line reader, which explains each
        bad line. Rows are validated as they go in: an invalid one gets a NULL ``type``, which
        the NOT NULL constraint refuses.
        """
        if self._txn:
            return False
        aid = self.archive_id
        sid = "?" if forced else "coalesce(session_id, sessionId, ?)"
        # DuckDB numbers rows WITH ORDINALITY on one thread only. A file small enough to hold
        # is read on every thread instead, kept in memory (no optimistic writes, which an
        # UPDATE would make DuckDB write twice) and numbered from its row ids, which follow
        # the file's order (insertion order is preserved).
        in_memory = os.path.getsize(path) <= BULK_IN_MEMORY_BYTES
        seq, ordinality = ("0", "") if in_memory else ("ordinality - 1", "WITH ORDINALITY")
        self._begin()
        try:
            with _optimistic_writes(self.con, not in_memory):
                self.con.execute(
                    f"INSERT INTO events SELECT {aid}, {sid}, {seq}, timestamp, "
                    f"CASE WHEN type BETWEEN 0 AND 7 AND cv IS NULL AND strlen(data) <= ? "
                    f"AND NOT (type = 3 AND source IS NULL) THEN type END, "
                    f"source, NULL, data, strlen(data) FROM ("
                    f"  SELECT *, {_SOURCE_SQL} AS source FROM read_ndjson(?, "
                    f"  columns = {_BULK_COLUMNS}, compression = 'none', "
                    f"  maximum_object_size = {min(max_object_bytes, BULK_MAX_OBJECT_BYTES)}) "
                    f"  {ordinality})", [session_id, max_object_bytes, path])
            if in_memory:
                self.con.execute("UPDATE events SET seq = rowid - (SELECT min(rowid) FROM events "
                                 "WHERE archive_id = ?) WHERE archive_id = ?", [aid, aid])
        except duckdb.InterruptException:
            self.abort()
            self.cancel.check()
            raise
        except duckdb.Error:
            self.abort()  # damaged or unusual: the line-by-line reader explains it
            return False
        self.cancel.check()
        con = self.con
        convert = False
        for name, condition in (
                ("no timestamp", "timestamp IS NULL"),
                ("timestamp is not a positive epoch time", "timestamp <= 0"),
                ("timestamp in seconds converted to milliseconds",
                 "timestamp > 0 AND timestamp < 100000000000")):
            count, first = con.execute(
                f"SELECT count(*), min(seq) FROM events WHERE archive_id = ? AND {condition}",
                [aid]).fetchone()
            if count:
                self._add_note(self.location, f"{self.location} record {first + 1}", name, count)
                convert = convert or condition != "timestamp IS NULL"
        if convert:  # seconds and non-positive values; rare, so only then an UPDATE
            con.execute(f"UPDATE events SET timestamp = {_TIMESTAMP_SQL} WHERE archive_id = ? "
                        "AND timestamp < 100000000000", [aid])
        counts = dict(con.execute("SELECT session_id, count(*) FROM events WHERE archive_id = ? "
                                  "GROUP BY 1", [aid]).fetchall())
        if len(counts) > 1:  # line numbers become positions within each session
            con.execute("""
                UPDATE events SET seq = r.n FROM (
                    SELECT session_id, seq AS line,
                           row_number() OVER (PARTITION BY session_id ORDER BY seq) - 1 AS n
                    FROM events WHERE archive_id = ?) r
                WHERE events.archive_id = ? AND events.session_id = r.session_id
                  AND events.seq = r.line""", [aid, aid])
        for name in sorted(counts):
            self.session(SessionMeta(name, origin=self.location))
            self._seq[name] = self._seq.get(name, 0) + counts[name]
            self.events += counts[name]
        if self._on_flush:
            self._on_flush(self.events)
        return True

    # -- transaction ----------------------------------------------------------------------
    def finish(self, *, path: str, sha256: str, fmt: str, size: int | None,
               exporter: str | None = None, exported_at: str | None = None) -> None:
        self._flush()
        self._begin()
        aid = self.archive_id
        con = self.con
        con.execute("INSERT INTO archives VALUES (?, ?, ?, ?, ?, now(), ?, ?, 0, 0, 0)",
                    [aid, path, sha256, fmt, size, exporter, exported_at])
        con.execute("CREATE OR REPLACE TEMP TABLE import_metas (session_id VARCHAR, "
                    "subject VARCHAR, device VARCHAR, origin VARCHAR)")
        try:
            con.executemany("INSERT INTO import_metas VALUES (?, ?, ?, ?)",
                            [[m.session_id, m.subject, m.device, m.origin]
                             for m in self._metas.values()])
            con.execute("""
                INSERT INTO sessions
                SELECT ?, m.session_id, m.subject, m.device, m.origin,
                       greatest(coalesce(s.windows, 0), 1), s.first_ts, s.last_ts,
                       coalesce(s.n, 0), u.first_url
                FROM import_metas m LEFT JOIN (
                    SELECT session_id, count(DISTINCT window_id) AS windows,
                           min(timestamp) AS first_ts, max(timestamp) AS last_ts, count(*) AS n
                    FROM events WHERE archive_id = ? GROUP BY session_id
                ) s USING (session_id) LEFT JOIN (
                    SELECT session_id,
                           arg_min(json_extract_string(data, '$.href'),
                                   coalesce(timestamp, 9223372036854775807)) AS first_url
                    FROM events WHERE archive_id = ? AND type = 4 GROUP BY session_id
                ) u USING (session_id)""", [aid, aid, aid])
        finally:
            con.execute("DROP TABLE IF EXISTS import_metas")
        for meta in self._metas.values():
            for alias in meta.aliases:
                if meta.subject and alias != meta.subject:
                    self._identities.append(
                        (IdentityRecord(meta.subject, alias, meta.origin), "person"))
        self._insert_rows("consent", [
            [aid, c.subject, c.action, c.at_ms, c.scope, c.source, c.location]
            for c in self._consent])
        seen: set[tuple[str, str]] = set()
        identity_rows = []
        for record, origin in self._identities:
            if (record.subject, record.alias) not in seen:
                seen.add((record.subject, record.alias))
                identity_rows.append([aid, record.subject, record.alias, origin, record.location])
        self._insert_rows("identities", identity_rows)
        problems = self.problems
        self._insert_rows("import_problems",
                          [[aid, p.location, p.reason, p.count] for p in problems])
        con.execute("""UPDATE archives SET
                         sessions = (SELECT count(*) FROM sessions WHERE archive_id = ?),
                         events = (SELECT count(*) FROM events WHERE archive_id = ?),
                         problems = ? WHERE archive_id = ?""",
                    [aid, aid, sum(p.count for p in problems), aid])
        self.cancel.check()
        con.execute("COMMIT")
        self._txn = False

    def abort(self) -> None:
        if self._txn:
            self._txn = False
            # A connection that is gone or already rolled back has committed nothing either.
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")

    @property
    def problems(self) -> list[Problem]:
        return self._problems + list(self._notes.values())

    @property
    def session_count(self) -> int:
        return len(self._metas)

    # -- internals ------------------------------------------------------------------------
    def _note(self, location: str, reason: str) -> None:
        self._add_note(self.location, location, reason, 1)

    def _add_note(self, source: str, location: str, reason: str, count: int) -> None:
        key = (source, reason)
        known = self._notes.get(key)
        if known is None:
            label = location if count == 1 else f"{location} (first of {count:,})"
            self._notes[key] = Problem(label, reason, count)
        else:
            known.count += count
            known.location = known.location.split(" (first of")[0] + \
                f" (first of {known.count:,})"

    def _begin(self) -> None:
        if not self._txn:
            if self._before_write is not None:
                check, self._before_write = self._before_write, None
                check()
            self.con.execute("BEGIN TRANSACTION")
            self._txn = True

    def _flush(self) -> None:
        rows = self._rows
        if not rows["seq"]:
            return
        self.cancel.check()
        self._begin()
        batch = _arrow_batch(rows)
        self.con.register("import_batch", batch)
        try:
            self.con.execute(
                f"INSERT INTO events SELECT {self.archive_id}, session_id, seq, timestamp, type, "
                "source, window_id, data, byte_length FROM import_batch")
        finally:
            self.con.unregister("import_batch")
        self.events += batch.num_rows
        self._rows = {name: [] for name in EVENT_COLUMNS}
        if self._on_flush:
            self._on_flush(self.events)

    def _insert_rows(self, table: str, rows: list[list]) -> None:
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


@contextlib.contextmanager
def _optimistic_writes(con: duckdb.DuckDBPyConnection, enabled: bool) -> Iterator[None]:
    """DuckDB's ``enable_optimistic_write`` (a database-wide setting) for one statement.

    Set and restored through a cursor of its own: an interrupt (Cancel) left pending on ``con``
    must not stop the restore.
    """
    settings = con.cursor()
    try:
        before = settings.execute(
            "SELECT current_setting('enable_optimistic_write')").fetchone()[0]
        if before != enabled:
            settings.execute(f"SET GLOBAL enable_optimistic_write = {str(enabled).lower()}")
        try:
            yield
        finally:
            if before != enabled:
                settings.execute(f"SET GLOBAL enable_optimistic_write = {str(before).lower()}")
    finally:
        settings.close()


def _arrow_batch(rows: dict[str, list]):
    import pyarrow as pa  # only the line-by-line path needs Arrow; the bulk path stays lean

    schema = pa.schema([
        ("session_id", pa.string()), ("seq", pa.int64()), ("timestamp", pa.int64()),
        ("type", pa.int16()), ("source", pa.int16()), ("window_id", pa.string()),
        ("data", pa.string()), ("byte_length", pa.int32()),
    ])
    return pa.table(rows, schema=schema)
