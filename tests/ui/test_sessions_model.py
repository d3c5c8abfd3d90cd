"""The sessions model: Qt's model rules, sorting by Arrow, pages, and what the cells say."""

from __future__ import annotations

import random
from datetime import datetime

import pyarrow as pa
import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt

from inspector.core.importer import import_paths
from inspector.ui.sessions_model import COLUMNS, PAGE_ROWS, PAGES_KEPT, SessionsModel

from .support import RRWEB

NAMES = [name for _, name in COLUMNS]
SESSION = NAMES.index("session_id")
ORDERS = [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder]


def synthetic_sessions(rows: int, seed: int = 5) -> pa.Table:
    """More rows than the page cache holds, with ties and nulls in every sortable column."""
    rng = random.Random(seed)

    def maybe(value):
        return None if rng.random() < 0.1 else value

    first = [maybe(1_600_000_000_000 + rng.randrange(50) * 60_000) for _ in range(rows)]
    return pa.table({
        "archive_id": pa.array([1 + i % 7 for i in range(rows)], pa.int32()),
        "session_id": [f"s{i:05d}" for i in range(rows)],
        "subject": [maybe(f"user-{rng.randrange(20)}") for _ in range(rows)],
        "device": [maybe(f"dev-{rng.randrange(5)}") for _ in range(rows)],
        "first_ts": pa.array(first, pa.int64()),
        "last_ts": pa.array([None if f is None else f + rng.randrange(10) * 30_000
                             for f in first], pa.int64()),
        "events": pa.array([rng.randrange(30) for _ in range(rows)], pa.int64()),
        "first_url": [maybe(f"https://shop.example/{rng.randrange(9)}") for _ in range(rows)],
        "person": [maybe(f"person-{rng.randrange(12)}") for _ in range(rows)],
        "pages": pa.array([rng.randrange(6) for _ in range(rows)], pa.int64()),
    })


def synthetic_flags(table: pa.Table, seed: int = 9) -> pa.Table:
    """Audit counts for about a third of the sessions (the others: nothing flagged)."""
    rng = random.Random(seed)
    picked = [row for row in table.select(["archive_id", "session_id"]).to_pylist()
              if rng.random() < 0.3]
    return pa.table({
        "archive_id": pa.array([r["archive_id"] for r in picked], pa.int32()),
        "session_id": [r["session_id"] for r in picked],
        "flagged": pa.array([rng.randrange(1, 50) for _ in picked], pa.int64()),
        "undetermined": pa.array([rng.randrange(2) for _ in picked], pa.int64()),
    })


def column_of(model: SessionsModel, column: int) -> list[str]:
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_an_empty_model_follows_qts_rules(qtmodeltester):
    qtmodeltester.check(SessionsModel(), force_py=True)


def test_a_model_of_imported_sessions_follows_qts_rules_while_sorted(qtmodeltester, store):
    import_paths(store, sorted(RRWEB.glob("posthog-*.json")))
    model = SessionsModel()
    model.set_table(store.sessions())
    assert model.rowCount() == store.sessions().num_rows > 1
    qtmodeltester.check(model, force_py=True)
    for column in range(len(COLUMNS)):  # the tester stays connected and checks every layout
        for order in ORDERS:
            model.sort(column, order)
    model.set_table(store.sessions())


@pytest.mark.parametrize("order", ORDERS, ids=["ascending", "descending"])
@pytest.mark.parametrize("column", range(len(COLUMNS)), ids=NAMES)
def test_sorting_is_stable_with_nulls_last(column, order):
    table = synthetic_sessions(PAGE_ROWS * (PAGES_KEPT + 3) + 17)
    flags = synthetic_flags(table)
    flagged = {(r["archive_id"], r["session_id"]): r["flagged"] for r in flags.to_pylist()}
    rows = table.to_pylist()
    for row in rows:
        first, last = row["first_ts"], row["last_ts"]
        row["duration"] = None if first is None or last is None else last - first
        row["flagged"] = flagged.get((row["archive_id"], row["session_id"]), 0)
    key = NAMES[column]
    present = [r for r in rows if r[key] is not None]
    expected = sorted(present, key=lambda r: r[key], reverse=order == Qt.SortOrder.DescendingOrder)
    expected += [r for r in rows if r[key] is None]

    model = SessionsModel()
    model.set_table(table)
    model.set_flags(flags)
    model.sort(column, order)
    assert column_of(model, SESSION) == [r["session_id"] for r in expected]


def test_a_model_larger_than_its_page_cache_follows_qts_rules(qtmodeltester):
    model = SessionsModel()
    model.set_table(synthetic_sessions(PAGE_ROWS * (PAGES_KEPT + 2)))
    qtmodeltester.check(model, force_py=True)
    model.sort(NAMES.index("subject"), Qt.SortOrder.DescendingOrder)


def test_rows_keep_their_persistent_indexes_through_a_sort():
    model = SessionsModel()
    model.set_table(synthetic_sessions(600))
    picked = [QPersistentModelIndex(model.index(row, SESSION)) for row in (0, 255, 256, 599)]
    ids = [p.data() for p in picked]
    model.sort(NAMES.index("events"), Qt.SortOrder.DescendingOrder)
    assert [p.data() for p in picked] == ids
    assert [p.row() for p in picked] != [0, 255, 256, 599]


def test_a_new_table_keeps_the_chosen_sort():
    model = SessionsModel()
    model.sort(NAMES.index("events"), Qt.SortOrder.DescendingOrder)
    model.set_table(synthetic_sessions(300))
    counts = [int(text.replace(",", "")) for text in column_of(model, NAMES.index("events"))]
    assert counts == sorted(counts, reverse=True)


def test_cells_show_local_time_durations_and_counts():
    table = synthetic_sessions(400)
    model = SessionsModel()
    model.set_table(table)
    for row, source in enumerate(table.to_pylist()):
        start = model.index(row, NAMES.index("first_ts")).data()
        duration = model.index(row, NAMES.index("duration")).data()
        events = model.index(row, NAMES.index("events")).data()
        if source["first_ts"] is None:
            assert start == "" and duration == ""
            continue
        shown = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")  # naive, read as local time
        assert shown.timestamp() == source["first_ts"] // 1000
        parts = [int(p) for p in duration.split(":")]
        seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        assert seconds == (source["last_ts"] - source["first_ts"]) // 1000
        assert int(events.replace(",", "")) == source["events"]


def test_headers_name_every_column():
    model = SessionsModel()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == [header for header, _ in COLUMNS]
    assert model.headerData(len(COLUMNS), Qt.Orientation.Horizontal) is None
