"""Bring files, folders and archives into the store: the one way in for CLI, app and tests.

Each archive (a file the user named, a zip, a replay-archive folder, or each file found in a
plain folder) is imported in its own transaction, identified by the sha256 of its original
bytes so the same export is never stored twice. A file that cannot be read is reported and the
others still import. Cancelling rolls back the archive in progress and removes the ones this
call already committed, so a cancelled import leaves the database as it was. A call that
imported something appends one entry to the custody log once its archives have committed.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import custody, formats
from .archive_writer import ArchiveWriter
from .cancel import CancelToken
from .errors import Cancelled, InputError, SkipFile
from .formats import replay_archive
from .gcpause import no_cycle_collection
from .records import Problem
from .sources import DEFAULT_LIMITS, Limits, Source, ZipArchive, is_zip, sha256_file
from .store import Store


@dataclass
class ArchiveResult:
    path: str
    status: str = "imported"  # imported | duplicate | skipped | failed
    sha256: str | None = None
    format: str | None = None
    sessions: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    archive_id: int | None = None

    def as_json(self) -> dict:
        return {"path": self.path, "status": self.status, "sha256": self.sha256,
                "format": self.format, "sessions": self.sessions, "events": self.events,
                "problems": sum(p.count for p in self.problems),
                "problem_details": [{"location": p.location, "reason": p.reason, "count": p.count}
                                    for p in self.problems],
                **({"error": self.error} if self.error else {}),
                **({"archive_id": self.archive_id} if self.archive_id is not None else {})}


@dataclass
class ImportReport:
    archives: list[ArchiveResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ArchiveResult]:
        return [a for a in self.archives if a.status == "failed"]

    def as_json(self) -> dict:
        return {"archives": [a.as_json() for a in self.archives]}


@dataclass
class ImportProgress:
    """Where an import stands; ``fraction`` is by bytes of the inputs, 0..1."""

    path: str
    index: int  # 0-based archive number
    total: int
    events: int
    fraction: float


@dataclass
class _Unit:
    path: Path
    kind: str  # file | zip | archive
    size: int


def import_paths(store: Store | duckdb.DuckDBPyConnection, paths: Sequence[str | os.PathLike[str]],
                 *, progress: Callable[[ImportProgress], None] | None = None,
                 cancel: CancelToken | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> ImportReport:
    """Import every path; raises :class:`Cancelled` (database unchanged) when cancelled."""
    cancel = cancel or CancelToken()
    con = store.cursor()
    report = ImportReport()
    units: list[_Unit] = []
    for path in paths:
        try:
            units.extend(_expand(Path(path), limits))
        except InputError as exc:
            report.archives.append(ArchiveResult(str(path), "failed", error=str(exc)))
    total_bytes = max(1, sum(unit.size for unit in units))
    done_bytes = 0
    committed: list[int] = []
    remove_interrupt = cancel.on_cancel(con.interrupt)
    try:
        for index, unit in enumerate(units):
            cancel.check()

            def flushed(events: int, unit: _Unit = unit, index: int = index,
                        base: int = done_bytes) -> None:
                if progress:
                    progress(ImportProgress(str(unit.path), index, len(units), events,
                                            min(1.0, base / total_bytes)))

            flushed(0)
            with no_cycle_collection():  # a JSON document is millions of small objects
                result = _import_unit(con, unit, cancel, flushed, limits)
            report.archives.append(result)
            if result.archive_id is not None and result.status == "imported":
                committed.append(result.archive_id)
            done_bytes += unit.size
            if progress:
                progress(ImportProgress(str(unit.path), index, len(units), result.events,
                                        min(1.0, done_bytes / total_bytes)))
        cancel.check()
        _record(con, report)
    except (Cancelled, duckdb.InterruptException) as exc:
        remove_interrupt()
        # An interrupt that arrived between statements stays pending on ``con``; clean up
        # through a connection of its own so that it cannot stop the removal too.
        cleanup = con.cursor()
        try:
            _remove_archives(cleanup, committed)
        finally:
            cleanup.close()
        raise Cancelled() from exc
    finally:
        remove_interrupt()
        con.close()
    return report


def _record(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """One custody entry for the call, after its archives committed (none if nothing new)."""
    imported = [a for a in report.archives if a.status == "imported"]
    if not imported:
        return
    statuses = [a.status for a in report.archives]
    custody.append(con, "import", inputs=[(a.path, a.sha256) for a in imported], details={
        "archives": len(imported), "sessions": sum(a.sessions for a in imported),
        "events": sum(a.events for a in imported),
        "problems": sum(p.count for a in imported for p in a.problems),
        **{status: statuses.count(status) for status in ("duplicate", "skipped", "failed")
           if status in statuses}})


def _expand(path: Path, limits: Limits) -> Iterator[_Unit]:
    if not path.exists():
        raise InputError("does not exist", path=str(path), hint="check the path")
    path = path.resolve()
    if path.is_dir():
        if replay_archive.is_archive(path):
            yield _Unit(path, "archive", _tree_size(path))
            return
        found = False
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                if filename.startswith("."):
                    continue
                yield from _expand(Path(dirpath) / filename, limits)
                found = True
        if not found:
            raise InputError("is a folder with no files in it", path=str(path))
        return
    if not os.access(path, os.R_OK):
        raise InputError("cannot be read (permission denied)", path=str(path))
    size = path.stat().st_size
    if is_zip(path):
        yield _Unit(path, "archive" if replay_archive.is_archive(path) else "zip", size)
    else:
        yield _Unit(path, "file", size)


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _import_unit(con: duckdb.DuckDBPyConnection, unit: _Unit, cancel: CancelToken,
                 flushed: Callable[[int], None], limits: Limits) -> ArchiveResult:
    result = ArchiveResult(str(unit.path))
    # The sha256 is computed on another thread while the reader works; the duplicate check
    # runs just before the first write. A file of a size no stored archive has cannot be a
    # duplicate: its first write (DuckDB's reader taking a whole NDJSON file) need not wait
    # for its hash, which is awaited only when the archive is recorded.
    hasher = _Hasher(unit.path)
    archive_id = con.execute("SELECT nextval('archive_ids')").fetchone()[0]

    def check_duplicate() -> None:
        if unit.kind != "archive" and con.execute(
                "SELECT count(*) FROM archives WHERE size_bytes = ?", [unit.size]
        ).fetchone() == (0,):
            return
        result.sha256 = hasher.result()
        known = con.execute("SELECT archive_id FROM archives WHERE sha256 = ?",
                            [result.sha256]).fetchone()
        if known:
            raise _Duplicate(known[0])

    writer = ArchiveWriter(con, archive_id, cancel=cancel, on_flush=flushed,
                           before_write=check_duplicate)
    try:
        return _read_unit(unit, writer, result, hasher, limits)
    finally:
        hasher.join()


def _read_unit(unit: _Unit, writer: ArchiveWriter, result: ArchiveResult, hasher: _Hasher,
               limits: Limits) -> ArchiveResult:
    archive_id = writer.archive_id
    exporter = exported_at = None
    try:
        if unit.kind == "archive":
            tree = replay_archive.Tree(unit.path, limits)
            try:
                info = replay_archive.read(tree, writer)
            finally:
                tree.close()
            result.format, exporter, exported_at = replay_archive.NAME, info.exporter, \
                info.exported_at
        elif unit.kind == "zip":
            result.format = _read_zip_bundle(unit.path, writer, limits)
        else:
            source = Source(str(unit.path), path=unit.path, limits=limits)
            reader, _ = formats.detect(source)
            writer.location = source.name
            reader.read(source, writer)
            result.format = reader.NAME
        if writer.session_count == 0:
            raise InputError("contains no sessions", path=str(unit.path),
                             hint="nothing to import")
        writer.finish(path=str(unit.path), sha256=hasher.result(), fmt=result.format,
                      size=unit.size, exporter=exporter, exported_at=exported_at)
    except _Duplicate as exc:
        writer.abort()
        result.status = "duplicate"
        result.archive_id = exc.archive_id
        result.error = (f"already imported as archive {exc.archive_id} (same sha256); "
                        "not imported again")
        return result
    except SkipFile as exc:
        writer.abort()
        result.status = "skipped"
        result.error = str(exc)
        return result
    except (Cancelled, duckdb.InterruptException):
        writer.abort()
        raise
    except InputError as exc:
        writer.abort()
        return _failed(result, exc)
    except (OSError, MemoryError, duckdb.Error) as exc:
        writer.abort()
        return _failed(result, InputError(f"could not be imported ({_one_line(exc)})",
                                          path=str(unit.path)))
    except Exception as exc:  # a bug of ours: still one line for the user, details kept
        writer.abort()
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return _failed(result, InputError(
            f"could not be imported: internal error {type(exc).__name__}: {_one_line(exc)} "
            f"at {Path(where.filename).name}:{where.lineno}", path=str(unit.path),
            hint="please report this with the file"))
    result.sha256 = hasher.result()
    result.archive_id = archive_id
    result.sessions = writer.session_count
    result.events = writer.events
    result.problems = writer.problems
    return result


class _Duplicate(Exception):
    def __init__(self, archive_id: int) -> None:
        super().__init__(archive_id)
        self.archive_id = archive_id


class _Hasher:
    """sha256 of a file (or a folder archive) computed on a background thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._value: str | None = None
        self._error: InputError | None = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = (replay_archive.folder_sha256(self._path) if self._path.is_dir()
                           else sha256_file(self._path))
        except OSError as exc:
            self._error = InputError(f"cannot be read ({exc.strerror or exc})",
                                     path=str(self._path))

    def join(self) -> None:
        self._thread.join()

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def _read_zip_bundle(path: Path, writer: ArchiveWriter, limits: Limits) -> str:
    """A zip of recordings without a manifest: every member read on its own."""
    bundle = ZipArchive(path, limits)
    try:
        members = bundle.members()
        sources = [bundle.source(info) for info in members]  # refuses unsafe names up front
        names: set[str] = set()
        for source in sources:
            writer.location = source.name
            try:
                reader, _ = formats.detect(source)
                reader.read(source, writer)
                names.add(reader.NAME)
            except SkipFile as exc:
                writer.problem(source.name, f"skipped: {exc.reason}")
            except InputError as exc:  # one bad member does not stop the others
                writer.problem(source.name, f"not imported: {exc.reason}")
        return "zip:" + ",".join(sorted(names)) if names else "zip"
    finally:
        bundle.close()


def _failed(result: ArchiveResult, exc: InputError) -> ArchiveResult:
    result.status = "failed"
    result.error = str(exc)
    return result


def _remove_archives(con: duckdb.DuckDBPyConnection, archive_ids: Iterable[int]) -> None:
    ids = list(archive_ids)
    if not ids:
        return
    con.execute("BEGIN TRANSACTION")
    for table in ("events", "sessions", "consent", "identities", "import_problems", "archives"):
        con.execute(f"DELETE FROM {table} WHERE archive_id IN (SELECT unnest(?))", [ids])
    con.execute("COMMIT")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
