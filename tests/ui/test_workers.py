"""Lanes: one job at a time, only the newest request's result, cancellation reaches the job."""

from __future__ import annotations

import threading

from inspector.core.errors import InputError
from inspector.ui.workers import Lane


def test_only_the_newest_requests_result_is_delivered(qtbot):
    lane = Lane("test", cancel_running=False)
    release = threading.Event()
    ran: list[int] = []
    results: list[object] = []
    lane.finished.connect(results.append)

    def job(number: int):
        def run(token):
            if number == 0:
                release.wait(10)
            ran.append(number)
            return number
        return run

    for number in range(5):  # 0 runs and blocks; 1..3 are replaced while it runs; 4 runs next
        lane.submit(job(number))
    assert lane.busy
    release.set()
    qtbot.waitUntil(lambda: not lane.busy, timeout=10_000)
    assert ran == [0, 4]
    assert results == [4]


def test_a_newer_request_cancels_the_running_job(qtbot):
    lane = Lane("test")
    started = threading.Event()
    cancelled: list[bool] = []
    results: list[object] = []
    lane.finished.connect(results.append)

    def slow(token):
        started.set()
        while not token.cancelled:
            threading.Event().wait(0.005)
        cancelled.append(True)
        token.check()  # raises Cancelled

    lane.submit(slow)
    assert started.wait(10)
    lane.submit(lambda token: "second")
    qtbot.waitUntil(lambda: not lane.busy, timeout=10_000)
    assert cancelled == [True]
    assert results == ["second"]


def test_errors_a_person_can_act_on_come_back_as_one_line(qtbot):
    lane = Lane("test")
    messages: list[str] = []
    lane.failed.connect(messages.append)

    def bad(token):
        raise InputError("not a recording", path="/tmp/x.json", hint="check the file")

    lane.submit(bad)
    qtbot.waitUntil(lambda: not lane.busy, timeout=10_000)
    assert messages == ["/tmp/x.json: not a recording — check the file"]


def test_shutdown_waits_for_the_running_job(qtbot):
    lane = Lane("test")
    started = threading.Event()
    finished = threading.Event()

    def job(token):
        started.set()
        while not token.cancelled:
            threading.Event().wait(0.005)
        finished.set()

    lane.submit(job)
    assert started.wait(10)
    lane.shutdown()
    assert finished.is_set()
    qtbot.waitUntil(lambda: not lane.busy, timeout=10_000)
