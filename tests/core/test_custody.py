"""The custody log: imports and audits append to it, and a changed, removed or reordered entry
is found and named; ``inspector log`` says so in its output and exit status."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from inspector.core import custody
from inspector.core.audit import run_audit
from inspector.core.cancel import CancelToken
from inspector.core.errors import Cancelled
from inspector.core.importer import import_paths
from inspector.core.sources import sha256_file
from inspector.core.store import Store, default_db_path

from .support import meta, move, write_ndjson
from .test_bundle import SAMPLE, cli

T0 = 1_710_000_000_000


def recording(path: Path, n: int = 20, seed: int = 0) -> Path:
    return write_ndjson(path, [meta(T0 + seed)] + [move(T0 + seed + i * 10, i)
                                                   for i in range(1, n)])


@pytest.fixture(scope="module")
def logged_once(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("logged")
    db = folder / "db.duckdb"
    with Store(db) as store:
        import_paths(store, [SAMPLE])
        run_audit(store, tolerance_ms=250)
        import_paths(store, [recording(folder / "more.ndjson")])
    return db


@pytest.fixture
def logged(logged_once: Path, tmp_path: Path) -> Path:
    """A database of its own whose log holds an import, an audit and a second import."""
    return Path(shutil.copy(logged_once, tmp_path / "db.duckdb"))


def test_import_and_audit_append_entries(logged: Path) -> None:
    with Store(logged) as store:
        log = custody.entries(store)
        archives = store.con.execute("SELECT path, sha256 FROM archives ORDER BY archive_id"
                                     ).fetchall()
        verdict = custody.check(store)
    assert [e.operation for e in log] == ["import", "audit", "import"]
    first, audit, second = log
    assert first.inputs == [{"path": str(SAMPLE), "sha256": archives[0][1]}]
    assert first.details == {"archives": 1, "sessions": 15, "events": 7853, "problems": 1}
    assert audit.inputs == [{"path": archives[0][0], "sha256": archives[0][1]}]
    assert audit.details["tolerance_ms"] == 250
    assert audit.details["sessions"] == 15 and audit.details["flagged_sessions"] >= 1
    assert audit.details["flagged_events"] > 0
    assert second.inputs == [{"path": archives[1][0], "sha256": archives[1][1]}]
    assert [e.prev_hash for e in log] == [custody.GENESIS, first.hash, audit.hash]
    assert verdict.intact and verdict.entries == 3 and verdict.head == second.hash


def test_an_import_of_nothing_new_or_cancelled_appends_nothing(tmp_path: Path) -> None:
    path = recording(tmp_path / "a.ndjson")
    with Store(tmp_path / "db.duckdb") as store:
        import_paths(store, [path])
        again = import_paths(store, [path])  # a duplicate: nothing imported
        assert again.archives[0].status == "duplicate"
        token = CancelToken()

        def progress(p) -> None:
            if p.fraction == 1.0:  # every archive done: cancelled just before the entry
                token.cancel()

        with pytest.raises(Cancelled):
            import_paths(store, [recording(tmp_path / "b.ndjson", seed=7)], progress=progress,
                         cancel=token)
        assert store.count("archives") == 1
        assert [e.operation for e in custody.entries(store)] == ["import"]


def _tamper(db: Path, sql: str, params: list) -> custody.ChainCheck:
    with Store(db) as store:
        store.con.execute(sql, params)
        return custody.check(store)


def test_a_changed_field_is_found_and_named(logged: Path) -> None:
    verdict = _tamper(logged, "UPDATE custody SET details = ? WHERE entry = 2",
                      ['{"flagged_events":0,"tolerance_ms":250}'])
    assert not verdict.intact and verdict.broken_at == 2
    assert "entry 2 (audit at" in verdict.reason and "changed" in verdict.reason


@pytest.mark.parametrize("column, value", [("inputs", "[]"), ("outputs", '[{"path":"x"}]'),
                                            ("tool_version", "9.9"), ("operation", "redact")])
def test_any_column_changed_breaks_the_chain(logged: Path, column: str, value: str) -> None:
    verdict = _tamper(logged, f"UPDATE custody SET {column} = ? WHERE entry = 1", [value])
    assert verdict.broken_at == 1


def test_a_deleted_entry_is_found(logged: Path) -> None:
    verdict = _tamper(logged, "DELETE FROM custody WHERE entry = ?", [2])
    assert verdict.broken_at == 2 and "entry 2 is missing" in verdict.reason


def test_reordered_entries_are_found(logged: Path) -> None:
    verdict = _tamper(logged, "UPDATE custody SET entry = CASE entry WHEN 2 THEN 3 ELSE 2 END "
                              "WHERE entry IN (2, 3)", [])
    assert verdict.broken_at == 2 and "does not follow entry 1" in verdict.reason


def test_a_removed_newest_entry_leaves_a_shorter_intact_chain_with_another_head(
        logged: Path) -> None:
    with Store(logged) as store:
        head = custody.check(store).head
    verdict = _tamper(logged, "DELETE FROM custody WHERE entry = ?", [3])
    assert verdict.intact and verdict.entries == 2 and verdict.head != head


def test_check_entries_checks_a_log_kept_as_json(logged: Path) -> None:
    with Store(logged) as store:
        log = [e.as_json() for e in custody.entries(store)]
    assert custody.check_entries(orjson.loads(orjson.dumps(log))).intact
    log[1]["details"]["flagged_events"] += 1
    assert custody.check_entries(log).broken_at == 2


def test_inspector_log_prints_the_log_and_its_verdict(logged: Path, capsys) -> None:
    assert cli("log", "--db", str(logged)) == 0
    out = capsys.readouterr().out
    assert out.count("\n#") == 2 and out.startswith("#1 ")
    assert str(SAMPLE) in out and "tolerance_ms=250" in out
    assert "custody log: 3 entries, chain intact" in out
    assert cli("log", "--db", str(logged), "--json") == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["check"]["intact"] and len(data["entries"]) == 3
    _tamper(logged, "UPDATE custody SET \"at\" = ? WHERE entry = 3", ["2020-01-01T00:00:00.000Z"])
    assert cli("log", "--db", str(logged)) == 1
    assert "chain BROKEN at entry 3" in capsys.readouterr().out


def test_inspector_log_of_a_bad_database_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "not.duckdb"
    bad.write_bytes(b"not a database at all" * 100)
    assert cli("log", "--db", str(bad)) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("inspector: error: ") and str(bad) in line


def test_bundle_entries_are_kept_in_the_user_log(tmp_path: Path, capsys) -> None:
    out = tmp_path / "evidence.zip"
    assert cli("bundle", str(SAMPLE), "-o", str(out)) == 0
    capsys.readouterr()
    with Store(None) as store:  # the user's database (a private folder in tests)
        log = custody.entries(store)
        assert custody.check(store).intact
    assert [e.operation for e in log][-1] == "bundle" and "import" in [e.operation for e in log]
    bundle_entry = log[-1]
    assert bundle_entry.inputs[0]["path"] == str(SAMPLE)
    assert bundle_entry.outputs[0]["path"] == str(out)
    assert bundle_entry.details["copied_from"]["database"] == "the bundle's own database"


def test_a_busy_user_database_warns_and_the_command_succeeds(tmp_path: Path, capsys) -> None:
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        out = tmp_path / "evidence.zip"
        assert cli("bundle", str(SAMPLE), "-o", str(out)) == 0
        err = capsys.readouterr().err
        assert err.startswith("inspector: warning: ") and str(path) in err
        assert "custody log" in err and len(err.splitlines()) == 1
        assert out.is_file()
    finally:
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    with Store(None) as store:
        assert custody.entries(store) == []


def test_record_in_user_log_copies_entries_with_their_origin(tmp_path: Path) -> None:
    with Store(tmp_path / "temp.duckdb") as temp:
        import_paths(temp, [recording(tmp_path / "a.ndjson")])
        log = custody.entries(temp)
    assert custody.record_in_user_log(log) is None
    with Store(None) as store:
        (copy,) = custody.entries(store)
    assert copy.operation == "import" and copy.inputs == log[0].inputs
    assert copy.details["copied_from"] == {"database": "a temporary database", "entry": 1,
                                           "at": log[0].at, "hash": log[0].hash}


def test_an_audit_in_a_temporary_database_is_kept_in_the_user_log(capsys) -> None:
    assert cli("audit", str(SAMPLE)) == 1  # something flagged
    capsys.readouterr()
    with Store(None) as store:
        log = custody.entries(store)
    assert [e.operation for e in log] == ["import", "audit"]
    assert all(e.details["copied_from"]["database"] == "a temporary database" for e in log)
    assert log[0].inputs[0]["path"] == str(SAMPLE)


def test_a_redaction_is_recorded_with_its_input_and_every_output_file(tmp_path: Path,
                                                                       capsys) -> None:
    db = tmp_path / "log.duckdb"
    out = tmp_path / "copy.zip"
    assert cli("redact", str(SAMPLE), "-o", str(out), "--mask-pii", "--db", str(db)) == 0
    capsys.readouterr()
    with Store(db) as store:
        (entry,) = custody.entries(store)
        assert custody.check(store).intact
    assert entry.operation == "redact"
    assert entry.inputs == [{"path": str(SAMPLE), "sha256": sha256_file(SAMPLE)}]
    assert entry.outputs == [{"path": str(out), "sha256": sha256_file(out)}]
    assert entry.details["mask_pii"] is True and entry.details["flagged_removed"] > 0
