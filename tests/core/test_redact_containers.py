"""A redacted copy in every container: same shape, audits clean, re-imports, personal data gone.

Each test writes a recording (or takes a real one), redacts it, then treats the copy as an
auditor would: ``inspector audit`` must exit 0 (with the carried ledger), the importer must
read it, and with ``--mask-pii`` nothing planted may be left while ordinary text stays.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import orjson
import pytest

from inspector.core.formats.replay_archive import folder_sha256
from inspector.core.redact import redact
from inspector.core.sources import sha256_file

from .support import FIXTURES
from .test_audit_support import T, click, link, opt_out, typed
from .test_redact_support import (
    CARD,
    EMAIL,
    assert_no_pii_found,
    assert_no_planted_data,
    audit_exit,
    imported,
    marker,
    ndjson,
    packed,
    planted,
    posthog_compressed,
    posthog_export,
    session_with_opt_out,
    sidecar_ledger,
    typed_values,
    write_archive,
    zip_folder,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "demo-archive.zip"
EXPECTED = Path(__file__).resolve().parents[2] / "sample_data" / "expected.json"


def archive_with_opt_out(root: Path, **options) -> tuple[Path, int]:
    events, at = session_with_opt_out()
    return write_archive(root, [("s1", events, {"subject": "u-1", "device": "dev-1"}),
                                ("s2", planted(T + 60_000), {"subject": "u-2"})],
                         consent=[opt_out("anon-1", at)], identities=[link("u-1", "anon-1")],
                         **options), at


# -- replay archives -------------------------------------------------------------------------

def test_replay_archive_folder_masked(tmp_path, capsys):
    source, at = archive_with_opt_out(tmp_path / "src", encodings={"s2": ".ndjson.gz"})
    assert audit_exit(capsys, source) == 1
    out = tmp_path / "out"
    result = redact(source, out, mask_pii=True)
    assert out.is_dir() and result.out == out
    assert audit_exit(capsys, out) == 0
    assert_no_planted_data(tmp_path, out)
    assert_no_pii_found(tmp_path, out)
    copy = imported(tmp_path, out)
    first = [data for _, _, data, _ in copy["events"]["s1"]]
    # Everything from the opt-out on is gone; the batch straddling it keeps what came before.
    assert len(first) == len(session_with_opt_out()[0]) - 3
    batch = next(d for d in first if d.get("source") == 1)
    assert [p["timeOffset"] for p in batch["positions"]] == [-40, -30]
    assert "after the opt-out" not in orjson.dumps(first).decode()
    # The session without an opt-out keeps every event, masked; its file stays gzip.
    assert len(copy["events"]["s2"]) == len(planted(T))
    assert typed_values(copy, "s2")[:3] == ["[EMAIL]"] * 3
    assert (out / "sessions" / "s2.ndjson.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert copy["sessions"] == {"s1": ("u-1", "dev-1"), "s2": ("u-2", None)}
    # The ledger travels: the copy has the opt-out and the link that makes it apply.
    assert orjson.loads((out / "consent.ndjson").read_bytes()) == \
        {"subject": "anon-1", "action": "opt_out", "at": at}
    assert orjson.loads((out / "identities.ndjson").read_bytes()) == link("u-1", "anon-1")
    record = orjson.loads((out / "redaction.json").read_bytes())
    assert record["source"]["sha256"] == folder_sha256(source)
    assert record["files"] == {p.relative_to(out).as_posix(): sha256_file(p)
                               for p in sorted(out.rglob("*"))
                               if p.is_file() and p.name != "redaction.json"}
    assert record["counts"]["removed"]["flagged"] == 3
    assert record["counts"]["removed"]["positions"] == {"batches_trimmed": 1,
                                                        "positions_removed": 2}
    assert record["counts"]["masked"]["by_kind"]["email"] > 0
    for value in (EMAIL, CARD):
        assert value not in (out / "redaction.json").read_text()


def test_replay_archive_zip_keeps_json_session_files(tmp_path, capsys):
    folder, _ = archive_with_opt_out(tmp_path / "src", encodings={"s2": ".json"})
    source = zip_folder(folder, tmp_path / "src.zip")
    out = tmp_path / "copy.zip"
    redact(source, out)
    assert zipfile.is_zipfile(out)
    with zipfile.ZipFile(out) as bundle:
        names = sorted(bundle.namelist())
        second = orjson.loads(bundle.read("sessions/s2.json"))
    assert names == ["consent.ndjson", "identities.ndjson", "manifest.json", "redaction.json",
                     "sessions/s1.ndjson", "sessions/s2.json"]
    assert second == planted(T + 60_000)  # nothing flagged there, nothing masked: as it was
    assert audit_exit(capsys, out) == 0
    record = orjson.loads(zipfile.ZipFile(out).read("redaction.json"))
    assert record["source"]["sha256"] == sha256_file(source)


def _sample_copy_matches_source(tmp_path: Path, source: Path, out: Path, record: dict) -> None:
    """Each copied session is its source minus what the audit flagged (expected.json) and the
    few dependent events the record counts; the batch straddling an opt-out keeps a prefix."""
    expected = {s["session_id"]: s for s in orjson.loads(EXPECTED.read_bytes())["sessions"]}
    original = imported(tmp_path, source, "original")["events"]
    copy = imported(tmp_path, out)["events"]
    assert set(copy) == {sid for sid, s in expected.items() if len(s["flagged_seqs"]) +
                         len(s["undetermined_seqs"]) < s["events"]}
    dropped = 0
    for sid, rows in copy.items():
        gone = set(expected[sid]["flagged_seqs"]) | set(expected[sid]["undetermined_seqs"])
        kept = [(seq, data) for seq, _, data, _ in original[sid] if seq not in gone]
        trimmed = [(seq, data) for seq, _, data, _ in original[sid]
                   if seq in gone and data.get("source") == 1]
        copied = [data for _, _, data, _ in rows]
        queue = sorted(kept + trimmed, key=lambda item: item[0])
        position = 0
        for seq, data in queue:
            if position < len(copied) and copied[position] == data:
                position += 1
            elif position < len(copied) and seq in gone and \
                    copied[position].get("positions", [None])[0] == data["positions"][0]:
                position += 1  # the straddling batch, cut short
            elif seq not in gone:
                dropped += 1  # depended on a removed event
        assert position == len(copied), sid
    assert dropped == record["counts"]["removed"]["dependent"]["events"]


def test_sample_archive_zip(tmp_path, capsys):
    out = tmp_path / "redacted.zip"
    result = redact(SAMPLE, out)
    assert audit_exit(capsys, out) == 0
    record = orjson.loads(zipfile.ZipFile(out).read("redaction.json"))
    expected = orjson.loads(EXPECTED.read_bytes())["totals"]
    assert record["counts"]["removed"]["undetermined"] == expected["undetermined_events"]
    assert record["counts"]["removed"]["flagged"] + \
        record["counts"]["removed"]["positions"]["batches_trimmed"] == expected["flagged_events"]
    assert result.sessions_out == 12
    _sample_copy_matches_source(tmp_path, SAMPLE, out, record)


def test_sample_archive_folder_masked(tmp_path, capsys):
    folder = tmp_path / "demo"
    with zipfile.ZipFile(SAMPLE) as bundle:
        bundle.extractall(folder)
    out = tmp_path / "redacted"
    result = redact(folder, out, mask_pii=True)
    assert out.is_dir() and (out / "manifest.json").is_file()
    assert audit_exit(capsys, out) == 0
    assert_no_pii_found(tmp_path, out)
    text = orjson.dumps(imported(tmp_path, out)["events"]).decode()
    assert "Fernhill Outdoor" in text and "Add to basket" in text
    assert "alice.moreau" not in text.lower()
    masked = result.record["counts"]["masked"]["by_kind"]
    assert {"email", "phone", "card", "password"} <= set(masked)


# -- rrweb JSON and NDJSON -------------------------------------------------------------------

def _with_marker() -> tuple[list[dict], int]:
    events, at = session_with_opt_out()
    position = next(i for i, e in enumerate(events) if e.get("timestamp", 0) >= at - 50)
    events.insert(position, marker(at - 60, "opt_out"))
    return events, at


@pytest.mark.parametrize("shape", ["array", "events", "result", "by_session"])
def test_rrweb_json_shapes(tmp_path, capsys, shape):
    events, _ = _with_marker()
    other = planted(T + 60_000)
    document = {"array": events, "events": {"sessionId": "s1", "events": events},
                "result": {"result": events, "next": None},
                "by_session": {"s1": events, "s2": other, "empty": []}}[shape]
    source = tmp_path / "recording.json"
    source.write_bytes(orjson.dumps(document))
    assert audit_exit(capsys, source) == 1
    out = tmp_path / "copy.json"
    redact(source, out, mask_pii=True)
    copied = orjson.loads(out.read_bytes())
    assert type(copied) is type(document)
    if isinstance(document, dict):
        assert set(copied) == set(document) - {"empty"}
    assert audit_exit(capsys, out) == 0
    assert_no_planted_data(tmp_path, out)
    assert Path(f"{out}.redaction.json").is_file()
    copy = imported(tmp_path, out)
    first = next(iter(copy["events"].values()))
    assert first[-1][2]["tag"] == "consent"  # the marker stays; all after it is gone


def test_packed_events_stay_packed(tmp_path, capsys):
    events, _ = _with_marker()
    source = tmp_path / "packed.json"
    source.write_bytes(orjson.dumps([packed(e) for e in events]))
    out = tmp_path / "copy.json"
    redact(source, out, mask_pii=True)
    copied = orjson.loads(out.read_bytes())
    assert all(isinstance(e, str) for e in copied)
    assert audit_exit(capsys, out) == 0
    assert_no_planted_data(tmp_path, out)


def test_ndjson_bulk_copy_equals_line_by_line_copy(tmp_path):
    events, at = session_with_opt_out()
    events += [typed(at + 500, 22, "back again"), click(at + 600, 40)]
    consent = tmp_path / "consent.ndjson"
    consent.write_bytes(ndjson([opt_out("u-1", at), {**opt_out("u-1", at + 400),
                                                     "action": "opt_in"}]))
    folder = write_archive(tmp_path / "plain", [("s1", events, {"subject": "u-1"})])
    packed_folder = write_archive(tmp_path / "gz", [("s1", events, {"subject": "u-1"})],
                                  encodings={"s1": ".ndjson.gz"})
    redact(folder, tmp_path / "plain-out", consent=consent)
    redact(packed_folder, tmp_path / "gz-out", consent=consent)
    plain = (tmp_path / "plain-out" / "sessions" / "s1.ndjson").read_bytes()
    unpacked = gzip.decompress((tmp_path / "gz-out" / "sessions" / "s1.ndjson.gz").read_bytes())
    assert plain == unpacked
    kept = [orjson.loads(line) for line in plain.splitlines()]
    assert [e["data"].get("text") for e in kept if e["data"].get("source") == 5][-1] == \
        "back again"


def test_ndjson_file_with_sessions_by_line(tmp_path, capsys):
    first, _ = _with_marker()
    lines = [{**e, "session_id": "a"} for e in first] + \
            [{**e, "sessionId": "b"} for e in planted(T + 60_000)]
    source = tmp_path / "mixed.ndjson"
    source.write_bytes(ndjson(lines) + b"\n{not json\n")
    out = tmp_path / "out.ndjson"
    result = redact(source, out, mask_pii=True)
    assert audit_exit(capsys, out) == 0
    assert_no_planted_data(tmp_path, out)
    copy = imported(tmp_path, out)
    assert set(copy["events"]) == {"a", "b"}
    assert result.record["counts"]["removed"]["unreadable_records"] == 1
    assert all(b'"session_id":"a"' in line or b'"sessionId":"b"' in line
               for line in out.read_bytes().splitlines())


# -- PostHog ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2023-04-28", "2022-12-02"])
def test_posthog_export(tmp_path, capsys, version):
    events, at = session_with_opt_out()
    source = tmp_path / "export.ph-recording.json"
    source.write_bytes(orjson.dumps(posthog_export(events, version=version,
                                                   person_ids=["ph-user", "anon-ph"])))
    consent = tmp_path / "consent.ndjson"
    consent.write_bytes(ndjson([opt_out("anon-ph", at)]))
    assert audit_exit(capsys, source, "--consent", str(consent)) == 1
    out = tmp_path / "copy.ph-recording.json"
    redact(source, out, consent=consent, mask_pii=True)
    copied = orjson.loads(out.read_bytes())
    assert copied["version"] == version
    assert copied["data"]["person"]["distinct_ids"] == ["ph-user", "anon-ph"]
    assert copied["data"]["person"]["properties"]["email"] == "[EMAIL]"
    if version == "2023-04-28":
        assert {e["windowId"] for e in copied["data"]["snapshots"]} == {"w-1"}
    assert audit_exit(capsys, out, *sidecar_ledger(tmp_path, out)) == 0
    assert_no_planted_data(tmp_path, out)
    assert list(imported(tmp_path, out)["sessions"].values()) == [("ph-user", None)]


@pytest.mark.parametrize("shape", ["pairs", "windows"])
def test_posthog_blob_lines_with_compressed_events(tmp_path, capsys, shape):
    events, _ = _with_marker()
    events = [posthog_compressed(e) for e in events]
    if shape == "pairs":
        body = ndjson([["w-1", e] for e in events])
    else:
        body = ndjson([{"window_id": "w-1", "data": events[:20]},
                       {"window_id": "w-1", "data": events[20:]}])
    source = tmp_path / "blob.jsonl"
    source.write_bytes(body)
    out = tmp_path / "copy.jsonl"
    redact(source, out, mask_pii=True)
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    if shape == "pairs":
        assert all(isinstance(line, list) and line[0] == "w-1" for line in lines)
        copied = [line[1] for line in lines]
    else:
        assert all(set(line) == {"window_id", "data"} for line in lines)
        copied = [e for line in lines for e in line["data"]]
    assert [e.get("cv") for e in copied if e["type"] == 2] == ["2024-10"]
    assert isinstance(next(e for e in copied if e["type"] == 2)["data"], str)
    assert audit_exit(capsys, out) == 0
    assert_no_planted_data(tmp_path, out)


def test_posthog_blob_beside_its_metadata_keeps_its_person_in_the_record(tmp_path, capsys):
    folder = tmp_path / "ph"
    folder.mkdir()
    for name in ("recording_snapshots.jsonl", "recording_meta.json"):
        shutil.copy(FIXTURES / "posthog" / name, folder / name)
    meta = orjson.loads((folder / "recording_meta.json").read_bytes())
    first = orjson.loads((folder / "recording_snapshots.jsonl").read_bytes().splitlines()[0])
    cut = first["data"][0]["timestamp"] + 3000
    consent = tmp_path / "consent.ndjson"
    consent.write_bytes(ndjson([opt_out(meta["distinct_id"], cut)]))
    out = tmp_path / "copy" / "snapshots.jsonl"
    out.parent.mkdir()
    result = redact(folder / "recording_snapshots.jsonl", out, consent=consent)
    assert 0 < result.events_out < result.events_in
    record = orjson.loads(Path(f"{out}.redaction.json").read_bytes())
    assert record["sessions"] == [{"session_id": meta["id"], "subject": meta["distinct_id"],
                                   "device": None, "events": result.events_out,
                                   "copy_session_id": "snapshots"}]
    assert record["ledger"]["consent"] == [{"subject": meta["distinct_id"],
                                            "action": "opt_out", "at": cut}]
    assert audit_exit(capsys, out, *sidecar_ledger(tmp_path, out)) == 0


# -- the shared fixtures ---------------------------------------------------------------------

FIXTURE_FILES = sorted(p for folder in ("rrweb", "posthog") for p in (FIXTURES / folder).iterdir()
                       if p.name != "recording_meta.json")


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_masked_copy_imports_and_audits_clean(tmp_path, capsys, fixture):
    out = tmp_path / fixture.name
    result = redact(fixture, out, mask_pii=True)
    assert result.events_out == result.events_in  # no ledger: nothing is flagged
    assert audit_exit(capsys, out) == 0
    assert_no_pii_found(tmp_path, out)
    assert imported(tmp_path, out)["events"]


def test_wide_layout_loses_its_url_credentials_and_typed_values(tmp_path):
    fixture = FIXTURES / "rrweb" / "posthog-wide-layout.json"
    source_typed = [e["data"]["text"] for e in orjson.loads(fixture.read_bytes())["result"]
                    if e["type"] == 3 and e["data"].get("source") == 5 and e["data"]["text"]]
    assert source_typed  # "t", "te", ..., "999999"
    out = tmp_path / "wide.json"
    redact(fixture, out, mask_pii=True)
    text = out.read_text()
    for parameter in ("password=", "creditcard=", "username="):
        assert f"{parameter}[REDACTED]" in text
        assert all(f"{parameter}{v}" not in text for v in ("pass", "test", "999999"))
    copy = imported(tmp_path, out)
    assert [t for t in typed_values(copy) if t] == ["[USERNAME]"] * 4 + ["[CARD]"] * 6
    assert '"textContent":"Insights"' in text  # ordinary page text stays
