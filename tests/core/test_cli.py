"""``inspector import`` and ``inspector sessions`` on the real fixtures, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from inspector.cli import main

from .support import FIXTURES

# Event counts as the fixtures' README documents them (an oracle independent of our readers).
DOCUMENTED = {
    "rrweb-player-demoit.json": 272,
    "posthog-homepage.json": 720,
    "posthog-mobile-homepage.json": 942,
    "posthog-wide-layout.json": 489,
    "posthog-with-pageviews.json": 178,
    "posthog-local-docs.json": 108,
    "rrweb-test-console-plugin.json": 23,
    "rrweb-test-privacy-recordings.json": 48 + 48 + 28 + 4 + 6 + 4 + 5 + 19,
}


def test_import_rrweb_fixtures_folder(tmp_path: Path, capsys) -> None:
    db = tmp_path / "db.duckdb"
    assert main(["import", str(FIXTURES / "rrweb"), "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    got = {Path(a["path"]).name: a for a in report["archives"]}
    assert {name: a["events"] for name, a in got.items()} == DOCUMENTED
    assert got["rrweb-test-privacy-recordings.json"]["sessions"] == 8
    # The console-plugin and privacy recordings have no timestamps: kept, and counted.
    assert got["rrweb-test-console-plugin.json"]["problems"] == 23
    assert main(["sessions", "--db", str(db), "--json"]) == 0
    sessions = json.loads(capsys.readouterr().out)["sessions"]
    assert len(sessions) == 7 + 8
    homepage = next(s for s in sessions if s["session_id"] == "posthog-homepage")
    assert homepage["events"] == 720 and homepage["first_url"].startswith("http")


def test_import_posthog_fixtures_folder(tmp_path: Path, capsys) -> None:
    db = tmp_path / "db.duckdb"
    assert main(["import", str(FIXTURES / "posthog"), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count("imported ") == 6
    assert "skipped " in out and "recording_meta.json" in out
    assert main(["sessions", "--db", str(db)]) == 0
    table = capsys.readouterr().out
    assert "187d7c7619e1d62-0a36a9481897db-1d525634-384000-187d7c7619f3d4f"[:36] in table


def test_sessions_on_an_empty_database(tmp_path: Path, capsys) -> None:
    assert main(["sessions", "--db", str(tmp_path / "new.duckdb")]) == 0
    assert "no sessions imported yet" in capsys.readouterr().out


def test_entry_point_runs_headless_without_qt(tmp_path: Path) -> None:
    code = ("import sys, inspector.cli as c; rc = c.main(['sessions', '--db', sys.argv[1]]); "
            "assert 'PySide6' not in sys.modules; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.duckdb")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_unreadable_database_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "not-a-db.duckdb"
    bogus.write_bytes(b"this is not a database" * 100)
    assert main(["sessions", "--db", str(bogus)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bogus) in err[0]
    assert bogus.read_bytes() == b"this is not a database" * 100


def test_default_database_lives_in_the_user_data_folder(tmp_path: Path, capsys) -> None:
    # conftest points XDG_DATA_HOME at a private folder for every test.
    import os

    data_home = Path(os.environ["XDG_DATA_HOME"])
    path = FIXTURES / "rrweb" / "posthog-local-docs.json"
    assert main(["import", str(path)]) == 0
    assert (data_home / "session-replay-inspector" / "inspector.duckdb").is_file()
    assert main(["sessions", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["sessions"][0]["events"] == 108
