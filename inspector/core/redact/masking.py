"""Masking personal data in everything a redacted copy keeps (``--mask-pii``), and pseudonyms.

Detection and tokens are :mod:`inspector.core.pii`'s: each piece of personal data becomes a
token naming its kind (``[EMAIL]``, ``[CARD]``...) that does not keep its length. Where it looks:

- **typed input** (Input events) and the ``value`` attribute of form fields. A field whose
  attributes say what it holds (``type`` password, email, tel or hidden, an ``autocomplete`` of
  ``cc-*``, email or tel, a name or id naming a card, a password, a user name...), or one whose
  settled value holds personal data, is **sensitive**: every value recorded for it, the partial
  values typed letter by letter included, becomes its kind's token. Which fields are sensitive
  is decided before the copy is written, from every event of the session (:class:`FieldJudge`):
  the partial value ``alice.mo`` is masked because the field later holds an e-mail address;
- **page text**: text, comment and CDATA nodes of FullSnapshots and Mutation adds (not
  ``<style>`` text), and text changes;
- **attributes**: every attribute but ``style``, ``class`` and rrweb's own ``rr_*`` (image data,
  sizes); URL attributes (``href``, ``src``, ``action``...) are masked as URLs: every query value
  not known to be harmless becomes ``[REDACTED]`` (:func:`inspector.core.pii.mask_url`);
- **page URLs**: the Meta ``href``, as a URL;
- **console** payloads and traces, **network** requests (URL as a URL; headers, with
  authorisation and cookie headers ``[REDACTED]`` whole; bodies, JSON or form-encoded), **custom**
  event payloads and other plugin data: every string as :func:`inspector.core.pii.mask_json`
  masks it, URL-like strings as URLs, strings holding JSON masked inside;
- **every other event** holding text: pointer, scroll, click, media, selection... events are
  numbers and node ids, skipped after one quick look (:meth:`.Decoded.numbers_only`); a string
  in one (a field a recorder plugin added) is masked like a payload.

Style sheets (StyleSheetRule, StyleDeclaration, AdoptedStyleSheet events, ``<style>`` text) are
kept as they are: CSS holds no personal data, and masking digit runs in it would break pages.

With ``--pseudonymize-key`` the same walk replaces known keys and e-mail addresses by their
pseudonyms (:mod:`.pseudonym`) before masking; an e-mail field's values, partial ones included,
all become the pseudonym of the address it settled on.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from .. import pii
from .pseudonym import Pseudonymizer

INPUT_TAGS = frozenset({"input", "textarea", "select"})
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "poster", "cite", "background",
                            "ping", "xlink:href", "srcset", "longdesc", "manifest", "codebase",
                            "rr_src"})
#: Attributes that style a page or carry rrweb's own data (images, sizes): kept as they are.
STYLE_ATTRIBUTES = frozenset({"style", "class", "_csstext"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie",
                            "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token"})
#: Incremental sources holding CSS (StyleSheetRule, StyleDeclaration, AdoptedStyleSheet): kept
#: as they are, and not searched by the verification either.
CSS_SOURCES = frozenset({8, 13, 15})
_LABEL_ATTRIBUTES = ("name", "id", "autocomplete", "aria-label", "placeholder")
_URL_LIKE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|/)\S*")
#: A URL with a query string inside a text ("see shop.example/a?email=..."): masked as a URL.
QUERY_IN_TEXT = re.compile(r"[^\s\"'<>()\[\]]*\?[^\s\"'<>()#]*=[^\s\"'<>()]*")
_MASK_CHARS = frozenset("*•●")
_CACHE_LIMIT = 100_000

CHANNELS = ("input", "text", "attribute", "url", "console", "network", "custom", "other")


def is_url_like(text: str) -> bool:
    return bool(_URL_LIKE.fullmatch(text))


def skipped_attribute(name: str) -> bool:
    lower = name.lower()
    return lower in STYLE_ATTRIBUTES or (lower.startswith("rr_") and lower != "rr_src")


def captured(text: str) -> bool:
    """Whether a typed value holds something: not empty, not already masked by the recorder."""
    stripped = text.strip()
    return bool(stripped) and not set(stripped) <= _MASK_CHARS


# -- which fields are sensitive ---------------------------------------------------------------

@dataclass
class FieldVerdict:
    #: The kind the field holds (password, card, email...) when it is sensitive, else None.
    kind: str | None
    #: The field's name, id... used as context for detection in its values.
    label: str
    #: The e-mail address the field settled on, for its pseudonym.
    email: str | None
    #: The values the field settled on (each not extended by the next value typed).
    settled: list[str]

    @property
    def token(self) -> str | None:
        return None if self.kind is None else pii.TOKENS.get(self.kind, pii.REDACTED)


FieldKey = tuple[str, Any, int, int]  # session, window, page generation, node id


class FieldJudge:
    """Pass 1: every event of every session, to know each field before any value is written.

    Node ids are only unique within one page of one window, so a field is keyed by its session,
    window, page generation (FullSnapshots seen so far in that window) and node id.
    """

    def __init__(self) -> None:
        self._generation: Counter[tuple[str, Any]] = Counter()
        self._nodes: dict[tuple[str, Any], dict[int, dict]] = {}
        self._attributes: dict[FieldKey, list[dict]] = defaultdict(list)
        self._values: dict[FieldKey, list[str]] = defaultdict(list)

    def feed(self, session_id: str, window: Any, kind: int, source: int | None,
             data: Any) -> None:
        if not isinstance(data, dict):
            return
        page = (session_id, window)
        if kind == 2:
            self._generation[page] += 1
            self._nodes[page] = {}
            node = data.get("node")
            if isinstance(node, dict):
                self._register(page, node)
        elif kind == 3 and source == 0:
            for add in _dicts(data.get("adds")):
                if isinstance(add.get("node"), dict):
                    self._register(page, add["node"])
            nodes = self._nodes.setdefault(page, {})
            for change in _dicts(data.get("attributes")):
                node_id, changed = change.get("id"), change.get("attributes")
                if node_id not in nodes or not isinstance(changed, dict):
                    continue
                attributes = dict(nodes[node_id])
                for name, value in changed.items():
                    if value is None:
                        attributes.pop(name, None)
                    elif isinstance(value, str):
                        attributes[name] = value
                nodes[node_id] = attributes
                key = (*page, self._generation[page], node_id)
                self._attributes[key].append(attributes)
                if isinstance(changed.get("value"), str):
                    self._values[key].append(changed["value"])
        elif kind == 3 and source == 5:
            node_id, text = data.get("id"), data.get("text")
            if isinstance(node_id, int) and isinstance(text, str):
                self._values[(*page, self._generation[page], node_id)].append(text)

    def _register(self, page: tuple[str, Any], root: dict) -> None:
        nodes = self._nodes.setdefault(page, {})
        generation = self._generation[page]
        stack = [root]
        while stack:
            node = stack.pop()
            attributes = node.get("attributes")
            tag = node.get("tagName")
            if (node.get("type") == 2 and isinstance(tag, str) and tag.lower() in INPUT_TAGS
                    and isinstance(attributes, dict) and isinstance(node.get("id"), int)):
                attributes = {k: v for k, v in attributes.items() if isinstance(v, str)}
                nodes[node["id"]] = attributes
                key = (*page, generation, node["id"])
                self._attributes[key].append(attributes)
                if attributes.get("value"):
                    self._values[key].append(attributes["value"])
            children = node.get("childNodes")
            if isinstance(children, list):
                stack.extend(child for child in children if isinstance(child, dict))

    def verdicts(self) -> dict[FieldKey, FieldVerdict]:
        out = {}
        for key in self._attributes.keys() | self._values.keys():
            versions = self._attributes.get(key, [])
            kind = next((k for k in map(field_kind, reversed(versions)) if k), None)
            latest = versions[-1] if versions else {}
            label = next((str(latest[a]) for a in _LABEL_ATTRIBUTES if latest.get(a)), "")
            settled = _settled(self._values.get(key, []))
            email = None
            for value in settled:
                for match in pii.find_pii(value, context=label):
                    kind = kind or match.kind
                    if match.kind == "email":
                        email = match.value
            out[key] = FieldVerdict(kind, label, email, settled)
        return out


def field_kind(attributes: dict) -> str | None:
    """What a field holds by its attributes: :func:`pii.sensitive_field`, or a user name."""
    kind = pii.sensitive_field(attributes)
    if kind:
        return kind
    autocomplete = str(attributes.get("autocomplete") or "").lower().split()
    if "username" in autocomplete:
        return "username"
    for attribute in ("name", "id"):
        value = attributes.get(attribute)
        if value and pii.name_kind(str(value), loose=True) == "username":
            return "username"
    return None


def _settled(values: list[str]) -> list[str]:
    """Values a field settled on: those the next value does not extend (typing goes on)."""
    following: list[str | None] = [*values[1:], None]
    return [value for value, after in zip(values, following, strict=False)
            if captured(value) and (after is None or not after.startswith(value))]


# -- masking what is kept -----------------------------------------------------------------------

class Leaves:
    """The rules for one string: text, URL, or a JSON value; with caches and counts."""

    def __init__(self, *, mask: bool, pseudonymizer: Pseudonymizer | None) -> None:
        self.mask = mask
        self.pseudonymizer = pseudonymizer
        #: channel -> kind -> pieces of personal data masked.
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self._text_cache: dict[tuple[str, str], tuple[str, Counter[str]]] = {}
        self._url_cache: dict[str, tuple[str, Counter[str]]] = {}
        self._json_cache: dict[tuple[str, str], tuple[Any, Counter[str]]] = {}

    def text(self, text: str, context: str, channel: str) -> str:
        if not text:
            return text
        if self.pseudonymizer is not None:
            text = self.pseudonymizer.text(text, context)
        if self.mask:
            text = self._cached(self._text_cache, (text, context), channel,
                                lambda: _mask_text(text, context))
        return text

    def url(self, url: str, channel: str) -> str:
        if not url or url.startswith("data:"):
            return url
        if self.pseudonymizer is not None:
            url = self.pseudonymizer.text(url)
        if self.mask:
            url = self._cached(self._url_cache, url, channel, lambda: pii.mask_url(url))
        return url

    def value(self, value: Any, channel: str, key: str = "") -> Any:
        """A JSON value (payload, body, header...) with every string inside masked."""
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            changed = False
            for name, item in value.items():
                new_name = self.text(name, "", channel) if isinstance(name, str) else name
                if (self.mask and isinstance(name, str) and name.lower() in SECRET_HEADERS
                        and isinstance(item, str) and captured(item)):
                    new_item: Any = pii.REDACTED
                    self.counts[channel]["secret"] += 1
                else:
                    new_item = self.value(item, channel, name if isinstance(name, str) else "")
                changed |= new_name is not name or new_item is not item
                out[pii.unique_key(out, new_name)] = new_item
            return out if changed else value
        if isinstance(value, list):
            items = [self.value(item, channel, key) for item in value]
            return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        if isinstance(value, str):
            return self._string(value, key, channel)
        if self.mask and isinstance(value, int) and not isinstance(value, bool) \
                and abs(value) >= 1_000_000:
            masked = self._json_leaf(value, key, channel)
            return value if masked == value else masked
        return value

    def _string(self, text: str, key: str, channel: str) -> str:
        inner = pii.embedded_json(text)
        if inner is not None:
            masked = self.value(inner, channel, key)
            return text if masked is inner else orjson.dumps(masked).decode()
        if is_url_like(text):
            return self.url(text, channel)
        if self.pseudonymizer is not None:
            text = self.pseudonymizer.text(text, key)
        if self.mask:
            masked = self._json_leaf(text, key, channel)
            if not isinstance(masked, str):
                return text
            if "?" in masked and "=" in masked:
                masked = self._cached(self._text_cache, (masked, "\0query"), channel,
                                      lambda: _mask_queries(masked, Counter()))
            return masked
        return text

    def _json_leaf(self, value: str | int, key: str, channel: str) -> Any:
        def masked() -> tuple[Any, Counter[str]]:
            out, found = pii.mask_json({key: value})
            return next(iter(out.values())), found

        return self._cached(self._json_cache, (value, key), channel, masked)

    def _cached(self, cache: dict, key: Any, channel: str, compute) -> Any:
        found = cache.get(key)
        if found is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            found = cache[key] = compute()
        out, counts = found
        if counts:
            self.counts[channel].update(counts)
        return out


class EventMasker:
    """Pass 2: masks the data of each kept event, in place; says whether anything changed.

    :meth:`observe` must see every event of the source in order (kept or not), so page
    generations count FullSnapshots exactly as :class:`FieldJudge` did.
    """

    def __init__(self, leaves: Leaves, verdicts: dict[FieldKey, FieldVerdict]) -> None:
        self.leaves = leaves
        self.verdicts = verdicts
        self._generation: Counter[tuple[str, Any]] = Counter()
        #: Sensitive fields whose values were replaced, and values replaced.
        self.fields_masked: set[FieldKey] = set()
        self.values_masked = 0

    def observe(self, session_id: str, window: Any, kind: int) -> None:
        if kind == 2:
            self._generation[(session_id, window)] += 1

    def mask(self, session_id: str, window: Any, kind: int, source: int | None,
             data: Any, *, numbers_only: bool = False) -> bool:
        """``numbers_only``: the event is known to hold no text (:meth:`.Decoded.numbers_only`),
        as most pointer, scroll and click events: nothing to look at."""
        if not isinstance(data, dict) or numbers_only:
            return False
        page = (session_id, window, self._generation[(session_id, window)])
        leaves = self.leaves
        if kind == 4:
            return _set(data, "href", leaves.url(data["href"], "url")) \
                if isinstance(data.get("href"), str) else False
        if kind == 2:
            node = data.get("node")
            return isinstance(node, dict) and self._nodes(node, page)
        if kind == 3:
            if source == 0:
                return self._mutation(data, page)
            if source == 5:
                return self._input(data, page)
            if source in CSS_SOURCES:
                return False
            # Pointer, scroll, click, media... events: any text in them (an extra field a
            # recorder plugin added) is masked like a payload.
            return self._values(data, "console" if source == 11 else "other", skip=("source",))
        if kind == 5:
            return self._values(data, "custom", skip=("tag",))
        if kind == 6:
            plugin = data.get("plugin")
            payload = data.get("payload")
            if plugin == "rrweb/network@1" and isinstance(payload, dict):
                return self._network(payload)
            channel = "console" if plugin == "rrweb/console@1" else "custom"
            return self._values(data, channel, skip=("plugin",))
        if kind == 7:
            return self._values(data, "other")
        return False

    # -- kinds of events --------------------------------------------------------------------
    def _values(self, data: dict, channel: str, skip: tuple[str, ...] = ()) -> bool:
        changed = False
        for name in list(data):
            if name in skip:
                continue
            changed |= _set(data, name, self.leaves.value(data[name], channel, name))
        return changed

    def _network(self, payload: dict) -> bool:
        changed = False
        requests = payload.get("requests")
        for request in requests if isinstance(requests, list) else ():
            if not isinstance(request, dict):
                continue
            for name in list(request):
                value = request[name]
                if name in ("name", "url") and isinstance(value, str):
                    changed |= _set(request, name, self.leaves.url(value, "network"))
                else:
                    changed |= _set(request, name, self.leaves.value(value, "network", name))
        for name in list(payload):
            if name != "requests":
                changed |= _set(payload, name, self.leaves.value(payload[name], "network", name))
        return changed

    def _input(self, data: dict, page: tuple) -> bool:
        text = data.get("text")
        if not isinstance(text, str) or not isinstance(data.get("id"), int):
            return False
        return _set(data, "text", self._field_value((*page, data["id"]), text))

    def _field_value(self, key: FieldKey, text: str) -> str:
        verdict = self.verdicts.get(key)
        if verdict is None or verdict.kind is None:
            return self.leaves.text(text, verdict.label if verdict else "", "input")
        if not captured(text):
            return text
        pseudonymizer = self.leaves.pseudonymizer
        if verdict.kind == "email" and verdict.email and pseudonymizer is not None:
            replaced = pseudonymizer(verdict.email)
        elif self.leaves.mask:
            replaced = verdict.token or pii.REDACTED
            self.leaves.counts["input"][verdict.kind] += 1
        else:
            return self.leaves.text(text, verdict.label, "input")
        if replaced != text:
            self.fields_masked.add(key)
            self.values_masked += 1
        return replaced

    def _mutation(self, data: dict, page: tuple) -> bool:
        changed = False
        for add in _dicts(data.get("adds")):
            if isinstance(add.get("node"), dict):
                changed |= self._nodes(add["node"], page)
        for change in _dicts(data.get("texts")):
            if isinstance(change.get("value"), str):
                changed |= _set(change, "value", self.leaves.text(change["value"], "", "text"))
        for change in _dicts(data.get("attributes")):
            attributes = change.get("attributes")
            if isinstance(attributes, dict):
                changed |= self._attributes(attributes, change.get("id"), page)
        return changed

    def _nodes(self, root: dict, page: tuple) -> bool:
        changed = False
        stack = [root]
        while stack:
            node = stack.pop()
            kind = node.get("type")
            if kind in (3, 4, 5):
                text = node.get("textContent")
                if isinstance(text, str) and not node.get("isStyle"):
                    changed |= _set(node, "textContent", self.leaves.text(text, "", "text"))
            elif kind == 2 and isinstance(node.get("attributes"), dict):
                changed |= self._attributes(node["attributes"], node.get("id"), page)
            children = node.get("childNodes")
            if isinstance(children, list):
                stack.extend(child for child in children if isinstance(child, dict))
        return changed

    def _attributes(self, attributes: dict, node_id: Any, page: tuple) -> bool:
        changed = False
        for name in list(attributes):
            value = attributes[name]
            if not isinstance(value, str) or not value or not isinstance(name, str) \
                    or skipped_attribute(name):
                continue
            lower = name.lower()
            if lower == "value" and isinstance(node_id, int) and (*page, node_id) in self.verdicts:
                new = self._field_value((*page, node_id), value)
            elif lower in URL_ATTRIBUTES:
                new = self.leaves.url(value, "attribute")
            else:
                new = self.leaves.text(value, name, "attribute")
            changed |= _set(attributes, name, new)
        return changed


def _mask_text(text: str, context: str) -> tuple[str, Counter[str]]:
    """:func:`pii.mask_text`, and every URL query string in the text masked as a URL."""
    masked, counts = pii.mask_text(text, context=context)
    if "?" in masked and "=" in masked:
        masked = _mask_queries(masked, counts)[0]
    return masked, counts


def _mask_queries(text: str, counts: Counter[str]) -> tuple[str, Counter[str]]:
    def url(match: re.Match[str]) -> str:
        masked, found = pii.mask_url(match.group())
        counts.update(found)
        return masked

    return QUERY_IN_TEXT.sub(url, text), counts


def _set(container: dict, key: Any, value: Any) -> bool:
    if container[key] is value or container[key] == value:
        return False
    container[key] = value
    return True


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
