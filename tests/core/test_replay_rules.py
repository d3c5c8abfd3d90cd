"""rrweb's replay rules, damaged recordings, and what a page state shows, on small hand-built
sessions whose right answer can be read off the events."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from inspector.core.replay import ReplaySession

T = 1_700_000_000_000


def el(node_id: int, tag: str, children=(), **attributes) -> dict:
    return {"type": 2, "tagName": tag, "attributes": attributes, "childNodes": list(children),
            "id": node_id}


def text(node_id: int, value: str) -> dict:
    return {"type": 3, "textContent": value, "id": node_id}


def document(body_children=(), head_children=(), first_id: int = 1) -> dict:
    i = first_id
    return {"type": 0, "id": i, "childNodes": [
        {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": i + 1},
        el(i + 2, "html", [el(i + 3, "head", head_children),
                           el(i + 4, "body", body_children)])]}


def meta(ts: int, href: str = "https://shop.example/", width: int = 1280,
         height: int = 800) -> dict:
    return {"type": 4, "data": {"href": href, "width": width, "height": height}, "timestamp": ts}


def snapshot(ts: int, node: dict) -> dict:
    return {"type": 2, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}},
            "timestamp": ts}


def mutation(ts: int, *, adds=(), removes=(), texts=(), attributes=()) -> dict:
    return {"type": 3, "timestamp": ts, "data": {"source": 0, "adds": list(adds),
                                                 "removes": list(removes), "texts": list(texts),
                                                 "attributes": list(attributes)}}


def add(parent: int, node: dict, next_id: int | None = None) -> dict:
    return {"parentId": parent, "nextId": next_id, "node": node}


def typed(ts: int, node_id: int, value: str, checked: bool = False) -> dict:
    return {"type": 3, "timestamp": ts,
            "data": {"source": 5, "id": node_id, "text": value, "isChecked": checked}}


def body_texts(page, body: int = 5) -> list[str]:
    """The text of each child of <body>, in order (elements: their first text child)."""
    out = []
    for child in page.children(body):
        node = page.node(child)
        if node.kind == "text":
            out.append(node.text)
        else:
            out.append(next((page.node(g).text for g in node.children
                             if page.node(g).kind == "text"), node.tag))
    return out


# -- rrweb's rules ------------------------------------------------------------------------------

def test_full_snapshot_replaces_the_whole_document() -> None:
    first = document([el(10, "p", [text(11, "first page")])])
    second = document([el(20, "p", [text(21, "second")]), el(22, "p")], first_id=100)
    session = ReplaySession.from_events([meta(T), snapshot(T + 1, first),
                                         meta(T + 50, "https://shop.example/b"),
                                         snapshot(T + 51, second)])
    before, after = session.seek(T + 50), session.seek(T + 51)
    assert before.nodes == 7 and 10 in before and before.root == 1
    assert after.nodes == 8 and 10 not in after and 20 in after and after.root == 100
    assert after.url == "https://shop.example/b"
    assert "second" in after.text() and "first page" not in after.text()


def test_adds_are_placed_before_next_and_may_arrive_in_any_order() -> None:
    events = [meta(T), snapshot(T + 1, document([el(10, "p", [text(11, "last")])])),
              # A child listed before its parent: rrweb waits for the parent, so do we.
              mutation(T + 2, adds=[add(30, text(32, "two")), add(5, el(30, "p"), next_id=10)]),
              mutation(T + 3, adds=[add(5, el(40, "p"), next_id=30),
                                    add(40, text(41, "one"))]),
              mutation(T + 4, adds=[add(50, text(51, "three")), add(5, el(50, "p"), 10)])]
    session = ReplaySession.from_events(events)
    page = session.seek(T + 4)
    assert body_texts(page) == ["one", "two", "three", "last"]
    assert page.nodes == 7 + 6 and session.problems == {}


def test_add_with_a_missing_parent_or_next_is_counted_and_dropped() -> None:
    events = [meta(T), snapshot(T + 1, document([el(10, "p")])),
              mutation(T + 2, adds=[add(999, el(30, "p")), add(5, el(31, "p"), next_id=888),
                                    add(5, el(32, "p"))])]
    session = ReplaySession.from_events(events)
    page = session.seek(T + 2)
    assert 30 not in page and 31 not in page and 32 in page
    assert session.problems == {"add_missing_parent": 1, "add_missing_next": 1}
    assert page.problems == session.problems and session.seek(T + 1).problems == {}


def test_removes_take_the_subtree_and_texts_and_attributes_change_nodes() -> None:
    tree = document([el(10, "div", [el(11, "p", [text(12, "a")]), text(13, "b")],
                        **{"class": "box", "style": "color: red; top: 1px"}),
                     el(20, "span", [text(21, "keep")])])
    events = [meta(T), snapshot(T + 1, tree),
              mutation(T + 2, texts=[{"id": 21, "value": "kept"}],
                       attributes=[{"id": 10, "attributes": {"class": None, "title": "t",
                                                             "style": {"color": False,
                                                                       "left": "2px"}}}]),
              mutation(T + 3, removes=[{"parentId": 5, "id": 10}])]
    session = ReplaySession.from_events(events)
    changed = session.seek(T + 2)
    box = changed.node(10)
    assert dict(box.attributes) == {"title": "t", "style": "top: 1px; left: 2px;"}
    assert changed.node(21).text == "kept"
    removed = session.seek(T + 3)
    assert [i for i in (10, 11, 12, 13) if i in removed] == [] and removed.nodes == 11 - 4
    assert session.problems == {}


def test_input_events_set_the_value_and_checked_state() -> None:
    tree = document([el(10, "input", type="text", name="q", value="old"),
                     el(11, "input", type="checkbox"), el(12, "textarea")])
    events = [meta(T), snapshot(T + 1, tree), typed(T + 2, 10, "hello"),
              typed(T + 3, 11, "on", True), typed(T + 4, 12, "notes here")]
    session = ReplaySession.from_events(events)
    assert session.seek(T + 1).node(10).value == "old"
    page = session.seek(T + 4)
    assert (page.node(10).value, page.node(11).checked, page.node(12).value) == \
        ("hello", True, "notes here")
    assert page.inputs() == {10: ("hello", False), 11: ("on", True), 12: ("notes here", False)}
    html = page.html()
    assert 'value="hello"' in html and "checked" in html and ">notes here</textarea>" in html


def test_meta_and_viewport_resize_set_url_and_viewport() -> None:
    events = [meta(T, "https://a.example/", 1000, 700), snapshot(T + 1, document()),
              {"type": 3, "timestamp": T + 5, "data": {"source": 4, "width": 400,
                                                        "height": 900}}]
    session = ReplaySession.from_events(events)
    assert session.seek(T).viewport == (1000, 700) and session.seek(T).url == \
        "https://a.example/"
    assert session.seek(T + 5).viewport == (400, 900)
    assert session.seek(T - 1).nodes == 0 and session.seek(T - 1).url is None


def test_instant_includes_events_at_it_and_events_are_ordered_by_time() -> None:
    # Recorded out of order: replayed by timestamp, ties in recorded order (as rrweb sorts).
    events = [meta(T), snapshot(T + 1, document([el(10, "p", [text(11, "x")])])),
              mutation(T + 20, texts=[{"id": 11, "value": "third"}]),
              mutation(T + 10, texts=[{"id": 11, "value": "first"}]),
              mutation(T + 10, texts=[{"id": 11, "value": "second"}])]
    session = ReplaySession.from_events(events)
    assert session.seek(T + 9).node(11).text == "x"
    assert session.seek(T + 10).node(11).text == "second"
    assert session.seek(T + 19).node(11).text == "second"
    assert session.seek(T + 20).node(11).text == "third"
    assert (session.start, session.end) == (T, T + 20)


def test_legacy_minus_one_siblings_are_placed_when_named() -> None:
    # Old rrweb (2018): nextId -1 means "my next sibling is added later"; the node waits.
    events = [meta(T), snapshot(T + 1, document()),
              mutation(T + 2, adds=[
                  {"parentId": 5, "previousId": None, "nextId": -1, "node": el(30, "p")},
                  {"parentId": 30, "previousId": None, "nextId": None, "node": text(31, "a")},
                  {"parentId": 5, "previousId": 30, "nextId": None, "node": el(32, "p")}])]
    page = ReplaySession.from_events(events).seek(T + 2)
    assert page.children(5) == (30, 32) and page.node(31).parent == 30


# -- damaged recordings -----------------------------------------------------------------------

def test_mutations_naming_missing_nodes_are_counted() -> None:
    events = [meta(T), snapshot(T + 1, document([el(10, "p")])),
              mutation(T + 2, removes=[{"parentId": 5, "id": 77}],
                       texts=[{"id": 78, "value": "x"}],
                       attributes=[{"id": 79, "attributes": {"a": "b"}}]),
              typed(T + 3, 80, "typed into nothing")]
    session = ReplaySession.from_events(events)
    assert session.seek(T + 3).nodes == 5 + 1
    assert session.problems == {"remove_missing_node": 1, "text_missing_node": 1,
                                "attribute_missing_node": 1, "input_missing_node": 1}
    assert session.seek(T + 2).problems == {"remove_missing_node": 1, "text_missing_node": 1,
                                            "attribute_missing_node": 1}


def test_a_session_without_full_snapshot_still_answers() -> None:
    events = [meta(T), mutation(T + 1, adds=[add(5, el(30, "p"))]),
              mutation(T + 2, texts=[{"id": 3, "value": "x"}])]
    session = ReplaySession.from_events(events)
    page = session.seek(T + 5)
    assert page.nodes == 0 and page.url == "https://shop.example/"
    assert page.text() == "" and "<html>" in page.html()
    assert session.problems == {"add_missing_parent": 1, "event_before_full_snapshot": 2,
                                "no_full_snapshot": 1, "text_missing_node": 1}


def test_duplicate_events_are_counted_and_applied_once() -> None:
    grow = mutation(T + 2, adds=[add(5, el(30, "p", [])), add(30, text(31, "once"))])
    events = [meta(T), snapshot(T + 1, document()), grow, dict(grow),
              typed(T + 3, 5, "a"), typed(T + 3, 5, "a")]
    session = ReplaySession.from_events(events)
    page = session.seek(T + 3)
    assert page.nodes == 5 + 2 and page.children(5) == (30,)
    assert session.problems == {"duplicate_event": 2}
    assert session.seek(T + 1).problems == {}


def test_a_value_typed_again_at_the_same_instant_is_not_a_duplicate() -> None:
    # "ab", "a", "ab" within one millisecond is typing, not a re-sent event.
    events = [meta(T), snapshot(T + 1, document([el(10, "input")])),
              typed(T + 2, 10, "ab"), typed(T + 2, 10, "a"), typed(T + 2, 10, "ab")]
    session = ReplaySession.from_events(events)
    assert session.seek(T + 2).node(10).value == "ab" and session.problems == {}


def test_malformed_pieces_are_skipped_and_counted() -> None:
    events = [meta(T), snapshot(T + 1, document()),
              mutation(T + 2, adds=[{"parentId": "5", "node": el(30, "p")},
                                    add(5, {"type": 2, "id": 31})],
                       texts=[{"value": "no id"}]),
              {"type": 3, "timestamp": T + 3, "data": {"source": 0, "adds": "nonsense"}},
              {"type": 2, "timestamp": T + 4, "data": {"node": "not a node"}}]
    session = ReplaySession.from_events(events)
    assert session.seek(T + 4).nodes == 5
    assert session.problems == {"malformed_event": 2, "malformed_node": 3}


def test_untimed_sessions_are_sought_by_position() -> None:
    events = [dict(e, timestamp=None) for e in
              (meta(T), snapshot(T, document()), mutation(T, adds=[add(5, el(30, "p"))]))]
    session = ReplaySession.from_events(events)
    assert not session.timed and session.start is None
    assert [session.seek_seq(n).nodes for n in (0, 1, 2)] == [0, 5, 6]


# -- page states --------------------------------------------------------------------------------

def test_a_page_state_does_not_change_when_the_session_seeks_on() -> None:
    events = [meta(T), snapshot(T + 1, document([el(10, "p", [text(11, "v0")])]))]
    events += [mutation(T + 1 + i, texts=[{"id": 11, "value": f"v{i}"}]) for i in range(1, 50)]
    session = ReplaySession.from_events(events, min_spacing=4)
    early = session.seek(T + 10)
    kept = (early.nodes, early.node(11).text, early.text(), early.html())
    session.seek(T + 30)  # forward from `early`: must work on a copy
    session.seek(T + 5)
    assert (early.nodes, early.node(11).text, early.text(), early.html()) == kept
    assert kept[1] == "v9"


def test_walk_gives_document_order() -> None:
    tree = document([el(10, "div", [el(11, "p", [text(12, "a")])]), el(13, "p")])
    page = ReplaySession.from_events([meta(T), snapshot(T + 1, tree)]).seek(T + 1)
    assert list(page.walk()) == [1, 2, 3, 4, 5, 10, 11, 12, 13]
    assert list(page.walk(10)) == [10, 11, 12]


# -- safe HTML, visible text, masking ----------------------------------------------------------

class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _hostile_page():
    head = [el(20, "script", [text(21, "alert('head')")], src="https://evil.example/a.js"),
            el(22, "link", rel="stylesheet", href="https://cdn.example/s.css",
               _cssText="@import url(https://x.example/i.css); body { background: "
                        "url('https://x.example/bg.png') } i { background: url(data:image/png;"
                        "base64,AAAA) }"),
            el(23, "base", href="https://evil.example/"),
            el(24, "meta", **{"http-equiv": "refresh", "content": "0;url=https://x.example"}),
            el(25, "style", [text(26, "p { background-image: url(https://x.example/p.png) }"
                                      "</style><script>alert(1)</script>")])]
    body = [el(10, "p", [text(11, "Hello <b>world</b>")], onclick="alert(1)",
               style="background: url(https://x.example/q.png)"),
            el(12, "img", src="https://x.example/track.gif", srcset="https://x.example/2x.gif 2x",
               onerror="alert(2)"),
            el(13, "a", [text(14, "link")], href="javascript:alert(3)"),
            el(15, "a", [text(16, "anchor")], href="#top"),
            el(17, "iframe", src="https://x.example/frame"),
            el(18, "input", type="password", name="pw", value="hunter2"),
            el(19, "form", action="https://x.example/post")]
    return ReplaySession.from_events([meta(T), snapshot(T + 1, document(body, head))])


def test_html_runs_nothing_and_fetches_nothing() -> None:
    page = _hostile_page().seek(T + 1)
    html = page.html()
    parser = _Collect()
    parser.feed(html)
    tags = parser.tags
    assert not [t for t, _ in tags if t in ("script", "base")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    fetching = {"src", "srcset", "href", "action", "poster", "data"}
    leaks = [(t, a, v) for t, attrs in tags for a, v in attrs.items()
             if a in fetching and v and not v.startswith("#")]
    assert leaks == []
    assert not re.search(r"url\(\s*['\"]?https?:", html) and "@import" not in html
    assert "url(data:image/png;base64,AAAA)" in html  # inline images stay
    assert ("meta", {"http-equiv": "refresh", "content": "0;url=https://x.example"}) not in tags
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") ==
           "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0] and "script-src" not in csp[0]
    assert tags.index(("head", {})) < [t for t, _ in tags].index("meta")
    assert 'data-rr-src="https://x.example/track.gif"' in html  # kept, inert
    assert ("a", {"href": "#top"}) in tags
    # Text is escaped; the style text cannot close its element.
    assert "Hello &lt;b&gt;world&lt;/b&gt;" in html and "</style><script>" not in html


def test_visible_text_and_always_masked_passwords() -> None:
    page = _hostile_page().seek(T + 1)
    lines = page.text().splitlines()
    assert "Hello <b>world</b>" in lines and "alert('head')" not in page.text()
    assert "[PASSWORD]" in page.text() and "hunter2" not in page.text()
    assert "hunter2" not in page.html() and page.node(18).value == "[PASSWORD]"


def test_mask_pii_replaces_typed_values_and_masks_text_and_urls() -> None:
    tree = document([el(10, "p", [text(11, "Write to jane.doe@example.com")]),
                     el(12, "input", type="text", name="q"),
                     el(13, "a", [text(14, "profile")], href="https://x.example/u?email=a@b.co",
                        title="for jane.doe@example.com")])
    events = [meta(T, "https://shop.example/?user=jane&page=2"), snapshot(T + 1, tree),
              typed(T + 2, 12, "blue shoes")]
    session = ReplaySession.from_events(events)
    page = session.seek(T + 2)
    assert page.node(12).value == "blue shoes"  # not sensitive, no personal data
    masked_html, masked_text = page.html(mask_pii=True), page.text(mask_pii=True)
    for output in (masked_html, masked_text):
        assert "blue shoes" not in output and "jane.doe@example.com" not in output
        assert "[REDACTED]" in output and "[EMAIL]" in output
    assert "a@b.co" not in masked_html and page.node(12, mask_pii=True).value == "[REDACTED]"
    assert page.inputs(mask_pii=True) == {12: ("[REDACTED]", False)}


def test_values_with_personal_data_are_masked_without_mask_pii() -> None:
    tree = document([el(10, "input", type="text", name="note")])
    events = [meta(T), snapshot(T + 1, tree), typed(T + 2, 10, "mail me: jane.doe@example.com")]
    page = ReplaySession.from_events(events).seek(T + 2)
    assert page.node(10).value == "mail me: [EMAIL]"
    assert "jane.doe@example.com" not in page.html() + page.text()


def test_mask_pii_hides_echoes_of_typed_values() -> None:
    # A search box whose results repeat the query, and a URL that carries it.
    tree = document([el(10, "input", type="search", name="q"),
                     el(11, "p", [text(12, "")]),
                     el(13, "a", [text(14, "again")], href="/search?term=x", title="")])
    events = [meta(T), snapshot(T + 1, tree)]
    for i, query in enumerate(("blu", "blue", "blue sh", "blue shoes")):
        events.append(typed(T + 2 + i, 10, query))
    events += [mutation(T + 10, texts=[{"id": 12, "value": "12 results for Blue Shoes, "
                                                          "not bluesky"}],
                        attributes=[{"id": 13, "attributes": {"title": "blue shoes again"}}]),
               meta(T + 11, "https://shop.example/search?q=blue+shoes")]
    page = ReplaySession.from_events(events).seek(T + 11)
    assert "Blue Shoes" in page.text() and 'title="blue shoes again"' in page.html()
    masked_text, masked_html = page.text(mask_pii=True), page.html(mask_pii=True)
    assert "12 results for [REDACTED], not bluesky" in masked_text.splitlines()
    assert 'title="[REDACTED] again"' in masked_html
    assert "blue" not in masked_text.replace("bluesky", "")
    assert page.masker(mask_pii=True).url(page.url) == \
        "https://shop.example/search?q=[REDACTED]"


def test_typed_value_matcher_finds_any_of_many_values() -> None:
    from inspector.core.replay.privacy import TypedValues

    words = [f"w{i:04d}x" for i in range(2000)] + ["a+b (c)", "te"]
    typed = TypedValues(words)
    assert len(typed) == 2001  # "te" is too short to look for
    assert typed.scrub("w0042x, W1999X and a+b (c) but not w0042xy or te") == \
        "[REDACTED], [REDACTED] and [REDACTED] but not w0042xy or te"
