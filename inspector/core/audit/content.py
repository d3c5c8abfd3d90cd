"""What a session's flagged events captured: personal data by kind and count, pages visited.

Only content-bearing flagged events are read (typed input, page content, page URLs, console,
network, custom); pointer and scroll events hold nothing to find. Detection is the
:mod:`inspector.core.pii` module's, which decodes URL-, JSON- and HTML-escaped text first;
nothing here keeps a value, only kinds and counts.

A password cannot be recognised by its text, only by the field it was typed into, so the page's
nodes are rebuilt as the recording goes (FullSnapshot, then Mutation adds and attribute
changes, in time order) and the attributes of the node an Input event names decide
(:func:`inspector.core.pii.sensitive_field`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import pii
from .categories import (
    CONSOLE,
    CUSTOM,
    NETWORK,
    PAGE_CONTENT,
    PAGE_URLS,
    TYPED_INPUT,
)

#: The kinds a finding reports, in report order.
PII_KINDS = ("email", "phone", "card", "iban", "national_id", "password")
_KIND_SET = frozenset(PII_KINDS)
# Text a recorder masked (rrweb and PostHog mask inputs with asterisks) captured nothing.
_MASK_CHARS = frozenset("*•●")
# Attributes that style or point at resources rather than hold text a person wrote.
_NOT_TEXT = frozenset({"style", "class", "src", "srcset", "rr_src", "rr_dataURL"})
# No kind of personal data fits in fewer characters ("a@b.co").
_SHORTEST = 6
# Attributes that tell what a field is; the first present labels a typed value for detection.
_LABEL_ATTRIBUTES = ("name", "id", "autocomplete", "aria-label", "placeholder")


@dataclass
class Captured:
    """The personal data and pages found in one session's flagged events."""

    pii: Counter[str] = field(default_factory=Counter)
    #: Personal data found in page text and attributes (FullSnapshot, Mutation...): makes a
    #: finding high severity.
    page_text_pii: int = 0
    #: Page URLs (Meta events) visited while opted out, query strings masked, first visits in
    #: time order.
    pages: list[str] = field(default_factory=list)


@dataclass
class _Typed:
    node: int | None
    text: str
    field_kind: str | None
    label: str


class Detector:
    """:func:`inspector.core.pii.find_pii` kinds, remembered for text seen before.

    Recordings repeat themselves (the same labels, prices and names on every page), so one
    audit keeps what it found per text; the memory is bounded and dropped with the audit.
    """

    MAX_TEXTS = 50_000

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[str, ...]] = {}

    def kinds(self, text: str, context: str = "") -> tuple[str, ...]:
        if len(text) < _SHORTEST:
            return ()
        key = (text, context)
        found = self._known.get(key)
        if found is None:
            found = tuple(m.kind for m in pii.find_pii(text, context=context))
            if len(self._known) >= self.MAX_TEXTS:
                self._known.clear()
            self._known[key] = found
        return found


class SessionScanner:
    """Feed one session's events in time order; flagged ones are scanned.

    ``track_nodes`` rebuilds node attributes from every FullSnapshot and Mutation fed (flagged
    or not), which typed input needs to know its field.
    """

    def __init__(self, *, track_nodes: bool, detector: Detector | None = None) -> None:
        self.track_nodes = track_nodes
        self.detector = detector or Detector()
        self.captured = Captured()
        self._nodes: dict[int, dict[str, Any]] = {}
        self._typed: list[_Typed] = []
        self._pages: dict[str, None] = {}

    def feed(self, kind: int, source: int | None, data_json: str | None,
             category: str | None) -> None:
        """One event; ``category`` is None for an unflagged event fed only for its nodes."""
        try:
            data = orjson.loads(data_json) if data_json else None
        except orjson.JSONDecodeError:
            return  # the importer stores valid JSON; nothing to read otherwise
        if not isinstance(data, dict):
            data = {}
        if kind == 2:
            self._full_snapshot(data, flagged=category is not None)
        elif kind == 3 and source == 0:
            self._mutation(data, flagged=category is not None)
        elif category == TYPED_INPUT:
            self._input(data)
        elif category == PAGE_URLS:
            self._meta(data)
        elif category in (PAGE_CONTENT, CONSOLE, NETWORK, CUSTOM):
            self._count(pii.scan_json(data), page=category == PAGE_CONTENT)

    def finish(self) -> Captured:
        """Count typed input (each value a field settled on) and return what was found."""
        following: dict[int, str] = {}
        for typed in reversed(self._typed):
            if typed.node is None:
                self._count_typed(typed)
                continue
            later = following.get(typed.node)
            following[typed.node] = typed.text
            # A value the field's next value extends was on its way there (typed letter by
            # letter, or recorded twice): only the value the field settled on counts.
            if later is None or not later.startswith(typed.text):
                self._count_typed(typed)
        self.captured.pages = list(self._pages)
        return self.captured

    # -- event kinds ------------------------------------------------------------------------
    def _full_snapshot(self, data: dict, *, flagged: bool) -> None:
        if self.track_nodes:
            self._nodes.clear()  # a new page: node ids start again
        node = data.get("node")
        if isinstance(node, dict):
            self._walk(node, flagged=flagged)

    def _mutation(self, data: dict, *, flagged: bool) -> None:
        for add in _dicts(data.get("adds")):
            node = add.get("node")
            if isinstance(node, dict):
                self._walk(node, flagged=flagged)
        for change in _dicts(data.get("attributes")):
            attributes = change.get("attributes")
            if not isinstance(attributes, dict):
                continue
            node_id = change.get("id")
            known = self._nodes.get(node_id) if self.track_nodes else None
            if known is not None:
                for name, value in attributes.items():
                    if value is None:
                        known.pop(name, None)
                    else:
                        known[name] = value
            if flagged:
                self._attributes(attributes, known)
        if flagged:
            for text in _dicts(data.get("texts")):
                value = text.get("value")
                if isinstance(value, str):
                    self._text(value)

    def _walk(self, root: dict, *, flagged: bool) -> None:
        stack = [root]
        while stack:
            node = stack.pop()
            kind = node.get("type")
            if kind == 2:  # element
                attributes = node.get("attributes")
                attributes = attributes if isinstance(attributes, dict) else {}
                if self.track_nodes and isinstance(node.get("id"), int):
                    self._nodes[node["id"]] = dict(attributes)
                if flagged:
                    self._attributes(attributes, attributes)
            elif kind in (3, 4, 5) and flagged and not node.get("isStyle"):
                text = node.get("textContent")
                if isinstance(text, str):
                    self._text(text)
            children = node.get("childNodes")
            if isinstance(children, list):
                stack.extend(child for child in reversed(children) if isinstance(child, dict))

    def _attributes(self, attributes: dict, field_attributes: dict | None) -> None:
        """Scan attribute values; a value set on a password field is a captured password."""
        for name, value in attributes.items():
            if not isinstance(value, str) or name in _NOT_TEXT:
                continue
            if name == "value" and field_attributes and \
                    pii.sensitive_field(field_attributes) == "password":
                if _captured(value):
                    self.captured.pii["password"] += 1
                    self.captured.page_text_pii += 1
                continue
            self._text(value, context=name)

    def _text(self, text: str, context: str = "") -> None:
        for kind in self.detector.kinds(text, context):
            self.captured.pii[kind] += 1
            self.captured.page_text_pii += 1

    def _input(self, data: dict) -> None:
        text = data.get("text")
        if not isinstance(text, str):
            return
        node = data.get("id") if isinstance(data.get("id"), int) else None
        attributes = self._nodes.get(node, {}) if node is not None else {}
        field_kind = pii.sensitive_field(attributes) if attributes else None
        label = next((str(attributes[a]) for a in _LABEL_ATTRIBUTES if attributes.get(a)), "")
        self._typed.append(_Typed(node, text, field_kind, label))

    def _count_typed(self, typed: _Typed) -> None:
        if not _captured(typed.text):
            return
        found = Counter(self.detector.kinds(typed.text, typed.label))
        # The field says what it holds (a password, a card's expiry date, an e-mail field)
        # even when the value alone does not show it.
        if typed.field_kind in _KIND_SET and not found[typed.field_kind]:
            found[typed.field_kind] += 1
        self._count(found, page=False)

    def _meta(self, data: dict) -> None:
        href = data.get("href")
        if not isinstance(href, str) or not href:
            return
        self._count(pii.mask_url(href)[1], page=False)
        self._pages.setdefault(pii.mask_query(href), None)

    def _count(self, found: Counter[str], *, page: bool) -> None:
        for kind, count in found.items():
            if kind in _KIND_SET and count:
                self.captured.pii[kind] += count
                if page:
                    self.captured.page_text_pii += count


def _dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _captured(text: str) -> bool:
    """Whether a value holds something: not empty, not wholly masked by the recorder."""
    stripped = text.strip()
    return bool(stripped) and not set(stripped) <= _MASK_CHARS
