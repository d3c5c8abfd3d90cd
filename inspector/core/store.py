"""The embedded DuckDB database every other part reads: archives, sessions, events, consent.

One :class:`Store` owns one connection; other threads use :meth:`Store.cursor`. Every value is
bound as a parameter. Event ``data`` is kept as compact JSON text, zstd-compressed on disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import platformdirs

from .errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS archive_ids START 1;
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS archives (
    archive_id INTEGER PRIMARY KEY,
    path VARCHAR NOT NULL,          -- the path the user gave, absolute
    sha256 VARCHAR NOT NULL UNIQUE, -- of the original bytes (a folder: see docs/archive-format.md)
    format VARCHAR NOT NULL,        -- replay-archive, rrweb-json, rrweb-ndjson, posthog-export...
    size_bytes BIGINT,
    imported_at TIMESTAMPTZ NOT NULL,
    exporter VARCHAR,
    exported_at VARCHAR,
    sessions INTEGER NOT NULL,
    events BIGINT NOT NULL,
    problems BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    archive_id INTEGER NOT NULL,
    session_id VARCHAR NOT NULL,
    subject VARCHAR,                -- the person's key (user id, distinct id)
    device VARCHAR,                 -- the device key, when the container gives one
    origin VARCHAR,                 -- file or member the events came from
    windows INTEGER NOT NULL,       -- distinct window ids (1 when the format has none)
    first_ts BIGINT,                -- epoch ms
    last_ts BIGINT,
    events BIGINT NOT NULL,
    first_url VARCHAR,              -- href of the first Meta event in time order
    PRIMARY KEY (archive_id, session_id)
);
CREATE TABLE IF NOT EXISTS events (
    archive_id INTEGER NOT NULL,
    session_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,            -- 0-based position in the session's source order
    timestamp BIGINT,               -- epoch ms; NULL when the source had none usable
    type SMALLINT NOT NULL,
    source SMALLINT,                -- data.source of incremental snapshots
    window_id VARCHAR,
    data VARCHAR USING COMPRESSION zstd,  -- the event's data as compact JSON
    byte_length INTEGER NOT NULL    -- bytes of data as stored
);
CREATE TABLE IF NOT EXISTS consent (
    archive_id INTEGER NOT NULL,
    subject VARCHAR NOT NULL,
    action VARCHAR NOT NULL,        -- opt_out | opt_in
    at_ms BIGINT NOT NULL,
    scope VARCHAR,
    source VARCHAR,
    location VARCHAR
);
CREATE TABLE IF NOT EXISTS identities (
    archive_id INTEGER NOT NULL,
    subject VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,        -- identities file, or the vendor's person record
    location VARCHAR
);
CREATE TABLE IF NOT EXISTS import_problems (
    archive_id INTEGER NOT NULL,
    location VARCHAR NOT NULL,      -- file, member, line or index
    reason VARCHAR NOT NULL,
    count BIGINT NOT NULL           -- rows this problem stands for (conversions are summed)
);
CREATE TABLE IF NOT EXISTS custody (  -- hash-chained log of operations (inspector.core.custody)
    entry BIGINT PRIMARY KEY,       -- 1, 2, 3... in the order appended
    "at" VARCHAR NOT NULL,          -- ISO-8601 UTC, milliseconds
    tool_version VARCHAR NOT NULL,
    operation VARCHAR NOT NULL,     -- import, audit, redact, report, bundle...
    inputs VARCHAR NOT NULL,        -- JSON [{"path", "sha256"}]
    outputs VARCHAR NOT NULL,       -- JSON [{"path", "sha256"}]
    details VARCHAR NOT NULL,       -- JSON object
    prev_hash VARCHAR NOT NULL,     -- the previous entry's hash (64 zeros for the first)
    hash VARCHAR NOT NULL           -- sha256 of this entry's fields and prev_hash
);
"""


def default_db_path() -> Path:
    """The per-user database used when no ``--db`` is given."""
    return Path(platformdirs.user_data_dir("session-replay-inspector", appauthor=False)) / \
        "inspector.duckdb"


class Store:
    """An open database. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else default_db_path()
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise InputError(f"cannot open the database ({_first_line(exc)})", path=str(self.path),
                             hint="check that it is a DuckDB file not open in another program"
                             ) from exc
        if not read_only:
            self._migrate()

    def _migrate(self) -> None:
        self.con.execute(SCHEMA)
        rows = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        found = rows[0] if rows else None
        if found is None:
            self.con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        elif int(found[0]) != SCHEMA_VERSION:
            raise InputError(f"has schema version {found[0]}, this tool reads {SCHEMA_VERSION}",
                             path=str(self.path), hint="use a new database file (--db)")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries every front end needs ----------------------------------------------------
    def archives(self) -> pa.Table:
        return self.con.sql("SELECT * FROM archives ORDER BY archive_id").to_arrow_table()

    def sessions(self) -> pa.Table:
        return self.con.sql(
            "SELECT s.*, a.path AS archive_path FROM sessions s JOIN archives a USING (archive_id) "
            "ORDER BY s.first_ts NULLS LAST, s.archive_id, s.session_id").to_arrow_table()

    def problems(self, archive_id: int | None = None) -> pa.Table:
        if archive_id is None:
            return self.con.sql("SELECT * FROM import_problems").to_arrow_table()
        return self.con.execute("SELECT * FROM import_problems WHERE archive_id = ?",
                                [archive_id]).to_arrow_table()

    def count(self, table: str) -> int:
        if table not in {"archives", "sessions", "events", "consent", "identities",
                         "import_problems"}:
            raise ValueError(table)
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
