"""The page at one instant, as callers see it: counts, URL, viewport, and read-only node views.

A :class:`PageState` never changes once handed out (the engine works on copies), so the app can
keep one for drawing while the next seek runs. Node access is by rrweb id, the ids mouse and
scroll events name, so a wireframe can place a pointer on the node it is over.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from . import dom
from .dom import CHILDREN, ELEMENT, FLAGS, KIND, NAME, PARENT, SHADOW, TEXT, VALUE, State
from .privacy import INPUT_TAGS, Masker, TypedValues

KIND_NAMES = {dom.DOCUMENT: "document", dom.DOCTYPE: "doctype", dom.ELEMENT: "element",
              dom.TEXT: "text", dom.CDATA: "cdata", dom.COMMENT: "comment"}
_EMPTY: Mapping[str, object] = MappingProxyType({})


class NodeView(NamedTuple):
    """One node. ``attributes`` is read-only; ``value``/``checked`` only for inputs.

    A named tuple, not a frozen dataclass: a wireframe asks for every node of the page on
    every seek, and a tuple is made several times faster.
    """

    id: int
    kind: str  # document | doctype | element | text | cdata | comment
    tag: str  # element tag as recorded ("div", "svg", "clipPath"); "" for other kinds
    attributes: Mapping[str, object]
    text: str | None  # text, comment and CDATA nodes
    parent: int | None
    children: tuple[int, ...]
    in_shadow_root: bool
    is_input: bool  # input, textarea, select
    value: str | None  # an input's current value, masked by the rules in .privacy
    checked: bool | None


class PageState:
    """The page after every event up to one instant. Immutable."""

    def __init__(self, state: State, *, position: int, at: int | None, seq: int | None,
                 problems: dict[str, int], typed: TypedValues | None = None) -> None:
        self._state = state
        self._typed = typed
        #: Index of the last page-changing event applied (-1: none yet).
        self.position = position
        #: The instant asked for (epoch ms), or None for a seek by event position.
        self.at = at
        self.seq = seq
        self.url: str | None = state.url
        self.viewport: tuple[int, int] | None = (
            (state.width, state.height) if state.width is not None and state.height is not None
            else None)
        #: Live nodes of every type, the document included.
        self.nodes = len(state.nodes)
        #: Problems met in the events applied so far: kind -> count.
        self.problems = problems
        #: The document's node id (None before any FullSnapshot).
        self.root: int | None = state.root

    # -- nodes -------------------------------------------------------------------------------
    def __contains__(self, node_id: int) -> bool:
        return node_id in self._state.nodes

    def node(self, node_id: int, *, mask_pii: bool = False) -> NodeView | None:
        raw = self._state.nodes.get(node_id)
        if raw is None:
            return None
        kind = raw[KIND]
        attributes = MappingProxyType(raw[VALUE]) if kind == ELEMENT else _EMPTY
        is_input = kind == ELEMENT and raw[NAME].lower() in INPUT_TAGS
        value = checked = None
        if is_input:
            value, checked = self._input(node_id, raw, self.masker(mask_pii))
        return NodeView(node_id, KIND_NAMES[kind], raw[NAME] if kind == ELEMENT else "",
                        attributes, raw[VALUE] if isinstance(raw[VALUE], str) else None,
                        raw[PARENT], raw[CHILDREN], bool(raw[FLAGS] & SHADOW), is_input, value,
                        checked)

    def children(self, node_id: int) -> tuple[int, ...]:
        raw = self._state.nodes.get(node_id)
        return raw[CHILDREN] if raw is not None else ()

    def walk(self, node_id: int | None = None) -> Iterator[int]:
        """Ids in document order (depth first) from ``node_id`` (default: the document)."""
        start = self.root if node_id is None else node_id
        nodes = self._state.nodes
        if start is None or start not in nodes:
            return
        stack = [start]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(nodes[current][CHILDREN]))

    def inputs(self, *, mask_pii: bool = False) -> dict[int, tuple[str, bool]]:
        """Every input, textarea and select in the document: id -> (value, checked)."""
        masker = self.masker(mask_pii)
        nodes = self._state.nodes
        found = {}
        for node_id in self.walk():
            raw = nodes[node_id]
            if raw[KIND] == ELEMENT and raw[NAME].lower() in INPUT_TAGS:
                found[node_id] = self._input(node_id, raw, masker)
        return found

    def _input(self, node_id: int, raw: tuple, masker: Masker) -> tuple[str, bool]:
        value, checked = input_state(self._state, node_id, raw)
        return masker.value(raw[VALUE], value), checked

    def masker(self, mask_pii: bool = False) -> Masker:
        """The masking rules for this page (``mask_pii`` also hides echoes of typed values)."""
        return Masker(mask_pii, self._typed)

    # -- renderings ----------------------------------------------------------------------------
    def text(self, *, mask_pii: bool = False) -> str:
        """The visible text, one block per line."""
        from .serialize import visible_text

        return visible_text(self._state, self.masker(mask_pii))

    def html(self, *, mask_pii: bool = False) -> str:
        """The rebuilt document: no scripts, no event handlers, nothing fetched when opened."""
        from .serialize import to_html

        return to_html(self._state, self.masker(mask_pii))


def input_state(state: State, node_id: int, raw: tuple) -> tuple[str, bool]:
    """An input's current (value, checked), unmasked: from Input events, else as recorded."""
    recorded = state.values.get(node_id)
    if recorded is not None:
        return recorded
    attrs = raw[VALUE]
    value = attrs.get("value")
    if raw[NAME].lower() == "textarea" and not isinstance(value, str):
        value = "".join(state.nodes[c][VALUE] for c in raw[CHILDREN]
                        if state.nodes[c][KIND] == TEXT)
    checked = attrs.get("checked")
    return (value if isinstance(value, str) else "",
            checked is True or (isinstance(checked, str) and checked.lower() != "false"))
