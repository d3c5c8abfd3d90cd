"""Helpers for the redaction tests: a session with personal data planted in every channel,
written in every container, and the checks a redacted copy must pass. This module holds no
tests.

Every check goes through the real path: files in tmp_path, ``redact`` (or ``inspector redact``),
then ``inspector audit`` and ``import_paths`` on the copy.
"""

from __future__ import annotations

import gzip
import html
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson

from inspector.cli import main
from inspector.core import pii
from inspector.core.importer import import_paths
from inspector.core.store import Store

from .test_audit_support import (
    T,
    click,
    console,
    custom,
    element,
    marker,
    meta,
    moves,
    network,
    snapshot,
    text_change,
    text_node,
    typed,
)

EMAIL = "alice.moreau@example.com"
PHONE = "+44 20 7946 0958"
CARD = "4111 1111 1111 1111"
IBAN = "GB82 WEST 1234 5698 7654 32"
NINO = "AB 12 34 56 C"
PASSWORD = "correct-horse-battery"
#: Text with no personal data in it: it must survive masking.
ORDINARY = "Daypack 22L added to your basket"
OTHER_ORDINARY = "Free delivery on orders over 50 pounds"
#: The values that must be gone from a masked copy, and the digits of the numeric ones.
PLANTED = (EMAIL, PHONE, CARD, IBAN, NINO, PASSWORD)
PLANTED_COMPACT = ("4111111111111111", "GB82WEST12345698765432", "442079460958")


def partials(text: str) -> list[str]:
    """What an Input event records while ``text`` is typed letter by letter."""
    return [text[:n] for n in range(1, len(text) + 1)]


def planted(t0: int) -> list[dict]:
    """A checkout page: personal data in every channel a recording has, then more of it.

    Node ids: 10 contact text, 20 e-mail field, 21 password, 22 free-text notes (a phone is
    typed), 23 card field (autocomplete cc-number), 30 image, 31 link, 32 form, 40 ordinary text.
    """
    events = [meta(t0, f"https://shop.example/checkout?email={quote(EMAIL)}&page=2")]
    events.append(snapshot(
        t0 + 1,
        element(9, "p", {"class": "contact"}, text_node(10, f"Contact: {EMAIL}")),
        element(20, "input", {"type": "email", "name": "email", "value": "",
                              "placeholder": f"e.g. {EMAIL}"}),
        element(21, "input", {"type": "password", "name": "pw"}),
        element(22, "textarea", {"name": "notes"}),
        element(23, "input", {"name": "pay", "autocomplete": "cc-number"}),
        element(30, "img", {"alt": f"Photo of {EMAIL}", "title": PHONE,
                            "src": f"https://cdn.example/a.png?email={quote(EMAIL)}",
                            "data-user": EMAIL, "aria-label": f"Call {PHONE}"}),
        element(31, "a", {"href": f"https://shop.example/login?user=alice&password={PASSWORD}"},
                text_node(33, "Sign in")),
        element(32, "form", {"action": f"/subscribe?email={quote(EMAIL)}"}),
        element(39, "p", {}, text_node(40, ORDINARY)),
    ))
    ts = t0 + 10
    for field, value in ((20, EMAIL), (21, PASSWORD), (22, f"call me on {PHONE}"),
                         (23, CARD)):
        for partial in partials(value):
            events.append(typed(ts, field, partial))
            ts += 1
    events.append({"type": 3, "timestamp": ts, "data": {
        "source": 0, "removes": [],
        "adds": [{"parentId": 3, "nextId": None, "node": element(50, "p", {"title": IBAN})},
                 {"parentId": 50, "nextId": None,
                  "node": text_node(51, f"Card {CARD} saved for {EMAIL}")}],
        "texts": [{"id": 10, "value": f"Call {PHONE} or write to {EMAIL}"}],
        "attributes": [{"id": 30, "attributes": {"title": f"IBAN {IBAN}",
                                                 "data-nino": NINO}}]}})
    events.append(console(ts + 1, "signed in as", EMAIL, {"iban": IBAN}))
    events[-1]["data"]["payload"]["trace"] = [
        f"https://shop.example/app.js?email={quote_plus(EMAIL)}:2:10"]
    request = network(ts + 2, f"https://api.example/lookup?email={quote(EMAIL)}",
                      {"card": CARD, "nino": NINO, "note": OTHER_ORDINARY})
    request["data"]["payload"]["requests"][0].update({
        "requestHeaders": {"authorization": "Bearer s3cr3t-t0ken", "x-user": EMAIL},
        "responseBody": f"email={quote_plus(EMAIL)}&password={PASSWORD}"})
    events.append(request)
    events.append(custom(ts + 3, "$identify", {"email": EMAIL, "phone": PHONE,
                                               "href": f"https://shop.example/?e={EMAIL}",
                                               "note": OTHER_ORDINARY}))
    events.append(text_change(ts + 4, 40, ORDINARY))
    return events


def session_with_opt_out(t0: int = T) -> tuple[list[dict], int]:
    """The planted page, then more activity; returns (events, the opt-out instant)."""
    events = planted(t0)
    at = events[-1]["timestamp"] + 100
    events += [click(at - 50, 40), moves(at + 20, [-40, -30, 0, 5]), click(at, 40),
               typed(at + 30, 22, "after the opt-out"), click(at + 40, 39)]
    return events, at


# -- containers ------------------------------------------------------------------------------

def ndjson(events: list) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def packed(event: dict) -> str:
    """``event`` as @rrweb/packer writes it."""
    return zlib.compress(orjson.dumps({**event, "v": "v1"})).decode("latin-1")


def posthog_compressed(event: dict) -> dict:
    """``event`` as posthog-js compresses it (``cv`` 2024-10)."""
    def gz(value) -> str:
        return gzip.compress(orjson.dumps(value), mtime=0).decode("latin-1")

    data = event["data"]
    if event["type"] == 2:
        return {**event, "cv": "2024-10", "data": gz(data)}
    if event["type"] == 3 and data.get("source") == 0:
        return {**event, "cv": "2024-10",
                "data": {**data, **{k: gz(data[k]) for k in ("adds", "texts", "attributes")}}}
    return event


def posthog_export(events: list[dict], *, version: str, person_ids: list[str],
                   window: str = "w-1") -> dict:
    person = {"id": 7, "name": person_ids[0], "distinct_ids": person_ids,
              "properties": {"email": EMAIL, "$initial_os": "Mac OS X"},
              "uuid": "0187d7c7-61b7-0000-d6a1-59b207080ac0"}
    if version == "2023-04-28":
        return {"version": version, "data": {"id": "ph-session", "person": person,
                                             "snapshots": [{**e, "windowId": window}
                                                           for e in events]}}
    return {"version": version, "data": {"person": person,
                                         "snapshotsByWindowId": {window: events}}}


def write_archive(root: Path, sessions: list[tuple[str, list, dict]], *, consent=(),
                  identities=(), encodings: dict[str, str] | None = None) -> Path:
    """A replay archive folder; ``sessions``: (session_id, events, {"subject", "device"})."""
    import hashlib

    (root / "sessions").mkdir(parents=True, exist_ok=True)
    entries = []
    for session_id, events, keys in sessions:
        encoding = (encodings or {}).get(session_id, ".ndjson")
        body = ndjson(events)
        if encoding == ".ndjson.gz":
            body = gzip.compress(body, mtime=0)
        elif encoding == ".json":
            body = orjson.dumps(events)
        path = f"sessions/{session_id}{encoding}"
        (root / path).write_bytes(body)
        entries.append({"session_id": session_id, "path": path, "events": len(events),
                        "sha256": hashlib.sha256(body).hexdigest(), **keys})
    (root / "manifest.json").write_bytes(orjson.dumps({
        "format": "replay-archive", "version": 1, "exporter": "redaction tests",
        "exported_at": "2024-03-31T10:00:00+00:00", "sessions": entries}))
    for name, records in (("consent.ndjson", consent), ("identities.ndjson", identities)):
        if records:
            (root / name).write_bytes(ndjson(list(records)))
    return root


def zip_folder(root: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            bundle.write(path, path.relative_to(root).as_posix())
    return out


# -- checks ----------------------------------------------------------------------------------

def audit_exit(capsys, path: Path, *extra: str) -> int:
    code = main(["audit", str(path), *extra])
    capsys.readouterr()
    return code


def sidecar_ledger(tmp_path: Path, out: Path) -> list[str]:
    """``--consent``/``--identities`` options made from a single-file copy's record."""
    record = orjson.loads(Path(f"{out}.redaction.json").read_bytes())
    options = []
    for kind in ("consent", "identities"):
        records = record["ledger"][kind]
        if records:
            path = tmp_path / f"carried-{kind}.ndjson"
            path.write_bytes(ndjson(records))
            options += [f"--{kind}", str(path)]
    return options


def imported(tmp_path: Path, path: Path, name: str = "copy") -> dict:
    """The copy as the importer reads it: {session_id: [(seq, type, data dict)]}, and more."""
    with Store(tmp_path / f"{name}.duckdb") as store:
        report = import_paths(store, [path])
        assert not report.failed, report.failed[0].error
        rows = store.con.execute("SELECT session_id, seq, type, data, timestamp FROM events "
                                 "ORDER BY session_id, seq").fetchall()
        sessions = {sid: (subject, device) for sid, subject, device in store.con.execute(
            "SELECT session_id, subject, device FROM sessions").fetchall()}
    events: dict[str, list] = {}
    for sid, seq, kind, data, ts in rows:
        events.setdefault(sid, []).append((seq, kind, orjson.loads(data), ts))
    return {"events": events, "sessions": sessions}


def all_text(tmp_path: Path, path: Path) -> str:
    """Every event's data as the importer decodes it, and every file's bytes, lower case."""
    copy = imported(tmp_path, path, "text")
    parts = [orjson.dumps(data).decode() for rows in copy["events"].values()
             for _, _, data, _ in rows]
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    if Path(f"{path}.redaction.json").exists():
        files.append(Path(f"{path}.redaction.json"))
    for file in files:
        data = file.read_bytes()
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as bundle:
                data = b"\n".join(bundle.read(n) for n in bundle.namelist())
        elif data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts).lower()


def escaped_forms(value: str) -> set[str]:
    forms = (value, quote(value), quote_plus(value), quote(value, safe="@"), html.escape(value),
             orjson.dumps(value).decode()[1:-1], value.replace("@", "\\u0040"))
    return {form.lower() for form in forms}


def assert_no_planted_data(tmp_path: Path, path: Path) -> None:
    text = all_text(tmp_path, path)
    for value in PLANTED:
        for form in escaped_forms(value):
            assert form not in text, f"{value!r} is still in the copy (as {form!r})"
    for compact in PLANTED_COMPACT:
        assert compact.lower() not in text
    assert ORDINARY.lower() in text and OTHER_ORDINARY.lower() in text


def assert_no_pii_found(tmp_path: Path, path: Path) -> None:
    """Nothing :func:`pii.find_pii` can find is left in any string of the copy's events."""
    copy = imported(tmp_path, path, "scan")
    found = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str):
            found.extend((m.kind, key) for m in pii.find_pii(value, context=key))

    for rows in copy["events"].values():
        for _, _, data, _ in rows:
            walk(data)
    assert found == []


def typed_values(copy: dict, session_id: str | None = None) -> list[str]:
    return [data["text"] for sid, rows in copy["events"].items()
            if session_id in (None, sid)
            for _, kind, data, _ in rows if kind == 3 and data.get("source") == 5]


__all__ = ["T", "marker"]
