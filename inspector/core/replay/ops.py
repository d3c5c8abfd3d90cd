"""rrweb event data turned, once, into the compact operations the DOM store applies.

Only what changes the page is kept: FullSnapshot (as a ready-made node dict), Mutation (removes,
adds, texts, attributes as tuples), Input (value and checked state), Meta (URL and viewport) and
ViewportResize. Mouse, scroll and the rest do not change what the page holds and are never read.
Malformed pieces are skipped and counted, so a damaged recording still replays.

Each operation also carries its *work*: about how many node changes applying it costs, which is
how checkpoints are spaced (:mod:`.checkpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .dom import (
    CDATA,
    COMMENT,
    DOCTYPE,
    DOCUMENT,
    ELEMENT,
    SHADOW,
    SHADOW_HOST,
    STYLE_TEXT,
    SVG,
    TEXT,
    Node,
)

# Operation codes (first item of every operation tuple).
SNAPSHOT, MUTATION, INPUT, META, VIEWPORT = range(5)

# rrweb event types and incremental sources that change the page.
FULL_SNAPSHOT_TYPE, INCREMENTAL_TYPE, META_TYPE = 2, 3, 4
MUTATION_SOURCE, VIEWPORT_SOURCE, INPUT_SOURCE = 0, 4, 5
PAGE_SOURCES = (MUTATION_SOURCE, VIEWPORT_SOURCE, INPUT_SOURCE)

MALFORMED = "malformed_event"
MALFORMED_NODE = "malformed_node"
SNAPSHOT_DUPLICATE_ID = "snapshot_duplicate_id"


def changes_page(event_type: int, source: int | None) -> bool:
    """Whether an event of this type/source can change the rebuilt page."""
    return event_type in (FULL_SNAPSHOT_TYPE, META_TYPE) or (
        event_type == INCREMENTAL_TYPE and source in PAGE_SOURCES)


@dataclass
class Compiled:
    """One event as an operation; ``op`` is None when nothing usable was in it."""

    op: tuple | None
    work: int
    problems: list[str] = field(default_factory=list)


def compile_event(event_type: int, data: Any) -> Compiled:
    problems: list[str] = []
    if not isinstance(data, dict):
        return Compiled(None, 1, [MALFORMED])
    if event_type == FULL_SNAPSHOT_TYPE:
        root = data.get("node")
        tree, root_id = build_tree(root, None, problems)
        if root_id is None:
            return Compiled(None, 1, [*problems, MALFORMED])
        return Compiled((SNAPSHOT, tree, root_id), len(tree) + 1, problems)
    if event_type == META_TYPE:
        href = data.get("href")
        return Compiled((META, href if isinstance(href, str) else None, _int(data.get("width")),
                         _int(data.get("height"))), 1)
    source = data.get("source")
    if source == MUTATION_SOURCE:
        return _compile_mutation(data)
    if source == INPUT_SOURCE:
        node_id = _id(data.get("id"))
        if node_id is None:
            return Compiled(None, 1, [MALFORMED])
        text = data.get("text")
        return Compiled((INPUT, node_id, text if isinstance(text, str) else "",
                         data.get("isChecked") is True), 1)
    if source == VIEWPORT_SOURCE:
        return Compiled((VIEWPORT, _int(data.get("width")), _int(data.get("height"))), 1)
    return Compiled(None, 0)


def _compile_mutation(data: dict) -> Compiled:
    # The hot path of loading: plain loops with ``type(x) is int`` checks (which also refuse
    # booleans) rather than helper calls per item.
    problems: list[str] = []
    removes = []
    for item in _list(data.get("removes")):
        if type(item) is dict:
            parent_id, node_id = item.get("parentId"), item.get("id")
            if type(parent_id) is int and type(node_id) is int:
                removes.append((parent_id, node_id))
                continue
        problems.append(MALFORMED)
    adds = []
    for item in _list(data.get("adds")):
        add = _compile_add(item, problems)
        if add is not None:
            adds.append(add)
    texts = []
    for item in _list(data.get("texts")):
        if type(item) is dict:
            node_id, value = item.get("id"), item.get("value")
            if type(node_id) is int:
                texts.append((node_id, value if type(value) is str else ""))
                continue
        problems.append(MALFORMED)
    attributes = []
    for item in _list(data.get("attributes")):
        if type(item) is dict:
            node_id, changes = item.get("id"), item.get("attributes")
            if type(node_id) is int and type(changes) is dict:
                attributes.append((node_id, changes))
                continue
        problems.append(MALFORMED)
    work = 1 + len(removes) + len(adds) + len(texts) + len(attributes)
    return Compiled((MUTATION, tuple(removes), tuple(adds), tuple(texts), tuple(attributes)),
                    work, problems)


def _compile_add(item: Any, problems: list[str]) -> tuple | None:
    if type(item) is not dict:
        problems.append(MALFORMED)
        return None
    parent_id = item.get("parentId")
    serialized = item.get("node")
    spec = _node_spec(serialized)
    if type(parent_id) is not int or spec is None:
        problems.append(MALFORMED_NODE)
        return None
    node_id, kind, name, value, flags = spec
    subtree = None
    if kind == DOCUMENT:
        # A document attached to an iframe arrives whole; rrweb builds all of it.
        descendants: dict[int, Node] = {}
        children = _build_children(serialized, node_id, descendants, problems)
        subtree = (descendants, children)
    next_id = item.get("nextId")
    previous_id = item.get("previousId")
    return (parent_id, next_id if type(next_id) is int else None,
            previous_id if type(previous_id) is int else None,
            (node_id, kind, name, value, flags, subtree))


def typed_values(op: tuple) -> list[str]:
    """What a person typed that this operation carries: an Input event's text, the ``value``
    attribute of inputs and textareas it builds."""
    code = op[0]
    if code == INPUT:
        return [op[2]] if op[2] else []
    if code == SNAPSHOT:
        nodes = op[1].values()
    elif code == MUTATION and op[2]:
        nodes = [add[3][1:] for add in op[2]]
        nodes += [node for add in op[2] if add[3][5] is not None for node in add[3][5][0].values()]
    else:
        return []
    found = []
    for node in nodes:
        if node[0] == ELEMENT and node[1].lower() in ("input", "textarea"):
            value = node[2].get("value")
            if isinstance(value, str) and value:
                found.append(value)
    return found


# -- serialized nodes ---------------------------------------------------------------------------

def _node_spec(serialized: Any) -> tuple | None:
    """(id, kind, name, value, flags) of an rrweb serialized node, or None if unusable."""
    if type(serialized) is not dict:
        return None
    node_id = serialized.get("id")
    kind = serialized.get("type")
    if type(node_id) is not int or type(kind) is not int:
        return None
    flags = SHADOW if serialized.get("isShadow") else 0
    if kind == ELEMENT:
        tag = serialized.get("tagName")
        if type(tag) is not str or not tag:
            return None
        attrs = serialized.get("attributes")
        if serialized.get("isSVG"):
            flags |= SVG
        if serialized.get("isShadowHost"):
            flags |= SHADOW_HOST
        return node_id, ELEMENT, tag, attrs if type(attrs) is dict else {}, flags
    if kind in (TEXT, COMMENT, CDATA):
        text = serialized.get("textContent")
        if kind == TEXT and serialized.get("isStyle"):
            flags |= STYLE_TEXT
        return node_id, kind, "", text if type(text) is str else "", flags
    if kind == DOCTYPE:
        name = serialized.get("name")
        return (node_id, DOCTYPE, name if isinstance(name, str) else "html",
                (_str(serialized.get("publicId")), _str(serialized.get("systemId"))), flags)
    if kind == DOCUMENT:
        return node_id, DOCUMENT, "", None, flags
    return None


def build_tree(serialized: Any, parent_id: int | None, problems: list[str]
               ) -> tuple[dict[int, Node], int | None]:
    """A FullSnapshot's node (with all its children) as a node dict, and the root's id."""
    spec = _node_spec(serialized)
    if spec is None:
        problems.append(MALFORMED_NODE)
        return {}, None
    node_id, kind, name, value, flags = spec
    nodes: dict[int, Node] = {}
    children = _build_children(serialized, node_id, nodes, problems)
    if node_id in nodes:
        problems.append(SNAPSHOT_DUPLICATE_ID)
    nodes[node_id] = (kind, name, value, parent_id, children, flags)
    return nodes, node_id


def _build_children(serialized: dict, node_id: int, nodes: dict[int, Node],
                    problems: list[str]) -> tuple:
    """Add the descendants of ``serialized`` to ``nodes``; return its children's ids.

    Iterative, so a very deep page cannot exhaust the interpreter's stack.
    """
    top: list[int] = []
    stack = [(serialized, node_id, top)]
    pending: list[tuple[int, list[int]]] = []
    while stack:
        parent_serialized, parent_id, out = stack.pop()
        for child in _list(parent_serialized.get("childNodes")):
            spec = _node_spec(child)
            if spec is None:
                problems.append(MALFORMED_NODE)
                continue
            child_id, kind, name, value, flags = spec
            if child_id in nodes or child_id == node_id:
                problems.append(SNAPSHOT_DUPLICATE_ID)
            kids: list[int] = []
            nodes[child_id] = (kind, name, value, parent_id, (), flags)
            pending.append((child_id, kids))
            out.append(child_id)
            stack.append((child, child_id, kids))
    for child_id, kids in pending:
        if kids:
            node = nodes[child_id]
            nodes[child_id] = (node[0], node[1], node[2], node[3], tuple(kids), node[5])
    return tuple(top)


# -- small readers ----------------------------------------------------------------------------

def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e9:
        return round(value)
    return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list:
    return value if type(value) is list else []
