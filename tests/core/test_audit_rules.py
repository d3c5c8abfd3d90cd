"""One test (at least) per rule of docs/audit-rules.md, each on a small archive built for it."""

from __future__ import annotations

import pytest

from inspector.core.audit import run_audit
from inspector.core.cancel import CancelToken
from inspector.core.errors import Cancelled, UsageError
from inspector.core.store import Store

from .test_audit_support import (
    Archive,
    Session,
    T,
    audit,
    click,
    clicks,
    custom,
    finding,
    flagged,
    link,
    marker,
    moves,
    opt_in,
    opt_out,
)

# -- rule 1: keys and people -------------------------------------------------------------------


def test_identities_link_keys_transitively(tmp_path):
    # u-kate ~ anon-77 ~ d-k2: an opt-out of u-kate covers a session whose subject is d-k2.
    archive = Archive(
        [Session("s1", clicks(0, 100, 200), subject="d-k2")],
        consent=[opt_out("u-kate", T + 100)],
        identities=[link("u-kate", "anon-77"), link("anon-77", "d-k2")])
    result = audit(tmp_path, archive)
    assert flagged(result, "s1") == [1, 2]
    found = finding(result, "s1")
    assert found.person == "u-kate"
    assert found.consent[0].links == [{"via": "subject", "path": ["d-k2", "anon-77", "u-kate"]}]
    assert found.keys == ["anon-77", "d-k2", "u-kate"]


def test_without_identity_links_keys_stay_apart(tmp_path):
    archive = Archive([Session("s1", clicks(0, 100, 200), subject="d-k2")],
                      consent=[opt_out("u-kate", T)],
                      identities=[link("u-kate", "anon-77")])
    result = audit(tmp_path, archive)
    assert result.flagged_events == 0
    assert result.findings == []


def test_a_shared_device_does_not_merge_its_users(tmp_path):
    # Carol and Bob both use the family iPad; Carol opts out. Bob's session on the iPad after
    # that is not hers, and the iPad itself did not opt out.
    archive = Archive(
        [Session("carol", clicks(0, 100, 200), subject="carol", device="ipad"),
         Session("bob", clicks(300, 400), subject="bob", device="ipad")],
        consent=[opt_out("carol", T + 150)])
    result = audit(tmp_path, archive)
    assert flagged(result) == {"carol": [2]}


def test_a_device_is_linked_to_a_person_only_by_identities(tmp_path):
    # A session with no subject, on a device an identities row ties to the account.
    archive = Archive(
        [Session("s1", clicks(0, 100), device="dev-phone")],
        consent=[opt_out("u-1", T + 50)],
        identities=[link("u-1", "dev-phone")])
    result = audit(tmp_path, archive)
    assert flagged(result, "s1") == [1]
    assert finding(result, "s1").consent[0].links[0]["via"] == "device"


# -- rule 2: which records apply ------------------------------------------------------------


def test_an_account_opt_out_covers_its_sessions_on_every_linked_device(tmp_path):
    archive = Archive(
        [Session("laptop", clicks(0, 100), subject="u-1", device="dev-laptop"),
         Session("phone", clicks(1000, 1100), subject="anon-9", device="dev-phone"),
         Session("stranger", clicks(1000, 1100), subject="u-2", device="dev-other")],
        consent=[opt_out("u-1", T + 50)],
        identities=[link("u-1", "anon-9")])
    assert flagged(audit(tmp_path, archive)) == {"laptop": [1], "phone": [0, 1]}


def test_a_device_opt_out_covers_every_session_on_the_device(tmp_path):
    # Global Privacy Control recorded against the laptop: both its users are covered there,
    # and neither is covered on another device.
    archive = Archive(
        [Session("erin-laptop", clicks(100, 200), subject="erin", device="dev-laptop"),
         Session("dan-laptop", clicks(300), subject="dan", device="dev-laptop"),
         Session("erin-phone", clicks(400), subject="erin", device="dev-phone")],
        consent=[opt_out("dev-laptop", T + 150, source="gpc")])
    result = audit(tmp_path, archive)
    assert flagged(result) == {"erin-laptop": [1], "dan-laptop": [0]}
    assert finding(result, "dan-laptop").consent[0].source == "gpc"


# -- rule 3: scope --------------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "governs"), [
    ("replay", True), ("analytics", True), ("all", True), (None, True), ("Replay", True),
    ("marketing", False), ("ads", False)])
def test_scopes_that_govern_replay(tmp_path, scope, governs):
    archive = Archive([Session("s1", clicks(0, 100), subject="u-1")],
                      consent=[opt_out("u-1", T + 50, scope=scope)])
    result = audit(tmp_path, archive)
    assert flagged(result, "s1") == ([1] if governs else [])
    assert result.ignored_records == (0 if governs else 1)


def test_an_opt_in_of_another_scope_does_not_end_an_opt_out(tmp_path):
    archive = Archive([Session("s1", clicks(0, 100, 200), subject="u-1")],
                      consent=[opt_out("u-1", T + 50, scope="replay"),
                               opt_in("u-1", T + 150, scope="marketing")])
    assert flagged(audit(tmp_path, archive), "s1") == [1, 2]


# -- rule 4: intervals ----------------------------------------------------------------------


def test_an_opt_in_ends_the_opt_out_exclusive(tmp_path):
    # Ledger lines out of time order: the audit sorts them.
    archive = Archive([Session("s1", clicks(0, 100, 199, 200, 300), subject="u-1")],
                      consent=[opt_in("u-1", T + 200), opt_out("u-1", T + 100)])
    result = audit(tmp_path, archive)
    assert flagged(result, "s1") == [1, 2]
    record = finding(result, "s1").consent[0]
    assert record.ended_at_ms == T + 200
    assert record.ended_by.endswith("consent.ndjson line 1")


def test_an_opt_out_without_opt_in_lasts_into_later_sessions(tmp_path):
    day = 86_400_000
    archive = Archive([Session("monday", clicks(0, 100), subject="u-1"),
                       Session("friday", clicks(4 * day, 4 * day + 100), subject="u-1")],
                      consent=[opt_out("u-1", T + 50)])
    result = audit(tmp_path, archive)
    assert flagged(result) == {"monday": [1], "friday": [0, 1]}
    assert finding(result, "friday").captured_after_opt_out_ms == 4 * day + 50


def test_a_second_opt_out_changes_nothing_and_a_later_one_starts_again(tmp_path):
    archive = Archive(
        [Session("s1", clicks(0, 100, 200, 300, 400, 500), subject="u-1")],
        consent=[opt_out("u-1", T + 100), opt_out("u-1", T + 200), opt_in("u-1", T + 300),
                 opt_in("u-1", T + 350), opt_out("u-1", T + 450)])
    assert flagged(audit(tmp_path, archive), "s1") == [1, 2, 5]


def test_an_opt_in_at_the_same_instant_does_not_end_the_opt_out(tmp_path):
    archive = Archive([Session("s1", clicks(0, 100, 200), subject="u-1")],
                      consent=[opt_out("u-1", T + 100), opt_in("u-1", T + 100)])
    assert flagged(audit(tmp_path, archive), "s1") == [1, 2]


def test_records_of_subject_and_device_are_taken_together(tmp_path):
    # The device opted out; later the account opted back in: from then on the session is not
    # covered (the records that apply are taken in time order, whoever they name).
    archive = Archive([Session("s1", clicks(0, 100, 200, 300), subject="u-1", device="dev-1")],
                      consent=[opt_out("dev-1", T + 100), opt_in("u-1", T + 250)])
    assert flagged(audit(tmp_path, archive), "s1") == [1, 2]


# -- rule 5: in-band markers ----------------------------------------------------------------


def test_a_marker_opts_out_and_is_never_flagged_itself(tmp_path):
    events = [click(T), marker(T + 100, "opt_out", "all"), click(T + 100), click(T + 200)]
    result = audit(tmp_path, Archive([Session("s1", events, subject="u-1")]))
    assert flagged(result, "s1") == [2, 3]
    record = finding(result, "s1").consent[0]
    assert (record.origin, record.seq, record.scope) == ("marker", 1, "all")


def test_a_marker_applies_to_the_persons_other_sessions(tmp_path):
    # The marker is in the laptop session; the phone session (linked by identities) a day
    # later is covered too, and so is a session recorded earlier but running past it.
    day = 86_400_000
    archive = Archive(
        [Session("early", clicks(-1000, 500), subject="anon-1"),
         Session("laptop", [click(T), marker(T + 100, "opt_out")], subject="u-1"),
         Session("phone", clicks(day), subject="anon-1")],
        identities=[link("u-1", "anon-1")])
    assert flagged(audit(tmp_path, archive)) == {"early": [1], "phone": [0]}


def test_a_marker_without_subject_names_the_device(tmp_path):
    archive = Archive(
        [Session("signed-out", [marker(T, "opt_out")], device="dev-1"),
         Session("signed-in", clicks(100), subject="u-1", device="dev-1"),
         Session("elsewhere", clicks(100), subject="u-1", device="dev-2")])
    assert flagged(audit(tmp_path, archive)) == {"signed-in": [0]}


def test_a_marker_with_a_subject_does_not_name_the_device(tmp_path):
    archive = Archive(
        [Session("s1", [marker(T, "opt_out")], subject="u-1", device="dev-1"),
         Session("other-user", clicks(100), subject="u-2", device="dev-1")])
    assert flagged(audit(tmp_path, archive)) == {}


def test_a_marker_in_a_session_without_keys_applies_to_that_session(tmp_path):
    archive = Archive([Session("bare", [click(T), marker(T + 10, "opt_out"), click(T + 20)]),
                       Session("other-bare", clicks(30))])
    result = audit(tmp_path, archive)
    assert flagged(result) == {"bare": [2]}
    assert finding(result, "bare").person.endswith("/bare")


def test_a_marker_opt_in_ends_a_ledger_opt_out(tmp_path):
    events = [click(T + 100), marker(T + 150, "opt_in", "replay"), click(T + 200)]
    archive = Archive([Session("s1", events, subject="u-1")],
                      consent=[opt_out("u-1", T + 50)])
    assert flagged(audit(tmp_path, archive), "s1") == [0]


def test_other_consent_events_and_untimed_markers_are_not_records(tmp_path):
    events = [custom(T, "consent", {"action": "banner_shown"}), marker(None, "opt_out"),
              click(T + 100), marker(T + 200, "opt_out", "ads"), click(T + 300)]
    result = audit(tmp_path, Archive([Session("s1", events, subject="u-1")]))
    assert result.flagged_events == 0
    assert result.markers_without_timestamp == 1
    assert result.ignored_records == 1


def test_a_consent_event_with_another_action_is_flagged_as_custom(tmp_path):
    events = [custom(T + 100, "consent", {"action": "banner_shown"})]
    archive = Archive([Session("s1", events, subject="u-1")], consent=[opt_out("u-1", T)])
    result = audit(tmp_path, archive)
    assert result.flagged.to_pylist()[0]["category"] == "custom"


# -- rule 6: flagging by time ----------------------------------------------------------------


def test_the_opt_out_instant_is_included(tmp_path):
    archive = Archive([Session("s1", clicks(99, 100, 101), subject="u-1")],
                      consent=[opt_out("u-1", T + 100)])
    assert flagged(audit(tmp_path, archive), "s1") == [1, 2]


@pytest.mark.parametrize("source", [1, 6, 12])
def test_move_batches_are_judged_by_their_positions(tmp_path, source):
    events = [
        moves(T + 150, [-90, -60, -51], source),  # stamped after, all positions before
        moves(T + 160, [-70, -10], source),  # straddles the opt-out
        moves(T + 90, [-10, 0], source),  # stamped before
        moves(T + 200, [], source),  # no positions: its timestamp
    ]
    archive = Archive([Session("s1", events, subject="u-1")],
                      consent=[opt_out("u-1", T + 100)])
    assert flagged(audit(tmp_path, archive), "s1") == [1, 3]


def test_a_batch_whose_positions_all_come_after_the_opt_in_is_not_flagged(tmp_path):
    events = [moves(T + 300, [-250, -150]), moves(T + 400, [-120, -50])]
    archive = Archive([Session("s1", events, subject="u-1")],
                      consent=[opt_out("u-1", T + 100), opt_in("u-1", T + 200)])
    assert flagged(audit(tmp_path, archive), "s1") == [0]


def test_events_are_judged_by_time_not_file_order(tmp_path):
    # The file holds events out of time order; seq names the position in the file.
    archive = Archive([Session("s1", clicks(300, 0, 200, 50), subject="u-1")],
                      consent=[opt_out("u-1", T + 100)])
    result = audit(tmp_path, archive)
    assert flagged(result, "s1") == [0, 2]
    found = finding(result, "s1")
    assert (found.first_flagged.seq, found.last_flagged.seq) == (2, 0)


# -- rule 7: tolerance ------------------------------------------------------------------------


def test_tolerance_moves_opt_outs_later_and_is_stated(tmp_path):
    archive = Archive([Session("s1", clicks(100, 109, 110, 250), subject="u-1")],
                      consent=[opt_out("u-1", T + 100), opt_in("u-1", T + 300)])
    assert flagged(audit(tmp_path, archive, name="a"), "s1") == [0, 1, 2, 3]
    result = audit(tmp_path, archive, tolerance_ms=10, name="b")
    assert flagged(result, "s1") == [2, 3]
    assert result.tolerance_ms == 10
    assert result.as_json()["tolerance_ms"] == 10
    assert "tolerance 10 ms" in result.as_text()


def test_a_tolerance_past_the_opt_in_leaves_nothing_but_the_undetermined(tmp_path):
    archive = Archive([Session("s1", [click(T + 105), click(None)], subject="u-1")],
                      consent=[opt_out("u-1", T + 100), opt_in("u-1", T + 110)])
    result = audit(tmp_path, archive, tolerance_ms=20)
    assert result.flagged_events == 0
    assert result.undetermined_events == 1


@pytest.mark.parametrize("tolerance", [-1, 1.5, True])
def test_the_tolerance_is_a_whole_number_of_ms(tmp_path, tolerance):
    with Store(tmp_path / "x.duckdb") as store, pytest.raises(UsageError):
        run_audit(store, tolerance_ms=tolerance)


# -- rule 8: undetermined ----------------------------------------------------------------------


def test_events_without_timestamp_are_undetermined_where_the_person_ever_opted_out(tmp_path):
    day = 86_400_000
    archive = Archive(
        [Session("opted", [click(T), click(None), moves(None, [-5]), click(T + 200)],
                 subject="u-1"),
         # Opted out only days after this session: still undetermined ("ever opted out").
         Session("before", [click(T), click(None)], subject="u-2"),
         Session("never", [click(T), click(None)], subject="u-3")],
        consent=[opt_out("u-1", T + 100), opt_out("u-2", T + 3 * day)])
    result = audit(tmp_path, archive)
    assert result.undetermined_events == 3
    assert finding(result, "opted").undetermined_seqs == [1, 2]
    before = finding(result, "before")
    assert (before.flagged_events, before.undetermined_seqs, before.severity) == \
        (0, [1], "undetermined")
    assert "never" not in {f.session_id for f in result.findings}
    assert flagged(result) == {"opted": [3]}


# -- the audit as a whole ----------------------------------------------------------------------


def test_the_audit_reads_a_read_only_database_and_changes_nothing(tmp_path):
    archive = Archive([Session("s1", clicks(0, 100), subject="u-1")],
                      consent=[opt_out("u-1", T + 50)])
    first = audit(tmp_path, archive)
    with Store(tmp_path / "archive.duckdb", read_only=True) as store:
        again = run_audit(store)
        tables = {name for (name,) in store.con.execute(
            "SELECT table_name FROM duckdb_tables()").fetchall()}
    assert again.as_json() == first.as_json()
    assert not any(name.startswith("audit_") for name in tables)


def test_cancelling_stops_the_audit(tmp_path):
    archive = Archive([Session("s1", clicks(0, 100), subject="u-1")],
                      consent=[opt_out("u-1", T + 50)])
    audit(tmp_path, archive)
    token = CancelToken()
    stages = []

    def progress(step):
        stages.append(step.stage)
        if step.stage == "flagging" and len(stages) == 3:
            token.cancel()

    with Store(tmp_path / "archive.duckdb") as store, pytest.raises(Cancelled):
        run_audit(store, cancel=token, progress=progress)
    assert len(stages) == 3


def test_progress_reaches_the_end(tmp_path):
    archive = Archive([Session("s1", clicks(0, 100), subject="u-1")],
                      consent=[opt_out("u-1", T + 50)])
    audit(tmp_path, archive)
    seen = []
    with Store(tmp_path / "archive.duckdb") as store:
        run_audit(store, progress=seen.append)
    fractions = [step.fraction for step in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert {step.stage for step in seen} == {"flagging", "findings"}
