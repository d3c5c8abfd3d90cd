"""The sessions panel and the findings panel on the sample archive: person, pages and flagged
counts as the audit and the ground truth say, the filter, the badge, findings leading to their
session, and Qt's model rules for every model."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from PySide6.QtCore import Qt

from inspector.ui.findings_panel import ConsoleModel, FindingsModel, NetworkModel
from inspector.ui.session_data import LogRow, RequestRow
from inspector.ui.sessions_model import COLUMNS, KEY_ROLE, SessionsModel, flag_counts

from .support import expected_sessions, select_session, wait_settled

EXPECTED = expected_sessions()
NAMES = [name for _, name in COLUMNS]


@pytest.fixture
def window(make_window, sample_store, qtbot):
    made = make_window(sample_store)
    qtbot.waitUntil(made.settled_loading, timeout=60_000)
    return made


def shown(model, name: str) -> list:
    column = NAMES.index(name)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_the_table_shows_the_audits_flagged_counts_and_each_sessions_pages(window,
                                                                           sample_store):
    model = window.model
    by_id = dict(zip(shown(model, "session_id"), shown(model, "flagged"), strict=True))
    assert by_id == {s["session_id"]: f"{len(s['flagged_seqs']):,}" for s in EXPECTED.values()}
    con = sample_store.cursor()
    try:
        pages = dict(con.execute("SELECT session_id, count(*) FROM events WHERE type = 4 "
                                 "GROUP BY ALL").fetchall())
    finally:
        con.close()
    assert dict(zip(shown(model, "session_id"), shown(model, "pages"), strict=True)) == \
        {sid: str(pages.get(sid, 0)) for sid in by_id}


def test_a_sessions_person_follows_identity_links(window):
    people = dict(zip(shown(window.model, "session_id"), shown(window.model, "person"),
                      strict=True))
    # alice-3 is recorded under her phone's anonymous id, alice-4 under her phone's device
    # only: identities link both to her account.
    alice = {people[EXPECTED[label]["session_id"]] for label in
             ("alice-1", "alice-2", "alice-3", "alice-4")}
    assert alice == {"u_10428"}
    assert people[EXPECTED["bob-2"]["session_id"]] != people[EXPECTED["carol-1"]["session_id"]]


def test_the_filter_matches_person_url_and_id_and_the_toggle_keeps_findings(qtbot, window):
    panel = window.sessions_panel
    model = window.model
    panel.filter.setText("U_60415")  # any case
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5_000)
    assert set(shown(model, "session_id")) == {EXPECTED["frank-1"]["session_id"],
                                               EXPECTED["frank-2"]["session_id"]}
    panel.only_findings.setChecked(True)
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5_000)
    assert shown(model, "session_id") == [EXPECTED["frank-1"]["session_id"]]

    panel.filter.setText(EXPECTED["dan-2"]["session_id"][:13])
    qtbot.waitUntil(lambda: shown(model, "session_id") == [EXPECTED["dan-2"]["session_id"]],
                    timeout=5_000)
    panel.filter.setText("")
    flagged = {s["session_id"] for s in EXPECTED.values() if s["flagged_seqs"]
               or s["undetermined_seqs"]}
    qtbot.waitUntil(lambda: set(shown(model, "session_id")) == flagged, timeout=5_000)
    panel.only_findings.setChecked(False)
    qtbot.waitUntil(lambda: model.rowCount() == len(EXPECTED), timeout=5_000)
    panel.filter.setText("/checkout")  # a URL: no session starts there
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=5_000)
    panel.filter.setText("shop.fernhill.example")
    qtbot.waitUntil(lambda: model.rowCount() == len(EXPECTED), timeout=5_000)


def test_the_selection_survives_filtering_and_new_flags(qtbot, window, sample_audit):
    session = EXPECTED["dan-1"]["session_id"]
    select_session(qtbot, window, session)
    window.sessions_panel.only_findings.setChecked(True)
    qtbot.waitUntil(lambda: window.model.rowCount() < len(EXPECTED), timeout=5_000)
    current = window.table.currentIndex()
    assert current.data(KEY_ROLE) == (1, session)
    window.model.set_flags(flag_counts(sample_audit))
    window.run_audit()
    qtbot.waitSignal(window.audit_finished, timeout=60_000)
    wait_settled(qtbot, window)
    assert window.table.currentIndex().data(KEY_ROLE) == (1, session)
    assert window.player.key.session_id == session


def test_flagged_counts_are_drawn_as_badges(qtbot, window):
    table = window.table
    column = NAMES.index("flagged")
    model = window.model
    image = table.viewport().grab().toImage()
    for row in range(model.rowCount()):
        rect = table.visualRect(model.index(row, column))
        reds = sum(1 for x in range(rect.left(), rect.right(), 2)
                   for y in range(rect.top() + 2, rect.bottom() - 1, 2)
                   if (c := image.pixelColor(x, y)).red() > 150 and c.green() < 80)
        flagged = model.index(row, column).data() not in ("0", "")
        assert (reds > 10) == flagged, model.index(row, NAMES.index("session_id")).data()


def test_clicking_a_finding_opens_its_session_at_its_first_flagged_event(qtbot, window,
                                                                        sample_audit):
    panel = window.findings_panel
    view = panel.findings_view
    assert panel.findings_model.rowCount() == len(sample_audit.findings)
    row = next(i for i, f in enumerate(sample_audit.findings)
               if f.session_id == EXPECTED["dan-2"]["session_id"])
    finding = sample_audit.findings[row]
    rect = view.visualRect(panel.findings_model.index(row, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.player.data is not None
                    and window.player.data.key.session_id == finding.session_id, timeout=60_000)
    wait_settled(qtbot, window)
    assert window.player.playback.position == finding.first_flagged.timestamp
    assert window.table.currentIndex().data(KEY_ROLE) == (1, finding.session_id)
    assert window.inspector.detail.flagged


def test_console_and_network_lists_hold_the_sessions_events_and_lead_to_them(qtbot, window,
                                                                             sample_store):
    session = EXPECTED["alice-2"]["session_id"]
    select_session(qtbot, window, session)
    panel = window.findings_panel
    con = sample_store.cursor()
    try:
        (console,), = con.execute(
            "SELECT count(*) FROM events WHERE session_id = ? AND type = 6 AND "
            "json_extract_string(data, '$.plugin') = 'rrweb/console@1'", [session]).fetchall()
        (requests,), = con.execute(
            "SELECT sum(json_array_length(data, '$.payload.requests')) FROM events WHERE "
            "session_id = ? AND type = 6 AND json_extract_string(data, '$.plugin') = "
            "'rrweb/network@1'", [session]).fetchall()
    finally:
        con.close()
    assert panel.console_model.rowCount() == console > 0
    assert panel.network_model.rowCount() == requests > 0
    log = panel.console_model.row_object(2)
    panel.setCurrentIndex(1)
    rect = panel.console_view.visualRect(panel.console_model.index(2, 2))
    qtbot.mouseClick(panel.console_view.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert window.player.playback.position == log.timestamp


def test_masking_hides_personal_data_in_the_logs(qtbot, window):
    select_session(qtbot, window, EXPECTED["alice-2"]["session_id"])
    model = window.findings_panel.console_model
    texts = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert any("+44 7823 519604" in t for t in texts)
    window.mask_action.setChecked(True)
    masked = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert not any("+44 7823 519604" in t for t in masked)
    assert any("[PHONE]" in t for t in masked)
    assert window.player.bar.mask.isChecked()


def test_the_sessions_model_follows_qts_rules_filtered_and_sorted(qtmodeltester, sample_store,
                                                                 sample_audit):
    from inspector.ui.sessions_model import query_sessions

    con = sample_store.cursor()
    try:
        table = query_sessions(con)
    finally:
        con.close()
    sessions = SessionsModel()
    sessions.set_table(table)
    sessions.set_flags(flag_counts(sample_audit))
    qtmodeltester.check(sessions, force_py=True)  # stays connected: checks every change below
    sessions.set_filter("u_10428", True)
    alice_flagged = [s for s in EXPECTED.values() if s["person"] == "alice"
                     and (s["flagged_seqs"] or s["undetermined_seqs"])]
    assert sessions.rowCount() == len(alice_flagged) == 3
    sessions.sort(NAMES.index("flagged"), Qt.SortOrder.DescendingOrder)
    flagged = [int(sessions.index(r, NAMES.index("flagged")).data())
               for r in range(sessions.rowCount())]
    assert flagged == sorted(flagged, reverse=True)
    sessions.set_filter("", False)
    sessions.set_flags(None)
    assert sessions.rowCount() == len(EXPECTED)


def test_the_findings_model_follows_qts_rules(qtmodeltester, sample_audit):
    findings = FindingsModel()
    findings.set_rows(sample_audit.findings)
    qtmodeltester.check(findings, force_py=True)
    findings.set_rows([])


def test_the_console_model_follows_qts_rules(qtmodeltester):
    console = ConsoleModel()
    console.set_rows([LogRow(1, 1_700_000_000_000, "error", "boom"),
                      LogRow(2, None, "log", "x")])
    qtmodeltester.check(console, force_py=True)
    console.set_rows([])


def test_the_network_model_follows_qts_rules(qtmodeltester):
    network = NetworkModel()
    network.set_rows([RequestRow(3, 1_700_000_000_000, "GET", "404", "https://a.example/x",
                                 "fetch")])
    qtmodeltester.check(network, force_py=True)
    network.set_rows([])


def test_flag_counts_match_the_ground_truth(sample_audit):
    counts = flag_counts(sample_audit)
    got = dict(zip(counts["session_id"].to_pylist(), counts["flagged"].to_pylist(),
                   strict=True))
    want = {s["session_id"]: len(s["flagged_seqs"]) for s in EXPECTED.values()
            if s["flagged_seqs"]}
    assert got == want
    assert pc.sum(counts["undetermined"]).as_py() == 1
