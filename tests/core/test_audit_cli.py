"""``inspector audit`` end to end: imports, consent and identity files, exit status, output."""

from __future__ import annotations

import orjson
import pytest

from inspector.cli import main
from inspector.core.store import Store, default_db_path

from .test_audit_support import Archive, Session, T, click, clicks, opt_out

KEYS = {"sessions", "events", "flagged_events", "undetermined_events", "people_opted_out",
        "tolerance_ms", "findings", "flagged"}


@pytest.fixture(autouse=True)
def _private_user_data(tmp_path, monkeypatch):
    """The per-user default database lives under tmp_path during these tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))


def archive(tmp_path, consent=()):
    return Archive([Session("s1", clicks(0, 100, 200), subject="u-1", device="dev-1"),
                    Session("s2", [click(T + 300), click(None)], subject="u-2")],
                   consent=list(consent)).write(tmp_path / "archive")


def run(capsys, *argv):
    code = main(["audit", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_flagged_events_exit_1_and_json_lists_them(tmp_path, capsys):
    path = archive(tmp_path, [opt_out("u-1", T + 100)])
    code, out, err = run(capsys, path, "--json", "--tolerance-ms", "5")
    assert (code, err) == (1, "")
    document = orjson.loads(out)
    assert set(document) >= KEYS
    assert document["tolerance_ms"] == 5
    assert [(f["session_id"], f["seq"], f["category"]) for f in document["flagged"]] == \
        [("s1", 2, "pointer_scroll")]
    assert document["findings"][0]["consent"][0]["key"] == "u-1"


def test_nothing_flagged_exits_0_even_with_undetermined_events(tmp_path, capsys):
    code, out, _ = run(capsys, archive(tmp_path, [opt_out("u-2", T + 400)]))
    assert code == 0
    assert "undetermined (no usable timestamp): 1 event" in out
    assert "tolerance 0 ms" in out


def test_paths_without_db_go_to_a_temporary_database(tmp_path, capsys):
    code, _, _ = run(capsys, archive(tmp_path, [opt_out("u-1", T)]))
    assert code == 1
    # Only the custody log outlives the temporary database: the user's log says what was done.
    with Store(default_db_path()) as store:
        con = store.cursor()
        assert con.execute("SELECT count(*) FROM archives").fetchone() == (0,)
        operations = [r[0] for r in con.execute(
            "SELECT operation FROM custody ORDER BY entry").fetchall()]
        con.close()
    assert operations == ["import", "audit"]


def test_without_paths_the_database_is_audited_as_it_is(tmp_path, capsys):
    db = tmp_path / "db.duckdb"
    assert main(["import", str(archive(tmp_path, [opt_out("u-1", T)])), "--db", str(db)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "--db", db, "--json")
    assert code == 1
    assert orjson.loads(out)["flagged_events"] == 3


def test_consent_and_identity_files_apply_and_are_stored_once(tmp_path, capsys):
    db = tmp_path / "db.duckdb"
    consent = tmp_path / "ledger.csv"
    consent.write_text("subject,action,at,scope,source\n"
                       f"crm-1,opt_out,{T + 100},replay,crm\n"
                       f"crm-1,opt_in,2024-03-09T16:00:00.150+00:00,,crm\n", encoding="utf-8")
    identities = tmp_path / "links.ndjson"
    identities.write_text('{"subject": "crm-1", "alias": "dev-1"}\n', encoding="utf-8")
    for _ in range(2):
        code, out, _ = run(capsys, archive(tmp_path), "--db", db, "--consent", consent,
                           "--identities", identities, "--json")
        assert code == 1
        # 2024-03-09T16:00:00.150Z is T + 150: only the click at T + 100 is in between.
        assert [f["seq"] for f in orjson.loads(out)["flagged"]] == [1]
    with Store(db) as store:
        assert store.count("consent") == 2 and store.count("identities") == 1
        formats = sorted(row[0] for row in store.con.execute(
            "SELECT format FROM archives").fetchall())
    assert formats == ["consent-file", "identities-file", "replay-archive"]


def test_a_bad_row_names_file_and_line_and_adds_nothing(tmp_path, capsys):
    db = tmp_path / "db.duckdb"
    consent = tmp_path / "ledger.ndjson"
    consent.write_text(f'{{"subject": "u-1", "action": "opt_out", "at": {T}}}\n\n'
                       f'{{"subject": "u-1", "action": "unsubscribe", "at": {T}}}\n',
                       encoding="utf-8")
    code, _, err = run(capsys, archive(tmp_path), "--db", db, "--consent", consent)
    assert code == 2
    assert err.count("\n") == 1
    assert str(consent) in err and "line 3" in err and "unsubscribe" in err
    with Store(db) as store:
        assert store.count("consent") == 0


@pytest.mark.parametrize(("content", "reason"), [
    ("subject,when\nu-1,123\n", "no action, at column"),
    ('{"subject": "u-1", "action": "opt_out", "at": "2024-03-09T16:00:00"}\n', "UTC offset"),
    ("", "holds no consent records"),
])
def test_unusable_consent_files_are_errors(tmp_path, capsys, content, reason):
    consent = tmp_path / "ledger.txt"
    consent.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "--db", tmp_path / "db.duckdb", "--consent", consent)
    assert code == 2
    assert reason in err


def test_the_same_file_cannot_be_both_ledger_and_identities(tmp_path, capsys):
    links = tmp_path / "links.csv"
    links.write_text("subject,alias\nu-1,dev-1\n", encoding="utf-8")
    db = tmp_path / "db.duckdb"
    assert run(capsys, "--db", db, "--identities", links)[0] == 0
    code, _, err = run(capsys, "--db", db, "--consent", links)
    assert code == 2 and "already imported as identities-file" in err


def test_a_path_that_fails_to_import_is_an_error(tmp_path, capsys):
    code, out, err = run(capsys, tmp_path / "missing.zip")
    assert code == 2
    assert "does not exist" in err and out == ""


def test_a_negative_tolerance_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["audit", "--db", str(tmp_path / "db.duckdb"), "--tolerance-ms", "-5"])
    assert stop.value.code == 2
    assert "cannot be negative" in capsys.readouterr().err
