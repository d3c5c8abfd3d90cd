"""Real recordings (../shared/fixtures) audited against consent records made here.

The expected flagged counts are computed in the test from the fixture's JSON (each event's
instants: its timestamp, or its positions' timestamp + timeOffset), not by the audit.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from inspector.core.audit import run_audit
from inspector.core.audit.ledger import add_records_file
from inspector.core.importer import import_paths
from inspector.core.store import Store

from .support import FIXTURES
from .test_audit_support import Archive, Session, audit, opt_out

POSTHOG_EXPORTS = [
    "export-187d7c7619e1d62-0a36a9481897db-1d525634-384000-187d7c7619f3d4f-ph-recording.json",
    "posthog-export-v1-2022-12-02.ph-recording.json",
]
MOVES = (1, 6, 12)


def instants(event: dict) -> list[float]:
    data = event.get("data") or {}
    if event["type"] == 3 and data.get("source") in MOVES and data.get("positions"):
        return [event["timestamp"] + p.get("timeOffset", 0) for p in data["positions"]]
    return [event["timestamp"]]


def expected_flagged(events: list[dict], start: int, end: float = float("inf")) -> int:
    return sum(1 for e in events if any(start <= t < end for t in instants(e)))


def posthog_events(document: dict) -> list[dict]:
    data = document["data"]
    if "snapshots" in data:
        return data["snapshots"]
    return [e for window in data["snapshotsByWindowId"].values() for e in window]


def write_lines(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


@pytest.mark.parametrize("name", POSTHOG_EXPORTS)
def test_a_posthog_export_is_audited_through_its_persons_distinct_id(tmp_path, name):
    path = FIXTURES / "posthog" / name
    document = orjson.loads(path.read_bytes())
    events = posthog_events(document)
    distinct_id = document["data"]["person"]["distinct_ids"][0]
    times = sorted(e["timestamp"] for e in events)
    middle = (times[0] + times[-1]) // 2
    # The export carries no consent: the ledger names the customer's CRM id, which an
    # identities file links to the PostHog distinct id.
    consent = write_lines(tmp_path / "consent.ndjson",
                          [opt_out("crm-4711", middle, scope="replay", source="crm")])
    identities = write_lines(tmp_path / "identities.ndjson",
                             [{"subject": "crm-4711", "alias": distinct_id}])
    with Store(tmp_path / "db.duckdb") as store:
        assert not import_paths(store, [path]).failed
        add_records_file(store, identities, "identities")
        add_records_file(store, consent, "consent")
        result = run_audit(store)
    want = expected_flagged(events, middle)
    assert 0 < want < len(events)
    assert result.flagged_events == want
    (found,) = result.findings
    assert found.person == "crm-4711"
    assert found.consent[0].links == [{"via": "subject", "path": [distinct_id, "crm-4711"]}]
    assert found.consent[0].location.endswith("consent.ndjson line 1")


def rrweb_fixture(name: str) -> list[dict]:
    document = orjson.loads((FIXTURES / "rrweb" / name).read_bytes())
    return document["result"] if isinstance(document, dict) else document


def test_a_wrapped_rrweb_recording_is_flagged_from_the_middle_on(tmp_path):
    events = rrweb_fixture("posthog-wide-layout.json")
    middle = (events[0]["timestamp"] + events[-1]["timestamp"]) // 2
    archive = Archive([Session("wide", events, subject="u-wide", device="dev-w")],
                      consent=[opt_out("u-wide", middle)])
    result = audit(tmp_path, archive)
    want = expected_flagged(events, middle)
    assert 0 < want < len(events)
    assert result.flagged_events == want
    assert result.undetermined_events == 0


def test_the_wide_layout_recording_leaks_a_password_and_a_card_in_its_urls(tmp_path):
    # Opt out at the page load whose URL carries ?username=...&password=..., opt back in
    # before the end: the credentials and ?creditcard=... URLs are captured while opted out.
    events = rrweb_fixture("posthog-wide-layout.json")
    loads = [e for e in events if e["type"] == 4]
    start = next(e["timestamp"] for e in loads if "password=" in e["data"]["href"])
    end = loads[-1]["timestamp"]
    archive = Archive([Session("wide", events, subject="u-wide")],
                      consent=[opt_out("u-wide", start), {"subject": "u-wide",
                                                          "action": "opt_in", "at": end}])
    result = audit(tmp_path, archive)
    assert result.flagged_events == expected_flagged(events, start, end)
    found = result.findings[0]
    assert {"password", "card"} <= set(found.pii)
    assert found.pages_after_opt_out == [
        "https://posthog-revert-2477-rev-9tm5r0.herokuapp.com/demo/2?username=…&password=…",
        "https://posthog-revert-2477-rev-9tm5r0.herokuapp.com/demo/3?creditcard=…"]
    assert found.severity == "high"
    text = orjson.dumps(result.as_json()).decode() + result.as_text()
    assert "password=pass" not in text and "999999" not in text


def test_a_recording_without_timestamps_is_all_undetermined(tmp_path):
    events = rrweb_fixture("rrweb-test-console-plugin.json")
    assert all("timestamp" not in e for e in events)
    archive = Archive([Session("console", events, subject="u-c")],
                      consent=[opt_out("u-c", 1_600_000_000_000)])
    result = audit(tmp_path, archive)
    assert result.flagged_events == 0
    assert result.undetermined_events == len(events)
    assert result.findings[0].undetermined_seqs == list(range(len(events)))


def test_a_bare_rrweb_file_has_no_keys_so_no_ledger_record_reaches_it(tmp_path):
    # A bare event stream names no person or device; its session id is not a key.
    path = FIXTURES / "rrweb" / "rrweb-player-demoit.json"
    with Store(tmp_path / "db.duckdb") as store:
        assert not import_paths(store, [path]).failed
        (session_id,), = store.con.execute("SELECT session_id FROM sessions").fetchall()
        consent = write_lines(tmp_path / "consent.ndjson", [opt_out(session_id, 1)])
        add_records_file(store, consent, "consent")
        result = run_audit(store)
    assert result.flagged_events == 0 and result.findings == []
