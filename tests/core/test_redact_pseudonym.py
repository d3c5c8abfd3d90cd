"""``--pseudonymize-key``: keys and e-mail addresses become HMAC pseudonyms that still join.

The pseudonyms are computed here from the issue's definition (HMAC-SHA256 of the normalised
value under the key file's bytes, first 16 hex digits), not with the code under test, and
looked for in every place a copy holds keys: the sessions as the importer reads them, the
carried consent ledger and identity links, event payloads, a PostHog person, the redaction
record.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import os
import zipfile
from pathlib import Path

import orjson
import pytest

from inspector.cli import main
from inspector.core.audit.keys import IdentityGraph
from inspector.core.importer import import_paths
from inspector.core.redact import redact
from inspector.core.store import Store

from .test_audit_support import T, custom, link, opt_out
from .test_redact_support import (
    EMAIL,
    ORDINARY,
    audit_exit,
    imported,
    ndjson,
    planted,
    posthog_export,
    session_with_opt_out,
    sidecar_ledger,
    write_archive,
    zip_folder,
)

USER, ANON, DEVICE, OTHER, THIRD = "user-0001", "anon-0001", "device-0001", "user-0002", \
    "user-0003"
SOURCE_KEYS = (USER, ANON, DEVICE, OTHER, THIRD, EMAIL)


def make_key(folder: Path) -> tuple[Path, bytes]:
    """A key file as the hint says to make one: base64 of 32 random bytes, with a newline."""
    key = base64.b64encode(os.urandom(32))
    path = folder / "key.txt"
    path.write_bytes(key + b"\n")
    return path, key


def pseudonym(key: bytes, value: str) -> str:
    normal = value.strip()
    if "@" in normal:
        normal = normal.casefold()
    return hmac.new(key, normal.encode(), hashlib.sha256).hexdigest()[:16]


def archive(root: Path) -> tuple[Path, int]:
    """Three sessions: USER on DEVICE (opts out as ANON), EMAIL's (linked to OTHER), and THIRD
    on the same DEVICE; keys also appear inside events."""
    events, at = session_with_opt_out()
    events.insert(2, custom(T + 5, "$identify", {"user_id": USER, "note": f"signed in as {USER}",
                                                 "contact": EMAIL.upper()}))
    return write_archive(
        root, [("s1", events, {"subject": USER, "device": DEVICE}),
               ("s2", planted(T + 60_000), {"subject": EMAIL}),
               ("s3", planted(T + 120_000)[:3], {"subject": THIRD, "device": DEVICE})],
        consent=[opt_out(ANON, at)],
        identities=[link(USER, ANON), link(OTHER, EMAIL)]), at


def output_bytes(path: Path) -> bytes:
    """Every byte the copy consists of: files, zip members, gzip contents, the record."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    record = Path(f"{path}.redaction.json")
    if record.exists():
        files.append(record)
    parts = []
    for file in files:
        data = file.read_bytes()
        parts.append(data)
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as bundle:
                members = [bundle.read(name) for name in bundle.namelist()]
            parts += members
            parts += [gzip.decompress(m) for m in members if m[:2] == b"\x1f\x8b"]
        elif data[:2] == b"\x1f\x8b":
            parts.append(gzip.decompress(data))
    return b"\n".join(parts)


def assert_key_absent(path: Path, key: bytes) -> None:
    data = output_bytes(path)
    for form in (key, key.hex().encode(), base64.b64encode(key),
                 base64.b64decode(key), base64.b64decode(key).hex().encode()):
        assert form not in data and form.lower() not in data.lower()


def persons(store_path: Path, source: Path) -> list[set[str]]:
    """The sessions grouped by person (identity links and ledger of the recording itself)."""
    with Store(store_path) as store:
        import_paths(store, [source])
        con = store.cursor()
        graph = IdentityGraph.load(con)
        sessions = con.execute("SELECT session_id, subject, device FROM sessions").fetchall()
        con.close()
    # Two sessions are one person's when their keys share a person.
    groups: list[tuple[set[str], set[str]]] = []
    for sid, subject, device in sessions:
        merged = ({sid}, {graph.person(k) for k in (subject, device) if k})
        for group in [g for g in groups if g[1] & merged[1]]:
            merged[0].update(group[0])
            merged[1].update(group[1])
            groups.remove(group)
        groups.append(merged)
    return sorted((sids for sids, _ in groups), key=sorted)


def test_archive_keys_become_the_same_pseudonyms_everywhere(tmp_path, capsys):
    source, at = archive(tmp_path / "src")
    key_file, key = make_key(tmp_path)
    out = tmp_path / "out"
    code = main(["redact", str(source), "-o", str(out), "--pseudonymize-key", str(key_file)])
    capsys.readouterr()
    assert code == 0
    p = {value: pseudonym(key, value) for value in SOURCE_KEYS}
    assert len(set(p.values())) == len(p)
    copy = imported(tmp_path, out)
    assert copy["sessions"] == {"s1": (p[USER], p[DEVICE]), "s2": (p[EMAIL], None),
                                "s3": (p[THIRD], p[DEVICE])}
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert {s["session_id"]: (s.get("subject"), s.get("device"))
            for s in manifest["sessions"]} == copy["sessions"]
    assert orjson.loads((out / "consent.ndjson").read_bytes()) == \
        {"subject": p[ANON], "action": "opt_out", "at": at}
    carried = [orjson.loads(line) for line in (out / "identities.ndjson").read_bytes()
               .splitlines()]
    assert sorted(carried, key=orjson.dumps) == \
        sorted([link(p[USER], p[ANON]), link(p[OTHER], p[EMAIL])], key=orjson.dumps)
    identify = next(data for _, kind, data, _ in copy["events"]["s1"]
                    if kind == 5 and data["tag"] == "$identify")
    assert identify["payload"] == {"user_id": p[USER], "note": f"signed in as {p[USER]}",
                                   "contact": p[EMAIL]}
    # The e-mail field's partial values all become the address it settled on.
    s2 = orjson.dumps(copy["events"]["s2"]).decode()
    assert p[EMAIL] in s2 and ORDINARY in s2
    text = output_bytes(out).decode("utf-8", "replace").lower()
    for value in SOURCE_KEYS:
        assert value.lower() not in text, value
    assert "alice.moreau%40example.com" not in text
    assert_key_absent(out, key)
    record = orjson.loads((out / "redaction.json").read_bytes())
    assert record["options"]["pseudonymize"]["key_id"] not in p.values()
    assert record["counts"]["pseudonymized"]["keys"] >= 4
    assert record["counts"]["pseudonymized"]["emails"] >= 1
    assert "masked" not in record["counts"]  # pseudonyms only: nothing else masked
    # Analyses still join: the copy audits clean with what it carries, and its sessions are
    # grouped into people exactly as the source's are.
    assert audit_exit(capsys, source) == 1
    assert audit_exit(capsys, out) == 0
    assert persons(tmp_path / "a.duckdb", source) == persons(tmp_path / "b.duckdb", out) == \
        [{"s1", "s3"}, {"s2"}]


def test_same_key_same_pseudonyms_other_key_others(tmp_path):
    source, _ = archive(tmp_path / "src")
    zipped = zip_folder(source, tmp_path / "src.zip")
    key_file, key = make_key(tmp_path)
    redact(source, tmp_path / "a", pseudonymize_key=key_file, mask_pii=True)
    redact(zipped, tmp_path / "b.zip", pseudonymize_key=key_file)
    other = tmp_path / "other-key.txt"
    other.write_bytes(base64.b64encode(os.urandom(32)))
    redact(source, tmp_path / "c", pseudonymize_key=other)
    a = imported(tmp_path, tmp_path / "a", "a")["sessions"]
    b = imported(tmp_path, tmp_path / "b.zip", "b")["sessions"]
    c = imported(tmp_path, tmp_path / "c", "c")["sessions"]
    assert a == b and a["s1"] == (pseudonym(key, USER), pseudonym(key, DEVICE))
    assert not {k for keys in a.values() for k in keys if k} & \
        {k for keys in c.values() for k in keys if k}
    assert_key_absent(tmp_path / "b.zip", key)
    assert_key_absent(tmp_path / "a", key)


def test_posthog_export_person_and_sidecar_ledger(tmp_path, capsys):
    events, at = session_with_opt_out()
    source = tmp_path / "export.json"
    source.write_bytes(orjson.dumps(posthog_export(events, version="2023-04-28",
                                                   person_ids=[OTHER, ANON])))
    consent = tmp_path / "consent.ndjson"
    consent.write_bytes(ndjson([opt_out(ANON, at)]))
    key_file, key = make_key(tmp_path)
    out = tmp_path / "copy.json"
    result = redact(source, out, consent=consent, pseudonymize_key=key_file)
    assert result.flagged_removed > 0
    person = orjson.loads(out.read_bytes())["data"]["person"]
    assert person["distinct_ids"] == [pseudonym(key, OTHER), pseudonym(key, ANON)]
    assert person["name"] == pseudonym(key, OTHER)
    assert person["properties"]["email"] == pseudonym(key, EMAIL)
    record = orjson.loads(Path(f"{out}.redaction.json").read_bytes())
    assert record["ledger"]["consent"] == [{"subject": pseudonym(key, ANON), "action": "opt_out",
                                            "at": at}]
    assert [(s["subject"], s["device"]) for s in record["sessions"]] == \
        [(pseudonym(key, OTHER), None)]
    assert list(imported(tmp_path, out)["sessions"].values()) == [(pseudonym(key, OTHER), None)]
    assert audit_exit(capsys, out, *sidecar_ledger(tmp_path, out)) == 0
    text = output_bytes(out).decode()
    assert OTHER not in text and ANON not in text and EMAIL not in text
    assert_key_absent(out, key)


@pytest.mark.parametrize("content", [None, b"", b"  \n", b"too short\n"])
def test_missing_empty_or_short_key_file(tmp_path, capsys, content):
    source, _ = archive(tmp_path / "src")
    key_file = tmp_path / "key.txt"
    if content is not None:
        key_file.write_bytes(content)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["redact", str(source), "-o", str(tmp_path / "out"), "--pseudonymize-key",
                 str(key_file)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("inspector: error: ") and err.count("\n") == 1
    assert str(key_file) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
