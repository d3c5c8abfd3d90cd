"""The demo archive in sample_data/: a valid replay-archive v1, rebuilt byte for byte by its
generator, and its ground truth (expected.json) agrees with an independent reading.

The audit's own tests assert against expected.json, so expected.json must be right. It is
written from the generator's plan; here a deliberately small reference implementation of the
opt-out rules (docs/archive-format.md, sample_data/README.md) reads only the archive — consent
ledger, identities, manifest and events — and must reach the same flags, categories and kinds of
personal data.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from inspector.core.formats import replay_archive
from inspector.core.importer import import_paths
from inspector.core.records import parse_consent, parse_identity
from inspector.core.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
ARCHIVE = SAMPLE / "demo-archive.zip"
EXPECTED = SAMPLE / "expected.json"
GENERATOR = SAMPLE / "make_sample.py"
OUTPUTS = ("demo-archive.zip", "expected.json")

GOVERNING_SCOPES = {None, "replay", "analytics", "all"}
POINTER_SOURCES = {1, 6, 12}  # MouseMove, TouchMove, Drag: batches of positions
SUFFIXES = (".ndjson.gz", ".ndjson", ".json")
MAX_BYTES = 2 * 1024 * 1024


# -- reading the archive with nothing but the standard library -------------------------------

@dataclass
class Session:
    entry: dict
    events: list
    stored: bytes


@dataclass
class Demo:
    names: list[str]
    infos: list[zipfile.ZipInfo]
    manifest: dict
    sessions: dict[str, Session]
    consent: list[dict]
    identities: list[dict]
    size: int


def parse_session_file(path: str, stored: bytes) -> list:
    data = gzip.decompress(stored) if path.endswith(".gz") else stored
    if path.endswith(".json"):
        return json.loads(data)
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def load(path: Path) -> Demo:
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        sessions = {}
        for entry in manifest["sessions"]:
            stored = archive.read(entry["path"])
            sessions[entry["session_id"]] = Session(
                entry, parse_session_file(entry["path"], stored), stored)
        return Demo(archive.namelist(), archive.infolist(), manifest, sessions,
                    lines(archive.read("consent.ndjson")),
                    lines(archive.read("identities.ndjson")), path.stat().st_size)


@pytest.fixture(scope="module")
def demo() -> Demo:
    return load(ARCHIVE)


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def epoch_ms(value: int | str) -> int:
    if isinstance(value, int):
        return value
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value!r} has no UTC offset"
    return round(moment.timestamp() * 1000)


# -- a live mirror of each page, checking every id an event names ----------------------------

class Mirror:
    """Node ids and attributes of the page being recorded, rebuilt from the events."""

    def __init__(self) -> None:
        self.nodes: dict[int, dict] = {}

    def _load(self, node: dict, parent: int | None) -> None:
        nid = node["id"]
        assert nid not in self.nodes, f"id {nid} used twice"
        self.nodes[nid] = {"type": node["type"], "parent": parent,
                           "attrs": dict(node.get("attributes", {})),
                           "tag": node.get("tagName")}
        for child in node.get("childNodes", []):
            self._load(child, nid)

    def _drop(self, nid: int) -> None:
        for child in [k for k, v in self.nodes.items() if v["parent"] == nid]:
            self._drop(child)
        del self.nodes[nid]

    def live(self, nid: int, where: str) -> dict:
        assert nid in self.nodes, f"{where}: node {nid} is not on the page"
        return self.nodes[nid]

    def apply(self, event: dict, where: str) -> None:
        kind, data = event["type"], event["data"]
        if kind == 2:
            self.nodes = {}
            self._load(data["node"], None)
            return
        if kind != 3:
            return
        source = data["source"]
        if source == 0:
            for change in data["texts"]:
                assert self.live(change["id"], where)["type"] == 3, f"{where}: text of non-text"
            for change in data["attributes"]:
                node = self.live(change["id"], where)
                assert node["type"] == 2, f"{where}: attributes of a non-element"
                for key, value in change["attributes"].items():
                    if value is None:
                        node["attrs"].pop(key, None)
                    else:
                        node["attrs"][key] = value
            for remove in data["removes"]:
                node = self.live(remove["id"], where)
                assert node["parent"] == remove["parentId"], f"{where}: wrong parent in remove"
                self._drop(remove["id"])
            for add in data["adds"]:
                self.live(add["parentId"], where)
                if add["nextId"] is not None:
                    assert self.nodes[add["nextId"]]["parent"] == add["parentId"], \
                        f"{where}: nextId is not a child of parentId"
                self._load(dict(add["node"], childNodes=[]), add["parentId"])
        elif source in POINTER_SOURCES:
            for position in data["positions"]:
                self.live(position["id"], where)
        else:
            self.live(data["id"], where)


# -- the reference audit ------------------------------------------------------------------------

class Keys:
    """Union-find over person and device keys, fed by identities.ndjson only."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def category(event: dict) -> str:
    kind = event["type"]
    if kind == 2:
        return "page_content"
    if kind == 4:
        return "page_urls"
    if kind == 5:
        return "custom"
    if kind == 6:
        return {"rrweb/console@1": "console", "rrweb/network@1": "network"}[
            event["data"]["plugin"]]
    source = event["data"]["source"]
    return {0: "page_content", 5: "typed_input"}.get(source, "pointer_scroll")


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+\d{1,3}(?: \d{2,5}){2,4}")
CARD = re.compile(r"(?<![\w ])(?:\d{4} ){3}\d{4}(?!\w)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
NATIONAL_ID = re.compile(r"\b\d{3}-\d{2}-\d{4}\b"  # US SSN
                         r"|\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")  # UK NINO


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def strings(value: object):
    """Every string in a JSON value, and in strings that are themselves JSON."""
    if isinstance(value, str):
        yield value
        if value[:1] in "{[\"":
            try:
                inner = json.loads(value)
            except ValueError:
                return
            yield from strings(inner)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def kinds_in(event: dict, mirror: Mirror) -> set[str]:
    found = set()
    for text in strings(event["data"]):
        if EMAIL.search(text):
            found.add("email")
        if PHONE.search(text):
            found.add("phone")
        if any(luhn_ok(m.group().replace(" ", "")) for m in CARD.finditer(text)):
            found.add("card")
        if any(iban_ok(m.group()) for m in IBAN.finditer(text)):
            found.add("iban")
        if NATIONAL_ID.search(text):
            found.add("national_id")
    data = event["data"]
    if event["type"] == 3 and data["source"] == 5 and data["text"]:
        attrs = mirror.nodes[data["id"]]["attrs"]
        if attrs.get("type") == "password":
            found.add("password")
        if str(attrs.get("autocomplete", "")).startswith("cc-"):
            found.add("card")  # a card field: its number, expiry, code or holder's name
    return found


def reference_audit(demo: Demo) -> dict[str, dict]:
    keys = Keys()
    for link in demo.identities:
        keys.union(link["subject"], link["alias"])
    records = [(epoch_ms(c["at"]), c["action"], c.get("scope"), c["subject"])
               for c in demo.consent]
    for session in demo.sessions.values():
        for event in session.events:
            if event["type"] == 5 and event["data"]["tag"] == "consent":
                payload = event["data"]["payload"]
                key = session.entry.get("subject") or session.entry.get("device")
                records.append((event["timestamp"], payload["action"], payload.get("scope"), key))
    results = {}
    for sid, session in demo.sessions.items():
        mine = {keys.find(k) for k in (session.entry.get("subject"), session.entry.get("device"))
                if k}
        spans, start = [], None
        for at, action, _, _ in sorted(r for r in records
                                       if r[2] in GOVERNING_SCOPES and keys.find(r[3]) in mine):
            if action == "opt_out" and start is None:
                start = at
            elif action == "opt_in" and start is not None:
                spans.append((start, at))
                start = None
        if start is not None:
            spans.append((start, float("inf")))
        flagged, undetermined, categories, kinds = [], [], set(), set()
        mirror = Mirror()
        for seq, event in enumerate(session.events):
            mirror.apply(event, f"{sid} seq {seq}")
            ts = event.get("timestamp")
            if ts is None:
                if spans:
                    undetermined.append(seq)
                continue
            data = event["data"]
            if event["type"] == 5 and data.get("tag") == "consent":
                continue  # a consent marker is the record itself, never flagged
            moments = ([ts + p["timeOffset"] for p in data["positions"]]
                       if event["type"] == 3 and data["source"] in POINTER_SOURCES else [ts])
            if any(a <= t < b for t in moments for a, b in spans):
                flagged.append(seq)
                categories.add(category(event))
                kinds |= kinds_in(event, mirror)
        results[sid] = {"flagged_seqs": flagged, "undetermined_seqs": undetermined,
                        "categories": sorted(categories), "pii_kinds": sorted(kinds),
                        "spans": spans}
    return results


@pytest.fixture(scope="module")
def audit(demo: Demo) -> dict[str, dict]:
    return reference_audit(demo)


# -- the archive is format v1 -----------------------------------------------------------------

def test_manifest_describes_every_member_exactly(demo: Demo) -> None:
    manifest = demo.manifest
    assert manifest["format"] == "replay-archive"
    assert manifest["version"] == 1
    assert datetime.fromisoformat(manifest["exported_at"]).tzinfo is not None
    assert isinstance(manifest["exporter"], str) and manifest["exporter"]
    entries = manifest["sessions"]
    assert len({e["session_id"] for e in entries}) == len({e["path"] for e in entries}) == \
        len(entries)
    for entry in entries:
        session = demo.sessions[entry["session_id"]]
        assert entry["path"].endswith(SUFFIXES)
        assert entry["sha256"] == hashlib.sha256(session.stored).hexdigest()
        assert entry["events"] == len(session.events)
        assert session.stored.startswith(b"\x1f\x8b") == entry["path"].endswith(".gz")
        for key in ("subject", "device"):
            assert key not in entry or (isinstance(entry[key], str) and entry[key])
        stamps = [e["timestamp"] for e in session.events if "timestamp" in e]
        if "started_at" in entry:
            assert entry["started_at"] == stamps[0]
        assert stamps == sorted(stamps), f"{entry['path']} is not in time order"
    assert sorted(demo.names) == sorted(
        ["manifest.json", "consent.ndjson", "identities.ndjson", *(e["path"] for e in entries)])


def test_zip_is_small_and_reproducible_in_form(demo: Demo) -> None:
    assert demo.size < MAX_BYTES
    assert demo.names == sorted(demo.names)
    assert len({info.date_time for info in demo.infos}) == 1
    assert all(not info.is_dir() for info in demo.infos)


def test_consent_and_identity_lines_are_well_formed(demo: Demo) -> None:
    for index, line in enumerate(demo.consent):
        assert set(line) <= {"subject", "action", "at", "scope", "source"}
        assert line["action"] in ("opt_out", "opt_in")
        epoch_ms(line["at"])
        record = parse_consent(line, f"consent.ndjson line {index + 1}")
        assert record.at_ms == epoch_ms(line["at"])
    assert {type(line["at"]) for line in demo.consent} == {int, str}  # both spellings appear
    for index, line in enumerate(demo.identities):
        assert set(line) == {"subject", "alias"}
        parse_identity(line, f"identities.ndjson line {index + 1}")


def test_sessions_have_the_promised_mix(demo: Demo, expected: dict) -> None:
    entries = demo.manifest["sessions"]
    assert 12 <= len(entries) <= 16
    assert 4 <= len({s["person"] for s in expected["sessions"]}) <= 6
    for suffix in SUFFIXES:
        assert any(e["path"].endswith(suffix) for e in entries), suffix
    for entry in entries:
        assert 200 <= entry["events"] <= 5000, entry


def test_events_look_like_real_rrweb(demo: Demo) -> None:
    seen: dict[str, int] = {}

    def saw(what: str) -> None:
        seen[what] = seen.get(what, 0) + 1

    for session in demo.sessions.values():
        first, second = session.events[:2]
        assert (first["type"], second["type"]) == (4, 2)
        for event in session.events:
            data = event["data"]
            if event["type"] == 2:
                text = json.dumps(data)
                for needle in ('"tagName": "head"', '"tagName": "nav"', '"tagName": "form"',
                               '"tagName": "button"', '"tagName": "img"', '"tagName": "p"',
                               '"tagName": "label"'):
                    if needle in text:
                        saw(needle)
                for kind in ("text", "email", "tel", "password"):
                    if f'"type": "{kind}"' in text:
                        saw(f"input:{kind}")
                if '"autocomplete": "cc-number"' in text:
                    saw("cc-number")
            elif event["type"] == 3:
                source = data["source"]
                if source in POINTER_SOURCES and all(p["timeOffset"] <= 0
                                                     for p in data["positions"]) and any(
                        p["timeOffset"] < 0 for p in data["positions"]):
                    saw(f"batch:{source}")
                if source == 0:
                    for part in ("texts", "attributes", "adds", "removes"):
                        if data[part]:
                            saw(f"mutation:{part}")
                if source == 2:
                    saw(f"interaction:{data['type']}")
                if source == 3:
                    saw("scroll")
                if source == 5:
                    saw("input:checked" if data["isChecked"] else "input")
            elif event["type"] == 5:
                saw(f"custom:{data['tag']}")
            elif event["type"] == 6:
                payload = data["payload"]
                if data["plugin"] == "rrweb/console@1":
                    assert set(payload) == {"level", "payload", "trace"}
                    saw(f"console:{payload['level']}")
                else:
                    assert data["plugin"] == "rrweb/network@1"
                    for request in payload["requests"]:
                        assert set(request) == {
                            "name", "method", "initiatorType", "responseStatus",
                            "requestHeaders", "requestBody", "responseBody", "startTime",
                            "endTime"}
                        assert request["startTime"] <= request["endTime"]
                        saw(f"network:{request['method']}")
    wanted = ['"tagName": "head"', '"tagName": "nav"', '"tagName": "form"', '"tagName": "button"',
              '"tagName": "img"', '"tagName": "p"', '"tagName": "label"', "input:text",
              "input:email", "input:tel", "input:password", "cc-number", "batch:1", "batch:6",
              "mutation:texts", "mutation:attributes", "mutation:adds", "mutation:removes",
              "interaction:0", "interaction:1", "interaction:2", "interaction:5",
              "interaction:6", "interaction:7", "interaction:9", "scroll", "input",
              "input:checked", "custom:$pageview", "custom:consent", "console:log",
              "console:info", "console:warn", "network:GET", "network:POST"]
    assert [w for w in wanted if w not in seen] == []


def test_every_node_an_event_names_is_live(demo: Demo) -> None:
    for sid, session in demo.sessions.items():
        mirror = Mirror()
        for seq, event in enumerate(session.events):
            mirror.apply(event, f"{sid} seq {seq}")


# -- the ground truth -------------------------------------------------------------------------

def test_expected_matches_the_reference_audit(demo: Demo, expected: dict,
                                              audit: dict[str, dict]) -> None:
    assert [s["session_id"] for s in expected["sessions"]] == \
        [e["session_id"] for e in demo.manifest["sessions"]]
    order = ("email", "phone", "card", "iban", "national_id", "password")
    for truth in expected["sessions"]:
        sid = truth["session_id"]
        entry = demo.sessions[sid].entry
        mine = audit[sid]
        assert truth["subject"] == entry.get("subject") and truth["device"] == entry["device"]
        assert truth["events"] == entry["events"]
        assert truth["flagged_seqs"] == mine["flagged_seqs"], sid
        assert truth["undetermined_seqs"] == mine["undetermined_seqs"], sid
        assert truth["categories"] == mine["categories"], sid
        assert sorted(truth["pii_kinds"], key=order.index) == truth["pii_kinds"]
        assert sorted(truth["pii_kinds"]) == mine["pii_kinds"], sid
    totals = expected["totals"]
    sessions = expected["sessions"]
    assert totals["sessions"] == len(sessions)
    assert totals["events"] == sum(len(s.events) for s in demo.sessions.values())
    assert totals["flagged_sessions"] == sum(1 for s in audit.values() if s["flagged_seqs"])
    assert totals["flagged_events"] == sum(len(s["flagged_seqs"]) for s in audit.values())
    assert totals["undetermined_events"] == sum(len(s["undetermined_seqs"])
                                                for s in audit.values())
    assert expected["archive_sha256"] == hashlib.sha256(ARCHIVE.read_bytes()).hexdigest()


def test_every_planted_situation_is_there(demo: Demo, expected: dict,
                                          audit: dict[str, dict]) -> None:
    """What the brief asks the demo to contain, found in the data (not in the plan's notes)."""
    truth = {s["session_id"]: s for s in expected["sessions"]}
    outs = {epoch_ms(c["at"]): c for c in demo.consent if c["action"] == "opt_out"}
    governing = {at for at, c in outs.items() if c.get("scope") in GOVERNING_SCOPES}

    def stamp(event: dict) -> int | None:
        return event.get("timestamp")

    partial = [sid for sid, a in audit.items()
               if a["flagged_seqs"] and len(a["flagged_seqs"]) < len(demo.sessions[sid].events)]
    # A ledger opt-out in the middle of a session, with the recording going on.
    def span(sid: str) -> tuple[int, int]:
        stamps = [e["timestamp"] for e in demo.sessions[sid].events if "timestamp" in e]
        return stamps[0], stamps[-1]

    mid = [sid for sid in partial if any(span(sid)[0] < at <= span(sid)[1] for at in governing)]
    assert mid
    # All six kinds of personal data captured after an opt-out, in one session.
    assert any(len(truth[sid]["pii_kinds"]) == 6 for sid in mid)
    # An event exactly at an opt-out instant (flagged), a batch stamped after it with every
    # position before it (not flagged), and one straddling it (flagged).
    at_instant = straddling = before_only = False
    for sid in mid:
        flagged = set(audit[sid]["flagged_seqs"])
        for seq, event in enumerate(demo.sessions[sid].events):
            ts = stamp(event)
            if ts in governing:
                at_instant |= seq in flagged
            if event["type"] == 3 and event["data"]["source"] in POINTER_SOURCES and ts:
                moments = [ts + p["timeOffset"] for p in event["data"]["positions"]]
                for at in governing:
                    if ts >= at > max(moments):
                        before_only |= seq not in flagged
                    if min(moments) < at <= max(moments):
                        straddling |= seq in flagged
    assert at_instant and before_only and straddling
    # Later sessions of that person with no subject at all, flagged through identities.
    assert any(truth[sid]["person"] == truth[mid[0]]["person"] and "subject" not in s.entry
               and audit[sid]["flagged_seqs"] for sid, s in demo.sessions.items())
    # An in-band opt-out marker followed by recorded (flagged) events.
    marker_sessions = [sid for sid, s in demo.sessions.items() if any(
        e["type"] == 5 and e["data"]["tag"] == "consent" for e in s.events)]
    assert marker_sessions and all(audit[sid]["flagged_seqs"] for sid in marker_sessions)
    # A device opt-out from GPC covering a session of someone who never opted out himself.
    gpc = [c["subject"] for c in demo.consent if c.get("source") == "gpc"]
    people_with_own_records = {c["subject"] for c in demo.consent}
    assert any(s.entry["device"] in gpc and s.entry.get("subject") not in people_with_own_records
               and audit[sid]["flagged_seqs"] == list(range(len(s.events)))
               for sid, s in demo.sessions.items())
    # An opt-out then an opt-in inside one session: flagged in between, clear after.
    ins = [epoch_ms(c["at"]) for c in demo.consent if c["action"] == "opt_in"]
    assert any(any(span(sid)[0] < at <= span(sid)[1] for at in ins)
               and audit[sid]["flagged_seqs"][-1] < len(demo.sessions[sid].events) - 1
               for sid in partial)
    # Marketing and ads opt-outs that flag nothing.
    ignored = {c["subject"] for c in demo.consent if c.get("scope") in ("marketing", "ads")}
    keys = Keys()
    for link in demo.identities:
        keys.union(link["subject"], link["alias"])
    ignored_people = {keys.find(k) for k in ignored}
    touched = [sid for sid, s in demo.sessions.items()
               if keys.find(s.entry.get("subject", "")) in ignored_people]
    assert touched and all(not audit[sid]["flagged_seqs"] for sid in touched)
    # A person who opted out and was not recorded afterwards: covered, yet nothing flagged.
    assert any(a["spans"] and not a["flagged_seqs"] for a in audit.values())
    # One event with no timestamp, undetermined.
    assert sum(len(a["undetermined_seqs"]) for a in audit.values()) == 1
    # A device two unlinked people share: one's opt-out flags nothing the other does there
    # afterwards (the device is not a link between them).
    on_device: dict[str, list[Session]] = {}
    for s in demo.sessions.values():
        if s.entry.get("subject"):
            on_device.setdefault(s.entry["device"], []).append(s)
    shared_and_clear = False
    for device, group in on_device.items():
        people = {keys.find(s.entry["subject"]) for s in group}
        if len(people) < 2 or device in gpc:
            continue
        for c in demo.consent:
            person = keys.find(c["subject"])
            if (person not in people or c["action"] != "opt_out"
                    or c.get("scope") not in GOVERNING_SCOPES):
                continue
            later = [s for s in group if keys.find(s.entry["subject"]) != person
                     and stamp(s.events[0]) > epoch_ms(c["at"])]
            shared_and_clear |= bool(later) and all(
                not audit[s.entry["session_id"]]["flagged_seqs"] for s in later)
    assert shared_and_clear


def test_readme_table_matches_expected(expected: dict) -> None:
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines()
            if line.startswith("| ")}
    for session in expected["sessions"]:
        row = rows[session["label"]]
        assert f"`{session['session_id']}`" in row
        counted = f"{len(session['flagged_seqs'])} of {session['events']:,}"
        assert row.rstrip(" |").split("| ")[-1].startswith(counted), row
        assert f"`{session['path'][session['path'].index('.'):]}`" in row


# -- the generator ----------------------------------------------------------------------------

def run_generator(out: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True,
                   capture_output=True, timeout=120)


def test_generator_rebuilds_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    run_generator(tmp_path / "first")
    run_generator(tmp_path / "second")
    for name in OUTPUTS:
        first = (tmp_path / "first" / name).read_bytes()
        assert first == (tmp_path / "second" / name).read_bytes(), f"{name} differs between runs"
        assert first == (SAMPLE / name).read_bytes(), \
            f"sample_data/{name} is stale: run python sample_data/make_sample.py"


# -- the project's importer reads it as the ground truth counts it --------------------------------

def test_importer_keeps_every_event_at_its_seq(tmp_path: Path, demo: Demo,
                                               expected: dict) -> None:
    with Store(tmp_path / "demo.duckdb") as store:
        report = import_paths(store, [ARCHIVE])
        (result,) = report.archives
        assert (result.status, result.format) == ("imported", "replay-archive")
        assert result.sessions == len(demo.sessions)
        assert result.events == expected["totals"]["events"]
        assert sum(p.count for p in result.problems) == expected["totals"]["undetermined_events"]
        assert store.count("consent") == len(demo.consent)
        assert store.count("identities") == len(demo.identities)
        rows = store.cursor().execute(
            "SELECT session_id, seq, timestamp, type FROM events ORDER BY session_id, seq"
        ).fetchall()
    stored: dict[str, list] = {}
    for sid, seq, ts, kind in rows:
        stored.setdefault(sid, []).append((seq, ts, kind))
    for sid, session in demo.sessions.items():
        assert stored[sid] == [(seq, e.get("timestamp"), e["type"])
                               for seq, e in enumerate(session.events)], sid


def test_folder_form_has_the_documented_digest_and_imports_alike(tmp_path: Path,
                                                                  demo: Demo) -> None:
    folder = tmp_path / "demo-archive"
    with zipfile.ZipFile(ARCHIVE) as archive:
        archive.extractall(folder)
    listing = sorted(f"{p.relative_to(folder).as_posix()}\0"
                     f"{hashlib.sha256(p.read_bytes()).hexdigest()}\n"
                     for p in folder.rglob("*") if p.is_file())
    digest = hashlib.sha256("".join(listing).encode()).hexdigest()
    assert replay_archive.folder_sha256(folder) == digest
    with Store(tmp_path / "folder.duckdb") as store:
        (result,) = import_paths(store, [folder]).archives
        assert (result.status, result.sha256) == ("imported", digest)
        assert result.sessions == len(demo.sessions)
        assert result.events == sum(len(s.events) for s in demo.sessions.values())
