"""Masking the events that are mostly numbers: pointer moves, clicks, scrolls, media, selection.

They hold positions and node ids, so masking looks at them only when a quick look finds text
(most are skipped unwalked). A recorder plugin can still put text in them (an extra field with
the person's e-mail address on a mouse move): that text is masked like a payload, so the
export succeeds instead of failing its own check. Style sheet events stay as they are: masking
digit runs in CSS would break the page.
"""

from __future__ import annotations

import re

import duckdb
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.cli import main
from inspector.core.redact import redact
from inspector.core.redact.codec import NUMBERS_ONLY_PATTERN, _numbers_only, decode

from .test_audit_support import T, click, meta, moves, scroll
from .test_redact_support import (
    CARD,
    EMAIL,
    ORDINARY,
    PHONE,
    all_text,
    audit_exit,
    escaped_forms,
    imported,
    write_archive,
)

#: A style rule with digit runs a phone or card pattern could take: it must stay as it is.
STYLE_RULE = {"source": 8, "id": 5, "adds": [
    {"rule": ".hero { background: url(/img/4111111111111111.png); width: 2125551234px }",
     "index": 0}]}


def _with_text(event: dict, **extra) -> dict:
    return {**event, "data": {**event["data"], **extra}}


def numeric_events_with_text() -> list[dict]:
    """A page whose pointer, click, scroll, media and selection events carry text too."""
    return [
        meta(T),
        _with_text(moves(T + 10, [-20, -10, 0]), note=f"hovered by {EMAIL}"),
        moves(T + 20, [-5, 0]),
        _with_text(click(T + 30, 4), label={"by": EMAIL, "tags": [f"call {PHONE}"]}),
        _with_text(scroll(T + 40), reason=ORDINARY),
        {"type": 3, "timestamp": T + 50,
         "data": {"source": 7, "type": 1, "id": 4, "currentTime": 3.5, "muted": False,
                  "title": f"voicemail from {PHONE}"}},
        {"type": 3, "timestamp": T + 60,
         "data": {"source": 14, "ranges": [{"start": 4, "startOffset": 0, "end": 4,
                                             "endOffset": 3}], "selected": CARD}},
        {"type": 3, "timestamp": T + 70, "data": STYLE_RULE},
        click(T + 80, 4),
    ]


def test_text_in_pointer_click_scroll_events_is_masked(tmp_path, capsys):
    events = numeric_events_with_text()
    source = write_archive(tmp_path / "src", [("s1", events, {"subject": "u-1"})])
    out = tmp_path / "out"
    code = main(["redact", str(source), "-o", str(out), "--mask-pii"])
    capsys.readouterr()
    assert code == 0
    assert audit_exit(capsys, out) == 0
    text = all_text(tmp_path, out)
    for value in (EMAIL, PHONE, CARD):
        for form in escaped_forms(value):
            assert form not in text, f"{value!r} is still in the copy (as {form!r})"
    copy = [data for _, _, data, _ in imported(tmp_path, out)["events"]["s1"]]
    assert len(copy) == len(events)
    # The text is masked where it was; the numbers, and the text with nothing in it, stay.
    assert copy[1]["note"] == "hovered by [EMAIL]"
    assert copy[1]["positions"] == events[1]["data"]["positions"]
    assert copy[3]["label"] == {"by": "[EMAIL]", "tags": ["call [PHONE]"]}
    assert (copy[3]["x"], copy[3]["y"], copy[3]["id"]) == (1, 2, 4)
    assert copy[4]["reason"] == ORDINARY
    assert copy[5]["title"] == "voicemail from [PHONE]" and copy[5]["currentTime"] == 3.5
    assert copy[6]["selected"] == "[CARD]" and copy[6]["ranges"] == events[6]["data"]["ranges"]
    # The style sheet event is kept as it was, digit runs and all.
    assert copy[7] == STYLE_RULE
    # Events holding only numbers are copied as they were.
    assert copy[2] == events[2]["data"] and copy[8] == events[8]["data"]
    record = orjson.loads((out / "redaction.json").read_bytes())
    masked = record["counts"]["masked"]
    assert masked["by_channel"]["other"] == {"card": 1, "email": 2, "phone": 2}
    assert masked["events_changed"] == 4


def test_without_mask_pii_text_in_numeric_events_is_kept(tmp_path):
    events = numeric_events_with_text()
    source = write_archive(tmp_path / "src", [("s1", events, {"subject": "u-1"})])
    redact(source, tmp_path / "out")
    copy = [data for _, _, data, _ in imported(tmp_path, tmp_path / "out")["events"]["s1"]]
    assert copy == [event["data"] for event in events]


def test_numbers_only_tells_plain_pointer_events_from_ones_with_text():
    plain = [moves(T, [-10, 0]), click(T, 3), scroll(T),
             {"type": 3, "timestamp": T, "data": {"source": 7, "type": 0, "id": 4,
                                                   "currentTime": 12.25, "volume": 0.5}},
             {"type": 3, "timestamp": T, "data": {"source": 4, "width": 1280, "height": 800}}]
    assert all(decode(event).numbers_only() for event in plain)
    not_plain = [
        _with_text(moves(T, [0]), note="x"),  # text
        _with_text(click(T, 3), extra=1),  # a key no such event has
        {"type": 3, "timestamp": T, "data": {"source": 2, "type": 2, "id": 4, "x": 1,
                                              "y": 12125551234}},  # a number masking reads
        {"type": 3, "timestamp": T, "data": {"source": 1, "positions": [
            {"x": 1, "y": 2, "id": 3, "timeOffset": 0, "label": "x"}]}},  # text in a position
        {"type": 3, "timestamp": T, "data": {"source": 7, "type": 0, "id": 4,
                                              "muted": True}},  # not a number
        {"type": 3, "timestamp": T, "data": {"source": 0, "texts": [], "attributes": [],
                                              "removes": [], "adds": []}},  # a mutation
        meta(T),
    ]
    assert not any(decode(event).numbers_only() for event in not_plain)
    # The stored text tells the same without parsing (plan.mark_numbers_only): never "numbers
    # only" where the walk says otherwise, and DuckDB's RE2 reads the pattern as Python does.
    texts = [orjson.dumps(event["data"]).decode() for event in plain + not_plain]
    matches = [re.fullmatch(NUMBERS_ONLY_PATTERN, text) is not None for text in texts]
    assert matches == [True] * len(plain) + [False] * len(not_plain)
    con = duckdb.connect()
    assert [con.execute("SELECT regexp_full_match(?, ?)", [text, NUMBERS_ONLY_PATTERN])
            .fetchone()[0] for text in texts] == matches


_numbers = st.one_of(st.integers(-2_000_000, 2_000_000),
                     st.floats(-2e6, 2e6, allow_nan=False, allow_infinity=False),
                     st.sampled_from([999_999.999_999_999_9, -999_999.5, 1e-7, 0.1, -0.0]))
_keys = st.sampled_from(["x", "y", "id", "source", "timeOffset", "positions", "end", "text",
                         "label"])
_flat = st.dictionaries(_keys, st.one_of(_numbers, st.booleans(), st.none(), st.text(max_size=3)),
                        max_size=4)
_data = st.dictionaries(_keys, st.one_of(_numbers, st.lists(_flat, max_size=3),
                                         st.lists(_numbers, max_size=2), _flat,
                                         st.text(max_size=3)), max_size=4)


@settings(max_examples=400, deadline=None)
@given(_data)
def test_numbers_only_pattern_never_claims_what_the_walk_denies(data):
    text = orjson.dumps(data).decode()
    if re.fullmatch(NUMBERS_ONLY_PATTERN, text):
        assert _numbers_only(orjson.loads(text))
