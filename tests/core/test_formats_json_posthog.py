"""The whole-document rrweb reader and the PostHog readers, on the real recordings.

Expected numbers are worked out here from the fixtures with plain ``json``, never by asking the
readers, so a reader that drops, duplicates or misplaces events fails.
"""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest

from inspector.core.errors import Cancelled, InputError, SkipFile
from inspector.core.formats import (
    SNIFF_LINE_BYTES,
    posthog_blob,
    posthog_export,
    posthog_meta,
    rrweb_json,
    rrweb_ndjson,
    sniff,
)
from inspector.core.importer import import_paths
from inspector.core.records import normalize_event, parse_instant
from inspector.core.sources import Limits, Source, ZipArchive
from inspector.core.store import Store

from .collect import CollectingSink
from .support import FIXTURES

RRWEB = FIXTURES / "rrweb"
POSTHOG = FIXTURES / "posthog"
MINE = (posthog_export, posthog_meta, rrweb_json, posthog_blob)

RRWEB_FILES = sorted(RRWEB.glob("*.json"))
EXPORT_FILES = sorted(POSTHOG.glob("*ph-recording.json"))
BLOB_FILES = sorted(POSTHOG.glob("*.jsonl"))
META_FILE = POSTHOG / "recording_meta.json"


def _ids(paths: list[Path]) -> list[str]:
    return [path.name[:40] for path in paths]


# -- what the fixtures hold, by plain json ------------------------------------------------------

def stem(name: str) -> str:
    for suffix in (".gz", ".json", ".jsonl", ".ndjson"):
        name = name.removesuffix(suffix)
    return name


def rrweb_expected(text: str, default: str) -> dict[str, list]:
    """Session id -> its events in file order."""
    value = json.loads(text)
    if isinstance(value, dict) and "result" in value:
        value = value["result"]
    if isinstance(value, dict) and "events" in value:
        value = value["events"]
    if isinstance(value, dict):
        return dict(value)
    sessions: dict[str, list] = {}
    for event in value:
        sessions.setdefault(event.get("sessionId", default), []).append(event)
    return sessions


def posthog_expected(path: Path, text: str | None = None) -> tuple[list, list[str]]:
    """A PostHog file's events and their window ids, in file order."""
    text = path.read_text() if text is None else text
    events, windows = [], []
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        for line in text.splitlines():
            value = json.loads(line)
            if isinstance(value, list):
                events.append(value[1])
                windows.append(value[0])
            else:
                events.extend(value["data"])
                windows.extend([value["window_id"]] * len(value["data"]))
        return events, windows
    data = json.loads(text)["data"]
    if "snapshots" in data:
        return data["snapshots"], [str(event["windowId"]) for event in data["snapshots"]]
    for window, records in data["snapshotsByWindowId"].items():
        events.extend(records)
        windows.extend([window] * len(records))
    return events, windows


def read(reader, path: Path, *, limits: Limits | None = None) -> CollectingSink:
    source = Source(str(path), path=path, **({"limits": limits} if limits else {}))
    assert reader.detect(sniff(source)), f"{reader.NAME} does not recognise {path.name}"
    sink = CollectingSink(location=source.name)
    reader.read(source, sink)
    return sink


def stored(events: list) -> list:
    """Events as the store keeps them, for comparing what two files decode to."""
    return [normalize_event(event) for event in events]


def pack(event: dict) -> str:
    """What @rrweb/packer makes of an event: zlib-deflated JSON carried as latin-1 text."""
    return zlib.compress(json.dumps({**event, "v": "v1"}).encode()).decode("latin-1")


# -- detection ---------------------------------------------------------------------------------

def _expected_reader(path: Path):
    if path == META_FILE:
        return posthog_meta
    if path in BLOB_FILES:
        return posthog_blob
    if path in EXPORT_FILES:
        return posthog_export
    return rrweb_json


@pytest.mark.parametrize("path", [*RRWEB_FILES, *sorted(POSTHOG.iterdir())],
                         ids=_ids([*RRWEB_FILES, *sorted(POSTHOG.iterdir())]))
def test_each_fixture_is_claimed_by_exactly_its_reader(path: Path) -> None:
    found = sniff(Source(str(path), path=path))
    claims = [reader.NAME for reader in (*MINE, rrweb_ndjson) if reader.detect(found)]
    assert claims == [_expected_reader(path).NAME]


def test_the_fixtures_cover_one_line_and_indented_documents() -> None:
    # Both detection paths are real: a single line longer than detection reads, and a
    # document whose first line is a lone bracket.
    long_line = sniff(Source("x", path=RRWEB / "posthog-with-pageviews.json"))
    assert not long_line.first_line_complete
    indented = sniff(Source("x", path=RRWEB / "rrweb-test-console-plugin.json"))
    assert indented.first_line == b"[" and indented.first_value is None


def test_ndjson_of_the_same_events_is_left_to_the_ndjson_reader(tmp_path: Path) -> None:
    events = json.loads((RRWEB / "posthog-local-docs.json").read_text())["result"]
    lines = tmp_path / "docs.json"
    lines.write_text("".join(json.dumps(event) + "\n" for event in events))
    found = sniff(Source(str(lines), path=lines))
    assert [r.NAME for r in (*MINE, rrweb_ndjson) if r.detect(found)] == [rrweb_ndjson.NAME]

    single = tmp_path / "single.json"
    single.write_text(json.dumps(events) + "\n\n")
    found = sniff(Source(str(single), path=single))
    assert [r.NAME for r in (*MINE, rrweb_ndjson) if r.detect(found)] == [rrweb_json.NAME]


def test_blob_whose_first_line_is_longer_than_detection_reads(tmp_path: Path) -> None:
    lines = (POSTHOG / "posthog-blob-block.jsonl").read_text().splitlines()
    window, event = json.loads(lines[0])
    event["data"]["padding"] = "x" * 2 * SNIFF_LINE_BYTES
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join([json.dumps([window, event]), *lines[1:]]) + "\n")
    found = sniff(Source(str(path), path=path))
    assert not found.first_line_complete
    assert [r.NAME for r in (*MINE, rrweb_ndjson) if r.detect(found)] == [posthog_blob.NAME]
    assert len(read(posthog_blob, path).events) == len(lines)


# -- rrweb-json ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", RRWEB_FILES, ids=_ids(RRWEB_FILES))
def test_rrweb_documents_give_every_event_in_its_session(path: Path) -> None:
    expected = rrweb_expected(path.read_text(), stem(path.name))
    sink = read(rrweb_json, path)
    assert sink.session_ids == list(expected)
    assert sink.count_by_session() == {sid: len(events) for sid, events in expected.items()}
    for sid, events in expected.items():
        assert [e.record for e in sink.events if e.session_id == sid] == events
    assert sink.problems == []
    assert all(meta.origin == str(path) for meta in sink.sessions)
    assert all(e.location.startswith(f"{path} ") for e in sink.events)


def test_object_of_arrays_is_one_session_per_key() -> None:
    path = RRWEB / "rrweb-test-privacy-recordings.json"
    recordings = json.loads(path.read_text())
    sink = read(rrweb_json, path)
    assert len(sink.sessions) == len(recordings) == 8
    assert sink.session_ids == list(recordings)
    name = next(iter(recordings))
    assert sink.events[3].location == f'{path} {json.dumps(name)}[3]'


def test_session_id_key_on_events_groups_them(tmp_path: Path) -> None:
    events = json.loads((RRWEB / "posthog-local-docs.json").read_text())["result"][:30]
    mixed = []
    for index, event in enumerate(events):
        if index % 3:
            mixed.append({**event, "sessionId": "s-a" if index % 3 == 1 else "s-b"})
        else:
            mixed.append(event)  # no key: the file's own session
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(mixed))
    sink = read(rrweb_json, path)
    assert sink.session_ids == ["mixed", "s-a", "s-b"]
    for sid in ("mixed", "s-a", "s-b"):
        want = [e for e in mixed if e.get("sessionId", "mixed") == sid]
        assert [e.record for e in sink.events if e.session_id == sid] == want


@pytest.mark.parametrize("indent", [None, 2])
def test_events_object_single_line_and_indented(tmp_path: Path, indent: int | None) -> None:
    events = json.loads((RRWEB / "posthog-mobile-homepage.json").read_text())["result"]
    path = tmp_path / "recording.json"
    path.write_text(json.dumps({"events": events}, indent=indent))
    sink = read(rrweb_json, path)
    assert sink.session_ids == ["recording"]
    assert [e.record for e in sink.events] == events
    assert sink.events[5].location == f"{path} events[5]"

    path.write_text(json.dumps({"sessionId": "named", "events": events}, indent=indent))
    assert read(rrweb_json, path).count_by_session() == {"named": len(events)}


@pytest.mark.parametrize("ascii_only", [True, False])
def test_packer_strings_are_passed_on_and_unpack_to_the_events(tmp_path: Path,
                                                             ascii_only: bool) -> None:
    events = json.loads((RRWEB / "posthog-local-docs.json").read_text())["result"]
    packed = [pack(event) for event in events]
    path = tmp_path / "packed.json"
    path.write_text(json.dumps(packed, ensure_ascii=ascii_only), encoding="utf-8")
    sink = read(rrweb_json, path)
    assert [e.record for e in sink.events] == packed
    assert sink.normalized() == stored(events)

    path.write_text(json.dumps({"events": packed}, indent=1, ensure_ascii=ascii_only))
    assert read(rrweb_json, path).normalized() == stored(events)

    # A packed FullSnapshot first: its string runs past the head detection reads.
    first_full = next(i for i, event in enumerate(events) if event["type"] == 2)
    path.write_text(json.dumps(packed[first_full:], ensure_ascii=ascii_only), encoding="utf-8")
    head = sniff(Source(str(path), path=path)).head
    assert len(json.dumps(packed[first_full], ensure_ascii=ascii_only)) > len(head)
    assert read(rrweb_json, path).normalized() == stored(events[first_full:])


@pytest.mark.parametrize("document", [
    ["alpha", "beta"], [1, 2, 3], {}, {"a": 1}, {"version": 3, "data": {"rows": []}},
    {"id": "x", "person": None},
])
def test_unrelated_json_is_not_claimed(tmp_path: Path, document: object) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(document, indent=1))
    assert not [r.NAME for r in MINE if r.detect(sniff(Source(str(path), path=path)))]


def test_non_array_values_are_reported_and_the_arrays_read(tmp_path: Path) -> None:
    events = json.loads((RRWEB / "posthog-local-docs.json").read_text())["result"][:4]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"first": events, "note": "hello", "empty": []}))
    sink = CollectingSink()
    rrweb_json.read(Source(str(path), path=path), sink)
    assert sink.count_by_session() == {"first": 4}
    assert [location for location, _ in sink.problems] == [f'{path} "note"', f'{path} "empty"']


def test_zip_member_session_is_named_after_the_member(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(RRWEB / "posthog-local-docs.json", "exports/day 1/posthog-local-docs.json")
    opened = ZipArchive(bundle)
    try:
        source = opened.source(opened.members()[0])
        assert rrweb_json.detect(sniff(source))
        sink = CollectingSink()
        rrweb_json.read(source, sink)
    finally:
        opened.close()
    assert sink.session_ids == ["posthog-local-docs"]
    assert sink.events[0].location == f"{bundle}!exports/day 1/posthog-local-docs.json result[0]"


# -- PostHog exports and blobs -----------------------------------------------------------------

@pytest.mark.parametrize("path", [*EXPORT_FILES, *BLOB_FILES], ids=_ids([*EXPORT_FILES,
                                                                            *BLOB_FILES]))
def test_posthog_files_give_every_event_with_its_window(path: Path) -> None:
    events, windows = posthog_expected(path)
    sink = read(_expected_reader(path), path)
    assert len(sink.sessions) == 1
    assert [e.record for e in sink.events] == events
    assert [e.window for e in sink.events] == windows
    assert len(set(windows)) == 2
    assert all(isinstance(e.window, str) for e in sink.events)
    assert sink.problems == []


def test_export_session_and_person() -> None:
    for path in EXPORT_FILES:
        data = json.loads(path.read_text())["data"]
        (meta,) = read(posthog_export, path).sessions
        assert meta.session_id == data.get("id", stem(path.name))
        assert meta.subject == data["person"]["distinct_ids"][0]
        assert meta.aliases == []
        assert meta.origin == str(path)
    v1 = POSTHOG / "posthog-export-v1-2022-12-02.ph-recording.json"
    assert read(posthog_export, v1).session_ids == ["posthog-export-v1-2022-12-02.ph-recording"]


def test_export_person_distinct_ids_give_subject_and_aliases(tmp_path: Path) -> None:
    document = json.loads(EXPORT_FILES[0].read_text())
    first = document["data"]["person"]["distinct_ids"][0]
    document["data"]["person"]["distinct_ids"] = [first, "user@example.com", first, 42]
    path = tmp_path / "aliased.ph-recording.json"
    path.write_text(json.dumps(document))
    (meta,) = read(posthog_export, path).sessions
    assert (meta.subject, meta.aliases) == (first, ["user@example.com", "42"])

    document["data"]["person"] = {"distinct_ids": [], "distinct_id": "only-one", "name": "n"}
    path.write_text(json.dumps(document))
    (meta,) = read(posthog_export, path).sessions
    assert (meta.subject, meta.aliases) == ("only-one", [])

    document["data"]["person"] = None
    path.write_text(json.dumps(document))
    (meta,) = read(posthog_export, path).sessions
    assert (meta.subject, meta.aliases) == (None, [])


def test_export_of_unknown_version_says_so(tmp_path: Path) -> None:
    document = json.loads(EXPORT_FILES[0].read_text())
    document["version"] = "2031-01-01"
    path = tmp_path / "future.ph-recording.json"
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(InputError) as caught:
        read(posthog_export, path)
    message = str(caught.value)
    assert str(path) in message and "'2031-01-01'" in message
    assert all(version in message for version in posthog_export.VERSIONS)


def test_compressed_blob_decodes_to_the_plain_block() -> None:
    plain = read(posthog_blob, POSTHOG / "posthog-blob-block.jsonl")
    compressed = read(posthog_blob, POSTHOG / "posthog-blob-block-cv2024-10.jsonl")
    raw = [e.record for e in compressed.events]
    assert any(isinstance(r, dict) and r.get("cv") == "2024-10" for r in raw)  # passed on as is
    assert compressed.normalized() == plain.normalized()
    assert [e.window for e in compressed.events] == [e.window for e in plain.events]


def test_blob_takes_id_and_person_from_matching_metadata_beside_it() -> None:
    info = json.loads(META_FILE.read_text())
    for path in BLOB_FILES:
        first, _ = posthog_expected(path)
        assert parse_instant(info["start_time"])[0] == first[0]["timestamp"]  # matched by time
        (meta,) = read(posthog_blob, path).sessions
        assert meta.session_id == info["id"] != stem(path.name)
        assert meta.subject == info["person"]["distinct_ids"][0]
        assert meta.started_at == first[0]["timestamp"]


def test_blob_matches_metadata_by_id_and_ignores_unrelated_metadata(tmp_path: Path) -> None:
    info = json.loads(META_FILE.read_text())
    blob = tmp_path / "blob" / "posthog-blob-block.jsonl"
    blob.parent.mkdir()
    shutil.copy(POSTHOG / "posthog-blob-block.jsonl", blob)
    assert read(posthog_blob, blob).sessions[0].session_id == "posthog-blob-block"

    # Another recording's metadata: different id, different start: not this blob's.
    other = {**info, "id": "other-recording", "start_time": "2020-01-01T00:00:00Z"}
    (blob.parent / "recording_meta.json").write_text(json.dumps(other))
    (meta,) = read(posthog_blob, blob).sessions
    assert (meta.session_id, meta.subject) == ("posthog-blob-block", None)

    # Named after the blob: used even though its start time differs.
    person = {**info["person"], "distinct_ids": ["anon-1", "user@example.com"]}
    mine = {**other, "id": "posthog-blob-block", "person": person}
    (blob.parent / "zz-meta.json").write_text(json.dumps(mine))
    (meta,) = read(posthog_blob, blob).sessions
    assert (meta.session_id, meta.subject, meta.aliases) == (
        "posthog-blob-block", "anon-1", ["user@example.com"])


def test_metadata_alone_is_recognised_and_skipped() -> None:
    found = sniff(Source(str(META_FILE), path=META_FILE))
    assert [r.NAME for r in (*MINE, rrweb_ndjson) if r.detect(found)] == [posthog_meta.NAME]
    with pytest.raises(SkipFile) as caught:
        posthog_meta.read(Source(str(META_FILE), path=META_FILE), CollectingSink())
    assert str(META_FILE) in str(caught.value)


# -- compressed and damaged inputs ------------------------------------------------------------

@pytest.mark.parametrize("path", [*RRWEB_FILES, *EXPORT_FILES, *BLOB_FILES],
                         ids=_ids([*RRWEB_FILES, *EXPORT_FILES, *BLOB_FILES]))
def test_gzip_copies_read_the_same(tmp_path: Path, path: Path) -> None:
    copy = tmp_path / (path.name + ".gz")
    copy.write_bytes(gzip.compress(path.read_bytes(), mtime=0))
    reader = _expected_reader(path)
    sink = read(reader, copy)
    if reader is rrweb_json:
        expected = rrweb_expected(path.read_text(), stem(path.name))
        assert sink.count_by_session() == {sid: len(e) for sid, e in expected.items()}
    else:
        events, windows = posthog_expected(copy, path.read_text())
        assert [e.record for e in sink.events] == events
        assert [e.window for e in sink.events] == windows
    if reader is posthog_blob:  # no metadata beside the copy: named after the file
        assert sink.session_ids == [stem(path.name)]


@pytest.mark.parametrize("name", ["posthog-local-docs.json", "rrweb-test-console-plugin.json"])
def test_truncated_document_is_an_input_error_naming_the_file(tmp_path: Path, name: str) -> None:
    content = (RRWEB / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(content[: len(content) * 2 // 3])
    with pytest.raises(InputError) as caught:
        read(rrweb_json, path)
    message = str(caught.value)
    assert message.startswith(f"{path} (line ")
    assert "cut short" in message


def test_truncated_export_is_an_input_error(tmp_path: Path) -> None:
    lines = EXPORT_FILES[0].read_text().splitlines(keepends=True)
    path = tmp_path / "cut.ph-recording.json"
    path.write_text("".join(lines[: len(lines) // 2]))
    with pytest.raises(InputError) as caught:
        read(posthog_export, path)
    assert str(caught.value).startswith(f"{path} (line {len(lines) // 2 + 1}, ")


def test_damaged_blob_lines_are_problems_and_the_rest_imports(tmp_path: Path) -> None:
    lines = (POSTHOG / "posthog-blob-block.jsonl").read_text().splitlines()
    damaged = list(lines)
    damaged[4] = lines[4][: len(lines[4]) // 2]  # line 5 cut in the middle
    damaged[9] = '{"unexpected": true}'  # line 10 valid JSON of the wrong shape
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(damaged) + "\n")
    sink = read(posthog_blob, path)
    assert [location for location, _ in sink.problems] == [f"{path} line 5", f"{path} line 10"]
    assert "invalid JSON" in sink.problems[0][1]
    kept = [json.loads(line)[1] for number, line in enumerate(lines, 1) if number not in (5, 10)]
    assert [e.record for e in sink.events] == kept


def test_over_long_blob_line_is_a_problem(tmp_path: Path) -> None:
    lines = (POSTHOG / "posthog-blob-block.jsonl").read_text().splitlines()
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    limits = Limits(max_line_bytes=sorted(len(line) for line in lines)[-2] + 10)
    sink = read(posthog_blob, POSTHOG / "posthog-blob-block.jsonl", limits=limits)
    assert [location for location, _ in sink.problems] == [
        f"{POSTHOG / 'posthog-blob-block.jsonl'} line {longest + 1}"]
    assert len(sink.events) == len(lines) - 1


# -- cancelling ---------------------------------------------------------------------------------

class CancellingSink(CollectingSink):
    def check_cancel(self) -> None:
        super().check_cancel()
        if len(self.events) >= 1000:
            raise Cancelled()


def test_long_reads_stop_when_cancelled(tmp_path: Path) -> None:
    event = json.loads((RRWEB / "posthog-local-docs.json").read_text())["result"][2]
    document = tmp_path / "many.json"
    document.write_text(json.dumps([event] * 10_000))
    sink = CancellingSink()
    with pytest.raises(Cancelled):
        rrweb_json.read(Source(str(document), path=document), sink)
    assert len(sink.events) < 10_000

    blob = tmp_path / "many.jsonl"
    blob.write_text("".join(json.dumps(["w", event]) + "\n" for _ in range(10_000)))
    sink = CancellingSink()
    with pytest.raises(Cancelled):
        posthog_blob.read(Source(str(blob), path=blob), sink)
    assert len(sink.events) < 10_000


# -- end to end through the importer into a real DuckDB file ----------------------------------

def test_import_every_fixture_into_duckdb(tmp_path: Path) -> None:
    paths = [*RRWEB_FILES, *EXPORT_FILES, *BLOB_FILES]
    with Store(tmp_path / "db.duckdb") as store:
        report = import_paths(store, paths)
        by_path = {result.path: result for result in report.archives}
        for path in paths:
            result = by_path[str(path)]
            assert result.status == "imported", result.error
            assert result.format == _expected_reader(path).NAME
            if path in RRWEB_FILES:
                expected = {sid: len(e) for sid, e in
                            rrweb_expected(path.read_text(), stem(path.name)).items()}
                windows = 1
            else:
                events, window_ids = posthog_expected(path)
                expected, windows = None, len(set(window_ids))
            rows = store.con.execute(
                "SELECT session_id, count(*), count(DISTINCT window_id) FROM events "
                "WHERE archive_id = ? GROUP BY session_id",
                [result.archive_id]).fetchall()
            if expected is not None:
                assert {sid: n for sid, n, _ in rows} == expected
            else:
                assert [n for _, n, _ in rows] == [len(events)]
                assert rows[0][2] == windows
            sessions = store.con.execute(
                "SELECT count(*), max(windows) FROM sessions WHERE archive_id = ?",
                [result.archive_id]).fetchone()
            assert sessions == (len(rows), windows)


def test_import_posthog_folder_skips_metadata_and_names_blob_sessions(tmp_path: Path) -> None:
    info = json.loads(META_FILE.read_text())
    folder = tmp_path / "posthog"
    folder.mkdir()
    for name in ("recording_snapshots.jsonl", "recording_meta.json"):
        shutil.copy(POSTHOG / name, folder / name)
    document = json.loads(EXPORT_FILES[0].read_text())
    document["data"]["person"]["distinct_ids"].append("user@example.com")
    (folder / "aliased.ph-recording.json").write_text(json.dumps(document))

    with Store(tmp_path / "db.duckdb") as store:
        report = import_paths(store, [folder])
        status = {Path(r.path).name: r.status for r in report.archives}
        assert status == {"recording_snapshots.jsonl": "imported",
                          "recording_meta.json": "skipped",
                          "aliased.ph-recording.json": "imported"}
        subject = info["person"]["distinct_ids"][0]
        sessions = store.con.execute(
            "SELECT session_id, subject, events FROM sessions ORDER BY archive_id").fetchall()
        blob_events, _ = posthog_expected(POSTHOG / "recording_snapshots.jsonl")
        assert sorted(sessions) == sorted([(info["id"], subject, len(blob_events)),
                                           (document["data"]["id"], subject,
                                            len(document["data"]["snapshots"]))])
        identities = store.con.execute("SELECT subject, alias FROM identities").fetchall()
        assert identities == [(subject, "user@example.com")]
        assert store.count("events") == len(blob_events) + len(document["data"]["snapshots"])
