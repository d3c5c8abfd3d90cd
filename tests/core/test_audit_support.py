"""Helpers for the audit tests: replay archives written to disk, imported, audited.

Every audit test goes through the real path: files in tmp_path, ``import_paths`` into a DuckDB
file, ``run_audit`` on it. This module holds no tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from inspector.core.audit import AuditResult, run_audit
from inspector.core.importer import import_paths
from inspector.core.store import Store

T = 1_710_000_000_000  # an instant in March 2024; tests count in ms from it


@dataclass
class Session:
    session_id: str
    events: list[dict]
    subject: str | None = None
    device: str | None = None


@dataclass
class Archive:
    sessions: list[Session]
    consent: list[dict] = field(default_factory=list)
    identities: list[dict] = field(default_factory=list)

    def write(self, root: Path) -> Path:
        """The archive as a folder under ``root`` (a replay archive, format version 1)."""
        root.mkdir(parents=True, exist_ok=True)
        entries = []
        for session in self.sessions:
            body = b"".join(orjson.dumps(e) + b"\n" for e in session.events)
            path = f"sessions/{session.session_id}.ndjson"
            (root / "sessions").mkdir(exist_ok=True)
            (root / path).write_bytes(body)
            entry = {"session_id": session.session_id, "path": path,
                     "sha256": hashlib.sha256(body).hexdigest(), "events": len(session.events)}
            if session.subject is not None:
                entry["subject"] = session.subject
            if session.device is not None:
                entry["device"] = session.device
            entries.append(entry)
        manifest = {"format": "replay-archive", "version": 1, "exporter": "audit tests",
                    "exported_at": "2024-03-31T10:00:00+00:00", "sessions": entries}
        (root / "manifest.json").write_bytes(orjson.dumps(manifest))
        if self.consent:
            (root / "consent.ndjson").write_bytes(b"".join(orjson.dumps(c) + b"\n"
                                                           for c in self.consent))
        if self.identities:
            (root / "identities.ndjson").write_bytes(b"".join(orjson.dumps(i) + b"\n"
                                                              for i in self.identities))
        return root


def audit(tmp_path: Path, archive: Archive, *, tolerance_ms: int = 0,
          name: str = "archive") -> AuditResult:
    """Write ``archive``, import it into a new database and audit it."""
    folder = archive.write(tmp_path / name)
    with Store(tmp_path / f"{name}.duckdb") as store:
        report = import_paths(store, [folder])
        assert not report.failed, report.failed[0].error
        return run_audit(store, tolerance_ms=tolerance_ms)


def flagged(result: AuditResult, session_id: str | None = None) -> list[int] | dict:
    """Flagged seqs of one session, or ``{session_id: [seq, ...]}`` for all."""
    out: dict[str, list[int]] = {}
    for row in result.flagged.to_pylist():
        out.setdefault(row["session_id"], []).append(row["seq"])
    if session_id is not None:
        return sorted(out.get(session_id, []))
    return {sid: sorted(seqs) for sid, seqs in out.items()}


def finding(result: AuditResult, session_id: str):
    found = [f for f in result.findings if f.session_id == session_id]
    assert len(found) == 1, f"expected one finding for {session_id}, found {len(found)}"
    return found[0]


# -- events -------------------------------------------------------------------------------

def meta(ts: int | None, href: str = "https://shop.example/") -> dict:
    return _stamped({"type": 4, "data": {"href": href, "width": 1280, "height": 800}}, ts)


def click(ts: int | None, node: int = 1) -> dict:
    return _stamped({"type": 3, "data": {"source": 2, "type": 2, "id": node, "x": 1, "y": 2}},
                    ts)


def scroll(ts: int | None) -> dict:
    return _stamped({"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": 100}}, ts)


def moves(ts: int | None, offsets: list[int], source: int = 1) -> dict:
    positions = [{"x": i, "y": i, "id": 1, "timeOffset": off} for i, off in enumerate(offsets)]
    return _stamped({"type": 3, "data": {"source": source, "positions": positions}}, ts)


def typed(ts: int | None, node: int, text: str) -> dict:
    return _stamped({"type": 3, "data": {"source": 5, "text": text, "isChecked": False,
                                         "id": node}}, ts)


def text_change(ts: int | None, node: int, value: str) -> dict:
    return _stamped({"type": 3, "data": {"source": 0, "texts": [{"id": node, "value": value}],
                                         "attributes": [], "removes": [], "adds": []}}, ts)


def snapshot(ts: int | None, *children: dict) -> dict:
    """A FullSnapshot of a page whose body holds ``children`` (element or text dicts)."""
    body = {"type": 2, "tagName": "body", "attributes": {}, "childNodes": list(children),
            "id": 3}
    html = {"type": 2, "tagName": "html", "attributes": {}, "childNodes": [body], "id": 2}
    return _stamped({"type": 2, "data": {"node": {"type": 0, "childNodes": [html], "id": 1},
                                         "initialOffset": {"left": 0, "top": 0}}}, ts)


def element(node: int, tag: str, attributes: dict, *children: dict) -> dict:
    return {"type": 2, "tagName": tag, "attributes": attributes, "childNodes": list(children),
            "id": node}


def text_node(node: int, text: str) -> dict:
    return {"type": 3, "textContent": text, "id": node}


def custom(ts: int | None, tag: str, payload: dict) -> dict:
    return _stamped({"type": 5, "data": {"tag": tag, "payload": payload}}, ts)


def marker(ts: int | None, action: str, scope: str | None = None) -> dict:
    payload = {"action": action} | ({"scope": scope} if scope is not None else {})
    return custom(ts, "consent", payload)


def console(ts: int | None, *args: object) -> dict:
    return _stamped({"type": 6, "data": {"plugin": "rrweb/console@1", "payload": {
        "level": "log", "payload": [orjson.dumps(a).decode() for a in args], "trace": []}}}, ts)


def network(ts: int | None, url: str, body: object) -> dict:
    return _stamped({"type": 6, "data": {"plugin": "rrweb/network@1", "payload": {"requests": [
        {"name": url, "method": "POST", "initiatorType": "fetch", "responseStatus": 200,
         "requestHeaders": {}, "requestBody": orjson.dumps(body).decode(),
         "responseBody": None, "startTime": 1.0, "endTime": 2.0}]}}}, ts)


def _stamped(event: dict, ts: int | None) -> dict:
    if ts is not None:
        event["timestamp"] = ts
    return event


def opt_out(subject: str, at: int, scope: str | None = None, **extra: str) -> dict:
    return {"subject": subject, "action": "opt_out", "at": at} | (
        {"scope": scope} if scope is not None else {}) | extra


def opt_in(subject: str, at: int, scope: str | None = None) -> dict:
    return {"subject": subject, "action": "opt_in", "at": at} | (
        {"scope": scope} if scope is not None else {})


def link(subject: str, alias: str) -> dict:
    return {"subject": subject, "alias": alias}


def clicks(*offsets: int) -> list[dict]:
    """One click at ``T + offset`` for each offset, in the order given."""
    return [click(T + off) for off in offsets]
