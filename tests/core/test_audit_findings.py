"""What a finding says: categories, personal data (kinds and counts, never values), pages,
severity, and the text and JSON reports."""

from __future__ import annotations

import orjson
import pytest

from inspector.core.audit.categories import CATEGORIES, category_of

from .test_audit_support import (
    Archive,
    Session,
    T,
    audit,
    click,
    console,
    custom,
    element,
    finding,
    marker,
    meta,
    moves,
    network,
    opt_out,
    scroll,
    snapshot,
    text_change,
    text_node,
    typed,
)

EMAIL = "alice.moreau@example.com"
PASSWORD = "Lavender-Fields-77"
CARD = "4111 1111 1111 1111"
IBAN = "GB82 WEST 1234 5698 7654 32"
PHONE = "+44 20 7946 0958"


def every_kind_of_event(start: int) -> list[dict]:
    events = [{"type": kind, "data": {}, "timestamp": start + kind} for kind in (0, 1, 7)]
    events += [{"type": 3, "data": {"source": source}, "timestamp": start + 10 + source}
               for source in range(18)]
    events += [snapshot(start + 40), meta(start + 41), custom(start + 42, "$pageview", {}),
               console(start + 43, "hello"), network(start + 44, "https://x.example/", {}),
               {"type": 6, "data": {"plugin": "rrweb/sequential-id@1", "payload": {"id": 1}},
                "timestamp": start + 45}]
    return events


def test_every_event_falls_in_the_category_the_python_rule_gives(tmp_path):
    events = every_kind_of_event(T + 100)
    archive = Archive([Session("s1", events, subject="u-1")], consent=[opt_out("u-1", T)])
    result = audit(tmp_path, archive)
    rows = result.flagged.to_pylist()
    assert [row["seq"] for row in rows] == list(range(len(events)))
    for row in rows:
        event = events[row["seq"]]
        expected = category_of(event["type"], event["data"].get("source"), event["data"])
        assert row["category"] == expected, event
    by_category = finding(result, "s1").by_category
    assert set(by_category) == set(CATEGORIES)
    assert by_category == {"typed_input": 1, "page_content": 12, "page_urls": 1,
                           "pointer_scroll": 8, "console": 2, "network": 1, "custom": 2}


def test_personal_data_is_counted_by_kind_never_shown(tmp_path):
    fields = snapshot(
        T + 10,
        element(10, "input", {"type": "password", "name": "pw"}),
        element(11, "input", {"type": "email", "name": "email"}),
        element(12, "input", {"autocomplete": "cc-exp", "name": "exp"}),
        element(13, "p", {}, text_node(14, f"Questions? Call {PHONE}")),
    )
    events = [fields]
    # Typed letter by letter: only the value the field settled on counts.
    events += [typed(T + 20 + i, 11, EMAIL[:i]) for i in range(1, len(EMAIL) + 1)]
    events += [typed(T + 100, 10, PASSWORD), typed(T + 101, 10, "*" * len(PASSWORD)),
               typed(T + 102, 12, "09/27"),
               network(T + 110, "https://shop.example/api/pay", {"iban": IBAN}),
               console(T + 120, "charged", CARD),
               meta(T + 130, f"https://shop.example/done?order=9&email={EMAIL}"),
               moves(T + 140, [-5])]
    archive = Archive([Session("s1", events, subject="u-1")], consent=[opt_out("u-1", T)])
    result = audit(tmp_path, archive)
    found = finding(result, "s1")
    assert found.pii == {"email": 2, "phone": 1, "card": 2, "iban": 1, "password": 1}
    assert found.pages_after_opt_out == ["https://shop.example/done?order=…&email=…"]
    assert found.severity == "high"
    reports = orjson.dumps(result.as_json()).decode() + result.as_text()
    for secret in (EMAIL, PASSWORD, CARD, IBAN, PHONE, "7946", "GB82", "alice"):
        assert secret not in reports


def test_a_password_field_is_known_from_attributes_set_before_the_opt_out(tmp_path):
    # The page and the field's type arrive before the opt-out (not flagged); the typing after
    # it is flagged, and the rebuilt attributes say it was a password.
    events = [snapshot(T, element(10, "input", {"name": "q"})),
              {"type": 3, "timestamp": T + 5, "data": {
                  "source": 0, "texts": [], "removes": [], "adds": [],
                  "attributes": [{"id": 10, "attributes": {"type": "password"}}]}},
              typed(T + 200, 10, "correct horse")]
    archive = Archive([Session("s1", events, subject="u-1")],
                      consent=[opt_out("u-1", T + 100)])
    found = finding(audit(tmp_path, archive), "s1")
    assert found.by_category == {"typed_input": 1}
    assert found.pii == {"password": 1}


def test_a_new_page_starts_its_nodes_afresh(tmp_path):
    # Node 10 is a password field on the first page and a search box on the second.
    events = [snapshot(T, element(10, "input", {"type": "password"})),
              snapshot(T + 50, element(10, "input", {"type": "search", "name": "q"})),
              typed(T + 200, 10, "tents")]
    archive = Archive([Session("s1", events, subject="u-1")],
                      consent=[opt_out("u-1", T + 100)])
    assert finding(audit(tmp_path, archive), "s1").pii == {}


def test_personal_data_in_page_text_makes_a_finding_high(tmp_path):
    events = [text_change(T + 200, 5, f"We will text you at {PHONE}")]
    archive = Archive([Session("s1", events, subject="u-1")], consent=[opt_out("u-1", T)])
    found = finding(audit(tmp_path, archive), "s1")
    assert (found.severity, found.pii) == ("high", {"phone": 1})


@pytest.mark.parametrize(("events", "severity"), [
    ([click(T + 1), scroll(T + 2), moves(T + 3, [-1])], "low"),
    ([click(T + 1), meta(T + 2)], "medium"),
    ([text_change(T + 1, 5, "Basket updated")], "medium"),
    ([custom(T + 1, "$pageview", {"title": "Home"})], "medium"),
    ([click(T + 1), typed(T + 2, 4, "tent")], "high"),
    ([console(T + 1, "ready")], "high"),
    ([network(T + 1, "https://x.example/", {"ok": True})], "high"),
])
def test_severity(tmp_path, events, severity):
    archive = Archive([Session("s1", events, subject="u-1")], consent=[opt_out("u-1", T)])
    assert finding(audit(tmp_path, archive), "s1").severity == severity


def test_the_finding_explains_itself(tmp_path):
    events = [click(T), marker(T + 100, "opt_out"), click(T + 150), click(T + 160_000)]
    archive = Archive([Session("s1", events, subject="anon-1", device="dev-1")],
                      consent=[opt_out("u-1", T + 50, scope="replay", source="privacy_center")],
                      identities=[{"subject": "u-1", "alias": "anon-1"}])
    result = audit(tmp_path, archive)
    found = finding(result, "s1")
    assert found.person == "u-1"
    assert [(r.origin, r.at_ms, r.flagged_events) for r in found.consent] == \
        [("ledger", T + 50, 2), ("marker", T + 100, 2)]
    ledger = found.consent[0]
    assert (ledger.scope, ledger.source, ledger.key) == ("replay", "privacy_center", "u-1")
    assert ledger.location.endswith("consent.ndjson line 1")
    assert ledger.links == [{"via": "subject", "path": ["anon-1", "u-1"]}]
    assert found.consent[1].location == "session s1 seq 1"
    assert (found.first_flagged.seq, found.last_flagged.seq) == (2, 3)
    assert found.captured_after_opt_out_ms == 160_000 - 50
    document = result.as_json()
    assert set(document) >= {"sessions", "events", "flagged_events", "undetermined_events",
                             "people_opted_out", "tolerance_ms", "findings", "flagged"}
    assert (document["sessions"], document["events"], document["flagged_events"],
            document["people_opted_out"]) == (1, 4, 2, 1)
    assert document["flagged"] == [
        {"archive_id": 1, "session_id": "s1", "seq": 2, "timestamp": T + 150,
         "category": "pointer_scroll"},
        {"archive_id": 1, "session_id": "s1", "seq": 3, "timestamp": T + 160_000,
         "category": "pointer_scroll"}]
    text = result.as_text()
    assert "Person u-1" in text
    assert "anon-1 ~ u-1" in text
    assert "capture went on 2 min 39 s after the opt-out" in text


def test_nothing_flagged_says_so(tmp_path):
    archive = Archive([Session("s1", [click(T)], subject="u-1")])
    result = audit(tmp_path, archive)
    assert result.findings == [] and result.flagged.num_rows == 0
    assert "Nothing was recorded while a person was opted out." in result.as_text()
