"""The demo archive's audit finds exactly what its generator planted (sample_data/expected.json).

expected.json is written by sample_data/make_sample.py from its own plan (each event labelled
as it is generated), not by this audit; tests/core/test_sample_data.py checks it on its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from inspector.core.audit import run_audit
from inspector.core.audit.content import PII_KINDS
from inspector.core.importer import import_paths
from inspector.core.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result(tmp_path_factory, expected):
    archive = SAMPLE / expected["archive"]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == expected["archive_sha256"], \
        "expected.json does not describe this demo-archive.zip: run sample_data/make_sample.py"
    with Store(tmp_path_factory.mktemp("sample") / "sample.duckdb") as store:
        report = import_paths(store, [archive])
        assert [a.status for a in report.archives] == ["imported"]
        return run_audit(store)


def test_every_session_is_flagged_exactly_as_planted(result, expected):
    mine: dict[str, list[int]] = {}
    for row in result.flagged.to_pylist():
        mine.setdefault(row["session_id"], []).append(row["seq"])
    for session in expected["sessions"]:
        assert sorted(mine.get(session["session_id"], [])) == session["flagged_seqs"], \
            f"{session['person']} {session['session_id']}: {session['planted']}"
    assert set(mine) == {s["session_id"] for s in expected["sessions"] if s["flagged_seqs"]}


def test_findings_match_the_plan(result, expected):
    findings = {f.session_id: f for f in result.findings}
    for session in expected["sessions"]:
        found = findings.get(session["session_id"])
        if not session["flagged_seqs"] and not session["undetermined_seqs"]:
            assert found is None, session["session_id"]
            continue
        where = f"{session['person']} {session['session_id']}"
        assert found.undetermined_seqs == session["undetermined_seqs"], where
        assert sorted(found.by_category) == session["categories"], where
        assert [k for k in PII_KINDS if k in found.pii] == session["pii_kinds"], where
        assert found.flagged_events == len(session["flagged_seqs"]), where
        people = expected["people"][session["person"]]
        assert found.person in people["subjects"] + people["devices"], where


def test_totals_match_the_plan(result, expected):
    totals = expected["totals"]
    assert result.sessions == totals["sessions"]
    assert result.flagged_events == totals["flagged_events"]
    assert result.flagged_sessions == totals["flagged_sessions"]
    assert result.undetermined_events == totals["undetermined_events"]
    by_category: dict[str, int] = {}
    for found in result.findings:
        for name in found.by_category:
            by_category[name] = by_category.get(name, 0) + 1
    assert by_category == totals["sessions_by_category"]
    kinds = {kind for found in result.findings for kind in found.pii}
    assert [k for k in PII_KINDS if k in kinds] == totals["pii_kinds"]
