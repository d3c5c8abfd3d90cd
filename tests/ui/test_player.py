"""The player driven as a person would: pick a session, look at the canvas, click the timeline,
use the keyboard; checked against the replay engine, the audit and the sample's ground truth."""

from __future__ import annotations

from bisect import bisect_right

import pyarrow.compute as pc
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from inspector.core.replay import ReplaySession
from inspector.ui.timeline import OVERVIEW_HEIGHT, SPACING

from .support import expected_sessions, painted_fraction, select_session, wait_settled

EXPECTED = expected_sessions()
ALICE_2 = EXPECTED["alice-2"]["session_id"]
FRANK_1 = EXPECTED["frank-1"]["session_id"]
BOB_1 = EXPECTED["bob-1"]["session_id"]


@pytest.fixture
def window(make_window, sample_store):
    return make_window(sample_store)


def flagged_pairs(audit, session_id: str) -> list[tuple[int, int]]:
    """(timestamp, seq) of the audit's flagged events of a session, in replay order."""
    table = audit.flagged.filter(pc.equal(audit.flagged["session_id"], session_id))
    return sorted(zip(table["timestamp"].to_pylist(), table["seq"].to_pylist(), strict=True))


def test_selecting_a_session_paints_the_canvas(qtbot, window):
    canvas = window.player.canvas
    background = canvas.palette().color(canvas.backgroundRole()).darker(108)
    empty = canvas.grab().toImage()

    select_session(qtbot, window, ALICE_2)

    image = canvas.grab().toImage()
    assert image != empty
    frame = window.player.frame
    assert frame is not None and frame.image is not None
    # The page covers the middle of the canvas, and it is more than a blank rectangle.
    assert painted_fraction(image, background) > 0.3
    page_colors = {frame.image.pixel(x, y) for y in range(0, frame.image.height(), 7)
                   for x in range(0, frame.image.width(), 7)}
    assert len(page_colors) > 5
    assert window.player.address.text() == frame.url
    assert frame.url.startswith("https://shop.fernhill.example/")


def test_the_canvas_shows_the_engines_page_at_the_playhead(qtbot, window, sample_store):
    select_session(qtbot, window, ALICE_2)
    replay = ReplaySession.load(sample_store, 1, ALICE_2)
    player = window.player
    for at in (replay.start + 60_000, replay.end - 1_000, replay.start + 400_000):
        player.playback.seek(at)
        wait_settled(qtbot, window)
        page = replay.seek(at)
        assert player.frame.at == at
        assert player.frame.url == page.url
        assert player.frame.viewport == page.viewport
        assert player.frame.nodes == page.nodes


def test_clicking_the_timeline_seeks(qtbot, window):
    select_session(qtbot, window, ALICE_2)
    timeline = window.player.timeline
    playback = window.player.playback
    y = OVERVIEW_HEIGHT + SPACING + 10
    for x in (timeline.width() // 3, timeline.width() - 40, 25):
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
        assert playback.position == round(timeline.time_at(x))
        wait_settled(qtbot, window)
        assert window.player.frame.at == playback.position
        tl = playback.timeline
        index = bisect_right(tl.times, playback.position) - 1
        assert window.inspector.detail.seq == tl.seqs[index]


def test_dragging_on_the_timeline_seeks_as_it_goes(qtbot, window):
    select_session(qtbot, window, ALICE_2)
    timeline = window.player.timeline
    y = OVERVIEW_HEIGHT + SPACING + 10
    seen = []
    window.player.playback.position_changed.connect(seen.append)
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=QPoint(50, y))
    for x in (120, 200, 260):
        qtbot.mouseMove(timeline, QPoint(x, y))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=QPoint(260, y))
    assert seen == sorted(seen) and len(seen) >= 2
    assert seen[-1] == round(timeline.time_at(260))


def test_the_wheel_zooms_the_timeline_around_the_pointer(qtbot, window):
    select_session(qtbot, window, ALICE_2)
    timeline = window.player.timeline
    t0, t1 = timeline.view_range()
    anchor = timeline.time_at(200)
    timeline.zoom(4.0, anchor)
    z0, z1 = timeline.view_range()
    assert (z1 - z0) == pytest.approx((t1 - t0) / 4)
    assert timeline.time_at(200) == pytest.approx(anchor, abs=1.0)


def test_space_plays_and_pauses_and_arrows_step_through_events(qtbot, window):
    select_session(qtbot, window, ALICE_2)
    window.table.setFocus()
    playback = window.player.playback
    tl = playback.timeline
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert playback.playing
    qtbot.waitUntil(lambda: playback.position > tl.start, timeout=10_000)
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert not playback.playing

    playback.seek(tl.start)
    visited = []
    for _ in range(5):
        qtbot.keyClick(window.table, Qt.Key.Key_Right)
        visited.append((playback.position, playback.selected_seq))
    assert visited == list(zip(tl.times[1:6], tl.seqs[1:6], strict=True))
    qtbot.keyClick(window.table, Qt.Key.Key_Left)
    assert (playback.position, playback.selected_seq) == (tl.times[4], tl.seqs[4])
    wait_settled(qtbot, window)
    assert window.inspector.detail.seq == tl.seqs[4]


def test_flagged_event_navigation_lands_on_each_flagged_event(qtbot, window, sample_audit):
    select_session(qtbot, window, FRANK_1)
    playback = window.player.playback
    expected = flagged_pairs(sample_audit, FRANK_1)
    assert {seq for _, seq in expected} == set(EXPECTED["frank-1"]["flagged_seqs"])

    landed = []
    for _ in range(len(expected) + 2):
        qtbot.keyClick(window.table, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
        pair = (playback.position, playback.selected_seq)
        if landed and landed[-1] == pair:
            break
        landed.append(pair)
    assert landed == expected  # every flagged event, in order, and nothing past the last

    for _ in range(3):
        qtbot.keyClick(window.table, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert (playback.position, playback.selected_seq) == expected[-4]
    wait_settled(qtbot, window)
    assert window.inspector.detail.seq == expected[-4][1]
    assert window.inspector.detail.flagged
    assert window.inspector.verdict.text().startswith("Flagged")


def test_a_session_nobody_opted_out_of_has_no_flagged_events_to_visit(qtbot, window):
    select_session(qtbot, window, BOB_1)
    playback = window.player.playback
    before = playback.position
    qtbot.keyClick(window.table, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert playback.position == before
    assert not playback.timeline.opt_outs and not len(playback.timeline.flagged_times)
    wait_settled(qtbot, window)
    assert window.inspector.verdict.text().startswith("Not flagged")


def test_the_timeline_shades_the_opted_out_interval(qtbot, window, sample_audit):
    select_session(qtbot, window, ALICE_2)
    tl = window.player.playback.timeline
    finding = next(f for f in sample_audit.findings if f.session_id == ALICE_2)
    assert [o.instant for o in tl.opt_outs] == [r.at_ms for r in finding.consent]
    timeline = window.player.timeline
    image = timeline.grab().toImage()
    x_out = round(timeline.x_of(tl.opt_outs[0].instant))
    y = OVERVIEW_HEIGHT + SPACING + 3  # above the density bars, below the overview
    inside = image.pixelColor(min(x_out + 30, image.width() - 2), y)
    before = image.pixelColor(max(x_out - 30, 1), y)
    assert inside.red() > inside.blue() + 20  # shaded red after the opt-out
    assert abs(before.red() - before.blue()) < 20  # not before it
    assert QColor(inside) != QColor(before)
