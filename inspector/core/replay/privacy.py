"""What a rebuilt page may show of what a person typed, and of personal data in it.

Two levels, used by every output of the replay (HTML, text, node views):

- always: an input's value is masked when its field is sensitive by its attributes (a password,
  card, national id, e-mail or phone field, or a hidden one) or when the value holds personal
  data that :func:`inspector.core.pii.find_pii` recognises;
- ``mask_pii``: every typed value (an Input event's text, the ``value`` attribute of an input,
  the text of a textarea) is replaced whatever it holds; text nodes, attribute values and URLs
  have their personal data replaced by tokens naming its kind (``[EMAIL]``, ``[CARD]``...), the
  query values of URLs found in them by ``[REDACTED]`` (:func:`inspector.core.pii.mask_url`),
  and every echo of a typed value — a search term shown in results, a form value shown back in a
  table of events — by ``[REDACTED]`` too.

Echoes are found as whole tokens (not inside a longer word), ignoring case. Typed values shorter
than :data:`MIN_ECHO` characters are replaced in their inputs but not searched for elsewhere:
every page contains a "9" or a "te".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..pii import REDACTED, TOKENS, find_pii, mask_text, mask_url, sensitive_field

INPUT_TAGS = frozenset({"input", "textarea", "select"})
# Attributes whose value is a URL (masked as a URL rather than as text).
URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "action", "formaction", "poster", "data",
                            "background", "cite", "longdesc", "ping", "xlink:href", "codebase",
                            "manifest", "lowsrc", "dynsrc", "usemap", "archive", "classid"})
# Attributes holding CSS, geometry or identifiers: nothing a person reads, and full of digits.
_NOT_TEXT_ATTRIBUTES = frozenset({"style", "_csstext", "class", "id", "type", "rel", "d",
                                  "viewbox", "transform", "points", "width", "height"})
MIN_ECHO = 3
# A URL (or a bare host/path) with a query string, written in text: "example.com/a?user=x".
_URL_IN_TEXT = re.compile(r"[^\s\"'<>()]*\?[^\s\"'<>()]*=[^\s\"'<>()]*")


class TypedValues:
    """The values typed in a session, and a matcher for their echoes (built on first use)."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        value = value.strip()
        if len(value) >= MIN_ECHO:
            self._values.add(value.lower())
            self._pattern = None

    def __len__(self) -> int:
        return len(self._values)

    def scrub(self, text: str) -> str:
        if not self._values:
            return text
        if self._pattern is None:
            self._pattern = re.compile(r"(?<![\w-])" + _trie(self._values) + r"(?![\w-])",
                                       re.IGNORECASE)
        return self._pattern.sub(REDACTED, text)


def _trie(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words``, longest first, shaped as a trie so a
    thousand typed values cost about what one does."""
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in node.items() if char]
        end = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not end else \
            "(?:" + "|".join(sorted(branches, key=len, reverse=True)) + ")"
        return f"(?:{body})?" if end else body

    return build(root)


class Masker:
    """Applies the rules above; ``mask_pii`` selects the second level."""

    def __init__(self, mask_pii: bool = False, typed: TypedValues | None = None) -> None:
        self.mask_pii = mask_pii
        self.typed = typed or TypedValues()

    def value(self, attributes: Mapping[str, object], value: str) -> str:
        """An input's current value as it may be shown."""
        if not value:
            return value
        kind = sensitive_field(attributes)
        if kind:
            return TOKENS.get(kind, REDACTED)
        if self.mask_pii:
            return REDACTED
        if find_pii(value):
            return mask_text(value)[0]
        return value

    def text(self, text: str) -> str:
        if not self.mask_pii or not text.strip():
            return text
        if "?" in text:
            text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0))[0], text)
        return self.typed.scrub(mask_text(text)[0])

    def url(self, url: str) -> str:
        return self.typed.scrub(mask_url(url)[0]) if self.mask_pii and url else url

    def attribute(self, name: str, value: str) -> str:
        if not self.mask_pii or not value:
            return value
        if name in URL_ATTRIBUTES:
            return self.url(value)
        if name in _NOT_TEXT_ATTRIBUTES:
            return value
        return self.text(value)
