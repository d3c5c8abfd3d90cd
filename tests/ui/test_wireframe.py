"""The wireframe layout of a rebuilt page: what takes room, what shows, what is masked."""

from __future__ import annotations

import orjson

from inspector.core.pii import REDACTED, TOKENS
from inspector.core.replay import RawEvent, ReplaySession
from inspector.ui.wireframe import (
    BLOCK,
    BUTTON,
    CHECKBOX,
    HEADING,
    IMAGE,
    INPUT,
    LINK,
    TEXT,
    layout_page,
)

T0 = 1_700_000_000_000


def el(node_id, tag, attributes=None, children=None):
    return {"type": 2, "tagName": tag, "attributes": attributes or {},
            "childNodes": children or [], "id": node_id}


def tx(node_id, value):
    return {"type": 3, "textContent": value, "id": node_id}


def page_at(body_children, inputs=(), width=800, *, deep_text=None):
    head = el(3, "head", children=[el(4, "title", children=[tx(5, "Title text")]),
                                   el(6, "script", children=[tx(7, "secret()")])])
    document = {"type": 0, "id": 1, "childNodes": [
        el(2, "html", children=[head, el(10, "body", children=body_children)])]}
    events = [{"type": 4, "data": {"href": "https://x.example/", "width": width,
                                   "height": 600}, "timestamp": T0},
              {"type": 2, "data": {"node": document, "initialOffset": {"top": 0, "left": 0}},
               "timestamp": T0 + 1}]
    for offset, (node_id, value) in enumerate(inputs, start=2):
        events.append({"type": 3, "data": {"source": 5, "id": node_id, "text": value,
                                           "isChecked": False}, "timestamp": T0 + offset})
    if deep_text is not None:  # JSON text, as the store hands data over, with a deep subtree
        raw = [RawEvent(seq, e["timestamp"], e["type"], e["data"].get("source"),
                        orjson.dumps(e["data"]).decode().replace('"DEEP"', deep_text))
               for seq, e in enumerate(events)]
        return ReplaySession(raw).seek(T0 + 100)
    return ReplaySession.from_events(events).seek(T0 + 100)


FORM = [
    el(11, "h1", children=[tx(12, "Checkout")]),
    el(13, "p", children=[tx(14, "Pay with "), el(15, "a", {"href": "/help"},
                                                  [tx(16, "our help")])]),
    el(17, "div", {"hidden": ""}, [tx(18, "hidden by attribute")]),
    el(19, "div", {"style": "display: none"}, [tx(20, "hidden by style")]),
    el(21, "input", {"type": "hidden", "value": "csrf-token"}),
    el(22, "form", children=[
        el(23, "input", {"type": "text", "name": "note", "placeholder": "A note"}),
        el(24, "input", {"type": "text", "name": "contact"}),
        el(25, "input", {"type": "password", "name": "pw"}),
        el(26, "input", {"type": "checkbox", "checked": True}),
        el(27, "button", children=[tx(28, "Pay now")]),
    ]),
    el(29, "img", {"src": "/logo.png", "alt": "Logo", "width": "150", "height": "40"}),
]
TYPED = [(24, "mail me at jane.doe@example.com"), (25, "hunter2hunter2")]


def texts(layout, kinds):
    return [box.text for box in layout.boxes if box.kind in kinds]


def test_visible_content_takes_room_and_hidden_content_does_not():
    layout = layout_page(page_at(FORM, TYPED), 800)
    shown = " ".join(texts(layout, (TEXT, LINK, HEADING, BUTTON, INPUT, IMAGE)))
    for visible in ("Checkout", "Pay with", "our help", "Pay now", "Logo", "A note"):
        assert visible in shown
    for hidden in ("Title text", "secret()", "hidden by attribute", "hidden by style",
                   "csrf-token"):
        assert hidden not in shown
    assert texts(layout, (HEADING,)) == ["Checkout"]
    assert texts(layout, (LINK,)) == ["our help"]
    image = next(b for b in layout.boxes if b.kind == IMAGE)
    assert (image.w, image.h) == (150, 40)
    assert [b.checked for b in layout.boxes if b.kind == CHECKBOX] == [True]
    assert any(b.kind == BLOCK for b in layout.boxes)
    assert all(b.x >= 0 and b.x + b.w <= 800 for b in layout.boxes)
    assert [b.y for b in layout.boxes] == sorted(b.y for b in layout.boxes)
    assert layout.document_ids == {1, 2, 10}


def test_inputs_show_typed_values_masked_as_the_engine_masks_them():
    page = page_at(FORM, TYPED)
    plain = {b.node: b for b in layout_page(page, 800).boxes if b.kind == INPUT}
    assert plain[23].text == "A note" and plain[23].muted  # the placeholder, greyed
    assert "[EMAIL]" in plain[24].text and "jane.doe" not in plain[24].text  # PII always
    assert plain[25].text == TOKENS["password"]  # a password field always
    masked = {b.node: b for b in layout_page(page, 800, mask_pii=True).boxes
              if b.kind == INPUT}
    assert masked[24].text == REDACTED  # with masking on, every typed value


def test_masking_replaces_personal_data_in_page_text():
    page = page_at([el(11, "p", children=[tx(12, "Call +44 20 7946 0958 today")])])
    assert "+44 20 7946 0958" in " ".join(texts(layout_page(page, 800), (TEXT,)))
    masked = " ".join(texts(layout_page(page, 800, mask_pii=True), (TEXT,)))
    assert "[PHONE]" in masked and "7946" not in masked


def test_long_text_wraps_within_the_width():
    words = " ".join(f"word{i}" for i in range(200))
    layout = layout_page(page_at([el(11, "p", children=[tx(12, words)])]), 400)
    lines = [b for b in layout.boxes if b.kind == TEXT]
    assert len(lines) > 5
    assert all(b.x + b.w <= 400 for b in lines)
    assert " ".join(b.text for b in lines).split() == words.split()


def test_deep_nesting_lays_out_without_recursion():
    depth = 480  # deeper than a walk of two Python frames a level could go
    text = orjson.dumps(tx(90_000, "deep text")).decode()
    for level in range(depth):
        text = ('{"type":2,"tagName":"div","attributes":{},"childNodes":[' + text
                + f'],"id":{20_000 + level}}}')
    layout = layout_page(page_at(["DEEP"], deep_text=text), 800)
    assert texts(layout, (TEXT,)) == ["deep text"]


def test_a_page_before_its_first_snapshot_is_empty():
    session = ReplaySession.from_events([{"type": 4, "data": {"href": "https://x.example/",
                                                              "width": 800, "height": 600},
                                          "timestamp": T0}])
    layout = layout_page(session.seek(T0), 800)
    assert layout.boxes == [] and layout.height == 0
