"""Every kind of bad input: a clear one-line message naming the file and place, exit status 2
for a file that cannot be read at all, the good rows of a damaged file imported, the input
never modified, the database unchanged by a failed file, nothing written beside it."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
import zlib
from pathlib import Path

import orjson
import pytest

from inspector.cli import main
from inspector.core.importer import import_paths
from inspector.core.sources import Limits
from inspector.core.store import Store

from .support import FIXTURES, counts, digest, meta, move, write_ndjson

T0 = 1_700_000_000_000
EVENTS = [meta(T0)] + [move(T0 + i * 10, i) for i in range(1, 40)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database that already holds one archive, so 'unchanged' means something."""
    path = tmp_path / "db" / "inspector.duckdb"
    path.parent.mkdir()
    with Store(path) as store:
        import_paths(store, [write_ndjson(tmp_path / "good.ndjson", EVENTS)])
    return path


def run_import(db: Path, *paths: Path, capsys) -> tuple[int, str, str]:
    code = main(["import", *map(str, paths), "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(db: Path, path: Path, capsys, *phrases: str) -> str:
    before, original = counts(db), digest(path) if path.is_file() else None
    code, _, err = run_import(db, path, capsys=capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # one line, no traceback
    assert "Traceback" not in err
    assert str(path) in lines[0]
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert counts(db) == before
    if original is not None:
        assert digest(path) == original
    assert sorted(p.name for p in db.parent.iterdir()) == ["inspector.duckdb"]
    return lines[0]


def test_truncated_gzip(tmp_path, db, capsys):
    whole = gzip.compress(b"".join(orjson.dumps(e) + b"\n" for e in EVENTS * 50), mtime=0)
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(whole[: len(whole) // 2])
    assert_refused(db, path, capsys, "truncated")


def test_truncated_zip(tmp_path, db, capsys):
    good = tmp_path / "whole.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.ndjson", b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
    path = tmp_path / "cut.zip"
    path.write_bytes(good.read_bytes()[:-30])
    assert_refused(db, path, capsys, "not a readable zip archive")


def test_invalid_json_lines_and_wrong_types_are_problems(tmp_path, db, capsys):
    lines = [orjson.dumps(e) for e in EVENTS[:5]]
    lines.insert(2, b'{"type": 3, "data": {"source": 1, ')  # cut line
    lines.insert(4, b'{"type": "mouse", "data": {}, "timestamp": 1700000000000}')
    lines.insert(5, b'[1, 2, 3]')
    path = tmp_path / "damaged.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    before = counts(db)
    code, out, _ = run_import(db, path, capsys=capsys)
    assert code == 0
    assert "5 events" in out
    assert f"{path} line 3: invalid JSON" in out
    assert f"{path} line 5: 'type' is \"mouse\"" in out
    assert f"{path} line 6: expected an event object, found an array" in out
    after = counts(db)
    assert after["events"] == before["events"] + 5
    assert after["import_problems"] == before["import_problems"] + 3


def _archive(tmp_path: Path, *, drop_member=False, tamper=False, name="arch.zip") -> Path:
    body = b"".join(orjson.dumps(e) + b"\n" for e in EVENTS)
    manifest = {"format": "replay-archive", "version": 1, "exported_at": "2026-01-01T00:00:00Z",
                "exporter": "test", "sessions": [{
                    "session_id": "s1", "path": "sessions/s1.ndjson",
                    "sha256": hashlib.sha256(body).hexdigest(), "events": len(EVENTS),
                    "subject": "u-1"}]}
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        if not drop_member:
            zf.writestr("sessions/s1.ndjson", body.replace(b'"x":1,', b'"x":2,') if tamper
                        else body)
    return path


def test_valid_archive_imports(tmp_path, db, capsys):
    code, out, _ = run_import(db, _archive(tmp_path), capsys=capsys)
    assert code == 0 and "replay-archive, 1 sessions, 40 events" in out


def test_manifest_naming_a_missing_member(tmp_path, db, capsys):
    assert_refused(db, _archive(tmp_path, drop_member=True), capsys,
                   "names 'sessions/s1.ndjson', which is not in the archive")


def test_sha256_mismatch(tmp_path, db, capsys):
    line = assert_refused(db, _archive(tmp_path, tamper=True), capsys, "sha256 mismatch")
    assert "sessions/s1.ndjson" in line


def test_empty_file(tmp_path, db, capsys):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert_refused(db, path, capsys, "is empty")


def test_binary_garbage(tmp_path, db, capsys):
    path = tmp_path / "garbage.json"
    path.write_bytes(bytes(range(256)) * 64)
    assert_refused(db, path, capsys, "binary data, not a recording")


@pytest.mark.parametrize("name", ["privacyDefault-fullsnapshot.json",
                                  "privacyBlock-fullsnapshot.json"])
def test_a_json_template_is_refused_with_where_it_breaks(db, capsys, name):
    # Sentry's fixtures are test templates: "timestamp": [timestamp] is not JSON.
    line = assert_refused(db, FIXTURES / "sentry" / name, capsys, "is not valid JSON (line ")
    assert "column 17" in line


def test_a_lone_event_is_not_a_recording(tmp_path, db, capsys):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(meta(T0), indent=2))  # several lines: not NDJSON
    assert_refused(db, path, capsys, "is a single rrweb event", "wrap it in [ ... ]")


def test_json_of_another_shape(tmp_path, db, capsys):
    path = tmp_path / "other.json"
    path.write_text('{\n  "hello": "world"\n}\n')
    assert_refused(db, path, capsys, "is JSON but not a recording format")


@pytest.mark.parametrize("member", ["/etc/evil.ndjson", "../../evil.ndjson", "a/../../evil.ndjson"])
def test_zip_members_escaping_the_archive(tmp_path, db, capsys, member):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.ndjson", b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
        zf.writestr(zipfile.ZipInfo(member), b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
    line = assert_refused(db, path, capsys, "unsafe member")
    assert member in line
    assert not (tmp_path / "evil.ndjson").exists() and not Path("/etc/evil.ndjson").exists()


def test_zip_bomb_is_refused_by_declared_ratio(tmp_path, db, capsys):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.ndjson", b" " * (200 * 1024 * 1024))
    assert_refused(db, path, capsys, "zip bomb")


def test_zip_bomb_with_lying_header_is_stopped_while_streaming(tmp_path, db, capsys):
    # The header claims a small member; the data inflates far beyond it.
    payload = b"\n" * (150 * 1024 * 1024)
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.ndjson", payload)
    raw = bytearray(path.read_bytes())
    size = len(payload).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    raw = bytes(raw).replace(size, small)  # local header and central directory
    path.write_bytes(raw)
    code, _, err = run_import(db, path, capsys=capsys)
    assert code == 2 and "Traceback" not in err and str(path) in err


def test_gzip_bomb(tmp_path, db):
    path = tmp_path / "bomb.ndjson.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\n" * (1024 * 1024)
    body = compressor.compress(orjson.dumps(EVENTS[0]) + b"\n")
    body += b"".join(compressor.compress(chunk) for _ in range(300)) + compressor.flush()
    path.write_bytes(body)
    before, original = counts(db), digest(path)
    # A lower floor for the ratio check keeps the test quick; the guard is the same code.
    with Store(db) as store:
        report = import_paths(store, [path], limits=Limits(ratio_floor_bytes=2 * 1024 * 1024))
    (archive,) = report.archives
    assert archive.status == "failed"
    assert archive.error.startswith(f"{path}: expands more than 200x")
    assert "decompression bomb" in archive.error
    assert counts(db) == before and digest(path) == original


def test_monster_line_is_skipped_with_a_problem(tmp_path):
    # The guard's limit is a parameter; a small one exercises it without gigabytes of test data.
    path = tmp_path / "monster.ndjson"
    huge = {"type": 5, "data": {"tag": "x", "payload": "y" * 3_000_000}, "timestamp": T0}
    path.write_bytes(orjson.dumps(EVENTS[0]) + b"\n" + orjson.dumps(huge) + b"\n"
                     + orjson.dumps(EVENTS[1]) + b"\n")
    with Store(tmp_path / "db.duckdb") as store:
        report = import_paths(store, [path], limits=Limits(max_line_bytes=1_000_000))
        archive = report.archives[0]
        assert archive.status == "imported" and archive.events == 2
        assert any(p.location == f"{path} line 2" and "longer than 1,000,000 bytes" in p.reason
                   for p in archive.problems)


def test_one_bad_file_does_not_stop_the_others(tmp_path, db, capsys):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\x00\x01garbage")
    good = write_ndjson(tmp_path / "other.ndjson", [meta(T0 + 5), *EVENTS[1:5]])
    before = counts(db)
    code, out, err = run_import(db, bad, good, capsys=capsys)
    assert code == 2
    assert f"imported {good}" in out
    assert str(bad) in err and "Traceback" not in err
    assert counts(db)["events"] == before["events"] + 5


def test_missing_path(tmp_path, db, capsys):
    assert_refused(db, tmp_path / "nope.json", capsys, "does not exist")


def test_json_json_import_output(tmp_path, db, capsys):
    path = write_ndjson(tmp_path / "j.ndjson", [meta(T0 + 9), *EVENTS[1:3]])
    code = main(["import", str(path), "--db", str(db), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    (archive,) = payload["archives"]
    assert {"path", "sha256", "format", "sessions", "events", "problems"} <= archive.keys()
    assert archive["events"] == 3 and archive["sha256"] == digest(path)
