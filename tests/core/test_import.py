"""The import pipeline end to end: real files, a real DuckDB file, the bulk and line paths."""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

from inspector.core import archive_writer
from inspector.core.cancel import CancelToken
from inspector.core.errors import Cancelled
from inspector.core.importer import import_paths
from inspector.core.store import Store

from .support import counts, meta, move, write_ndjson

T0 = 1_700_000_000_000


def numbered_events(n: int, *, shuffle_time: bool = True, seed: int = 3) -> list[dict]:
    """Events whose data carries their line index, with timestamps out of file order."""
    rng = random.Random(seed)
    events = [meta(T0)]
    for i in range(1, n):
        ts = T0 + (rng.randrange(n * 10) if shuffle_time else i * 10)
        events.append({"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": i, "i": i},
                       "timestamp": ts})
    events[0]["data"]["i"] = 0
    return events


@pytest.mark.parametrize("numbering", ["in memory", "streamed"])
def test_bulk_path_keeps_source_order_as_seq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             numbering: str) -> None:
    if numbering == "streamed":  # what a file too large to hold in memory takes
        monkeypatch.setattr(archive_writer, "BULK_IN_MEMORY_BYTES", 0)
    # Large enough for DuckDB to split the file into several buffers read in parallel.
    path = write_ndjson(tmp_path / "big.ndjson", numbered_events(150_000))
    earlier = write_ndjson(tmp_path / "earlier.ndjson", numbered_events(5_000, seed=4))
    with Store(tmp_path / "db.duckdb") as store:
        import_paths(store, [earlier])  # rows before ours, some deleted: row ids with holes
        store.con.execute("DELETE FROM events WHERE seq % 3 = 0")
        report = import_paths(store, [path])
        assert report.archives[0].status == "imported"
        assert report.archives[0].events == 150_000
        aid = report.archives[0].archive_id
        wrong = store.con.execute(
            "SELECT count(*) FROM events WHERE archive_id = ? "
            "AND seq <> CAST(data->>'$.i' AS BIGINT)", [aid]).fetchone()[0]
        assert wrong == 0
        assert store.con.execute("SELECT min(seq), max(seq) FROM events WHERE archive_id = ?",
                                 [aid]).fetchone() == (0, 149_999)
        # DuckDB's database-wide setting is as it was
        assert store.con.execute(
            "SELECT current_setting('enable_optimistic_write')").fetchone() == (True,)


def test_bulk_and_line_paths_store_the_same_rows(tmp_path: Path) -> None:
    events = [
        *numbered_events(3_000),
        {"type": 3, "data": {"positions": [{"x": 1, "y": 2, "id": 3, "timeOffset": -5}],
                             "source": 1}, "timestamp": T0 + 5},  # source not first
        {"type": 5, "data": {"tag": "x"}, "timestamp": 1_700_000_100},  # seconds
        {"type": 5, "data": {"tag": "y"}},  # no timestamp
    ]
    plain = write_ndjson(tmp_path / "a.ndjson", events)
    # A zip member cannot be handed to DuckDB, so it takes the line-by-line path.
    bundle = tmp_path / "b.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("a.ndjson", plain.read_bytes())
    with Store(tmp_path / "db.duckdb") as store:
        import_paths(store, [plain, bundle])
        rows = store.con.execute(
            "SELECT archive_id, session_id, seq, timestamp, type, source, window_id, data, "
            "byte_length FROM events ORDER BY archive_id, seq").fetchall()
        first = [r[1:] for r in rows if r[0] == 1]
        second = [r[1:] for r in rows if r[0] == 2]
        assert len(first) == len(events)
        assert first == second
        problems = store.con.execute(
            "SELECT archive_id, reason, count FROM import_problems ORDER BY ALL").fetchall()
        assert (1, "no timestamp", 1) in problems and (2, "no timestamp", 1) in problems
        assert (1, "timestamp in seconds converted to milliseconds", 1) in problems
        assert store.con.execute(
            "SELECT timestamp FROM events WHERE data = '{\"tag\":\"x\"}'").fetchall() == \
            [(1_700_000_100_000,), (1_700_000_100_000,)]


def test_ndjson_grouped_by_session_id_field(tmp_path: Path) -> None:
    events = []
    for i in range(30):
        sid = ["s-a", "s-b", "s-c"][i % 3]
        events.append({**move(T0 + i, i), "sessionId": sid})
    for path in (write_ndjson(tmp_path / "m.ndjson", events),
                 write_ndjson(tmp_path / "m.ndjson.gz", events, compress=True)):
        with Store(tmp_path / f"{path.name}.duckdb") as store:
            import_paths(store, [path])
            sessions = store.con.execute(
                "SELECT session_id, events, first_ts FROM sessions ORDER BY 1").fetchall()
            assert sessions == [("s-a", 10, T0), ("s-b", 10, T0 + 1), ("s-c", 10, T0 + 2)]
            seqs = store.con.execute(
                "SELECT list(seq ORDER BY timestamp) FROM events WHERE session_id = 's-b'"
            ).fetchone()[0]
            assert seqs == list(range(10))


def test_same_archive_twice_is_not_duplicated(tmp_path: Path) -> None:
    path = write_ndjson(tmp_path / "a.ndjson", numbered_events(100))
    copy = tmp_path / "copy.ndjson"
    copy.write_bytes(path.read_bytes())
    with Store(tmp_path / "db.duckdb") as store:
        first = import_paths(store, [path])
        again = import_paths(store, [copy])
        assert first.archives[0].status == "imported"
        assert again.archives[0].status == "duplicate"
        assert "already imported" in again.archives[0].error
        assert store.count("events") == 100 and store.count("archives") == 1


def test_cancel_rolls_back_everything_of_the_call(tmp_path: Path) -> None:
    small = write_ndjson(tmp_path / "small.ndjson", numbered_events(50, seed=1))
    big = tmp_path / "big.zip"  # a zip member is read line by line, with many cancel checks
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.ndjson", b"".join(orjson.dumps(e) + b"\n"
                                           for e in numbered_events(120_000, seed=2)))
    db = tmp_path / "db.duckdb"
    with Store(db) as store:
        import_paths(store, [write_ndjson(tmp_path / "before.ndjson", numbered_events(7, seed=9))])
    before = counts(db)
    token = CancelToken()

    def progress(p) -> None:
        if p.index == 1 and p.events > 0:
            token.cancel()

    with Store(db) as store, pytest.raises(Cancelled):
        import_paths(store, [small, big], progress=progress, cancel=token)
    assert counts(db) == before


def test_killed_import_leaves_database_as_it_was(tmp_path: Path) -> None:
    big = tmp_path / "big.ndjson.gz"
    big.write_bytes(gzip.compress(b"".join(orjson.dumps(e) + b"\n"
                                           for e in numbered_events(400_000, seed=4)),
                                  compresslevel=1))
    bundle = tmp_path / "big.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.write(big, "big.ndjson.gz")
    db = tmp_path / "db.duckdb"
    with Store(db) as store:
        import_paths(store, [write_ndjson(tmp_path / "before.ndjson", numbered_events(5))])
    before = counts(db)
    # The child says when it is well into the work (a quarter of the events read, none of them
    # committed) and waits for nothing: it is killed while it goes on.
    driver = ("import sys\n"
              "from inspector.core.importer import import_paths\n"
              "from inspector.core.store import Store\n"
              "def progress(p):\n"
              "    if p.events >= 100_000:\n"
              "        print('working', flush=True)\n"
              "with Store(sys.argv[2]) as store:\n"
              "    import_paths(store, [sys.argv[1]], progress=progress)\n"
              "print('done', flush=True)\n")
    child = subprocess.Popen([sys.executable, "-c", driver, str(bundle), str(db)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "working", child.stderr.read()
    child.kill()
    child.wait()
    child.stdout.close()
    child.stderr.close()
    assert counts(db) == before


def test_progress_reports_fraction_and_events(tmp_path: Path) -> None:
    paths = [write_ndjson(tmp_path / f"f{i}.ndjson", numbered_events(200, seed=i))
             for i in range(3)]
    seen = []
    with Store(tmp_path / "db.duckdb") as store:
        import_paths(store, paths, progress=seen.append)
    assert seen[-1].fraction == pytest.approx(1.0)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)
    assert {p.index for p in seen} == {0, 1, 2}
