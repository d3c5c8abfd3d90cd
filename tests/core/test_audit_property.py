"""The SQL flagging agrees with a small pure-Python reading of the rules on random cases.

The reference below is written from docs/audit-rules.md alone and shares no code with
``inspector.core.audit``. Hypothesis draws ledgers, identity links, sessions with clicks,
move batches, consent markers and untimed events, from a small pool of keys and instants so
that shared devices, ties and boundaries come up often.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_audit_support import Archive, Session, T, audit

KEYS = ["k0", "k1", "k2"]
SCOPES = [None, "replay", "analytics", "all", "marketing", "ads", "ALL"]
instants = st.integers(0, 8).map(lambda n: n * 25)  # few distinct instants: ties are common
maybe_instant = st.one_of(st.none(), instants, instants, instants)


@st.composite
def events(draw) -> dict:
    kind = draw(st.sampled_from(["click", "click", "move", "marker", "custom"]))
    ts = draw(maybe_instant)
    if kind == "click":
        event = {"type": 3, "data": {"source": 2, "type": 2, "id": 1}}
    elif kind == "move":
        offsets = draw(st.lists(st.integers(-80, 10), max_size=3))
        source = draw(st.sampled_from([1, 6, 12]))
        event = {"type": 3, "data": {"source": source, "positions": [
            {"x": 0, "y": 0, "id": 1, "timeOffset": off} for off in offsets]}}
    elif kind == "marker":
        payload = {"action": draw(st.sampled_from(["opt_out", "opt_in"]))}
        scope = draw(st.sampled_from(SCOPES))
        if scope is not None:
            payload["scope"] = scope
        event = {"type": 5, "data": {"tag": "consent", "payload": payload}}
    else:
        tag = draw(st.sampled_from(["$pageview", "consent"]))
        event = {"type": 5, "data": {"tag": tag, "payload": {"action": "banner_shown"}}}
    if ts is not None:
        event["timestamp"] = T + ts
    return event


@st.composite
def cases(draw) -> tuple[Archive, int]:
    key = st.one_of(st.none(), st.sampled_from(KEYS))
    sessions = [Session(f"s{i}", draw(st.lists(events(), max_size=8)), subject=draw(key),
                        device=draw(key))
                for i in range(draw(st.integers(1, 4)))]
    consent = []
    for _ in range(draw(st.integers(0, 6))):
        record = {"subject": draw(st.sampled_from(KEYS)),
                  "action": draw(st.sampled_from(["opt_out", "opt_out", "opt_in"])),
                  "at": T + draw(instants)}
        scope = draw(st.sampled_from(SCOPES))
        if scope is not None:
            record["scope"] = scope
        consent.append(record)
    identities = [{"subject": a, "alias": b} for a, b in draw(st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)), max_size=3))]
    tolerance = draw(st.sampled_from([0, 0, 10, 25, 60]))
    return Archive(sessions, consent, identities), tolerance


# -- the reference --------------------------------------------------------------------------

def reference(archive: Archive, tolerance: int) -> tuple[dict, dict]:
    """``({session: flagged seqs}, {session: undetermined seqs})`` by the rules as written."""
    parent = {}

    def find(key):
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for link in archive.identities:
        parent[find(link["subject"])] = find(link["alias"])

    def governs(scope):
        return scope is None or scope.strip().lower() in ("replay", "analytics", "all")

    def is_marker(event):
        data = event["data"]
        return (event["type"] == 5 and data.get("tag") == "consent"
                and data["payload"].get("action") in ("opt_out", "opt_in"))

    def own_key(session):
        return session.subject or session.device or ("session", session.session_id)

    records = [(find(c["subject"]), c["action"], c["at"]) for c in archive.consent
               if governs(c.get("scope"))]
    for session in archive.sessions:
        for event in session.events:
            payload = event["data"].get("payload", {})
            if is_marker(event) and "timestamp" in event and governs(payload.get("scope")):
                records.append((find(own_key(session)), payload["action"], event["timestamp"]))

    flagged, undetermined = {}, {}
    for session in archive.sessions:
        people = {find(k) for k in (session.subject, session.device) if k}
        if not people:
            people = {("session", session.session_id)}
        mine = [(action, at) for person, action, at in records if person in people]
        spans = []
        for action, at in mine:
            if action == "opt_out":
                later = [i for a, i in mine if a == "opt_in" and i > at]
                spans.append((at + tolerance, min(later) if later else float("inf")))
        for seq, event in enumerate(session.events):
            if is_marker(event):
                continue
            if "timestamp" not in event:
                if any(action == "opt_out" for action, _ in mine):
                    undetermined.setdefault(session.session_id, []).append(seq)
                continue
            ts, data = event["timestamp"], event["data"]
            moments = [ts]
            if event["type"] == 3 and data["source"] in (1, 6, 12) and data["positions"]:
                moments = [ts + p["timeOffset"] for p in data["positions"]]
            if any(start <= t < end for t in moments for start, end in spans):
                flagged.setdefault(session.session_id, []).append(seq)
    return flagged, undetermined


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_sql_flagging_matches_the_reference(case):
    archive, tolerance = case
    want_flagged, want_undetermined = reference(archive, tolerance)
    with tempfile.TemporaryDirectory() as tmp:
        result = audit(Path(tmp), archive, tolerance_ms=tolerance)
    got_flagged: dict[str, list[int]] = {}
    for row in result.flagged.to_pylist():
        got_flagged.setdefault(row["session_id"], []).append(row["seq"])
    assert {sid: sorted(seqs) for sid, seqs in got_flagged.items()} == want_flagged
    assert {f.session_id: f.undetermined_seqs for f in result.findings
            if f.undetermined_seqs} == want_undetermined
    assert result.flagged_events == sum(map(len, want_flagged.values()))
    assert result.undetermined_events == sum(map(len, want_undetermined.values()))
