"""The rebuilt page: a node store and rrweb's rules for changing it.

Every node is a plain tuple that is never changed in place: a change puts a new tuple under the
node's id. A page is therefore one dict (id -> node) plus a few small ones, and a copy of it — a
checkpoint, or the state handed to a caller — is a shallow ``dict.copy()`` that shares every
node with the original. That is what makes seeking cheap (see :mod:`.checkpoints`).

The rules follow rrweb's Replayer (``applyMutation``, ``applyInput``): a FullSnapshot replaces
the document; a Mutation applies its removes, then its adds (an add whose parent or next sibling
is not there yet waits until the others are in, and is dropped if it never fits), then texts,
then attributes. Anything that names a node that does not exist is counted as a problem through
the ``report`` callback, which the first pass over a session passes and seeks do not.
"""

from __future__ import annotations

from collections.abc import Callable

# Node kinds: rrweb's serialized node types.
DOCUMENT, DOCTYPE, ELEMENT, TEXT, CDATA, COMMENT = range(6)

# Positions in a node tuple.
KIND, NAME, VALUE, PARENT, CHILDREN, FLAGS = range(6)
# NAME: the tag of an element, the name of a doctype, "" otherwise.
# VALUE: the attribute dict of an element (never mutated: replaced), the text of a text,
#   comment or CDATA node, (publicId, systemId) of a doctype, None for a document.
# PARENT: the parent's id, or None for a document (or a node waiting to be placed, see
#   State.pending). CHILDREN: a tuple of ids, shadow-root children included (flagged).

# FLAGS bits.
SVG, STYLE_TEXT, SHADOW, SHADOW_HOST = 1, 2, 4, 8

Node = tuple  # (kind, name, value, parent, children, flags)
Report = Callable[[str], None] | None

# Problem kinds counted while applying events (see docs/replay-engine.md).
ADD_MISSING_PARENT = "add_missing_parent"
ADD_MISSING_NEXT = "add_missing_next"
REMOVE_MISSING_NODE = "remove_missing_node"
REMOVE_MISSING_PARENT = "remove_missing_parent"
REMOVE_WRONG_PARENT = "remove_wrong_parent"
TEXT_MISSING_NODE = "text_missing_node"
ATTRIBUTE_MISSING_NODE = "attribute_missing_node"
ATTRIBUTE_NOT_ELEMENT = "attribute_on_non_element"
INPUT_MISSING_NODE = "input_missing_node"
BEFORE_FULL_SNAPSHOT = "event_before_full_snapshot"


class State:
    """Everything that makes up the page at one moment. Copies share all nodes."""

    __slots__ = ("height", "nodes", "pending", "root", "url", "values", "width")

    def __init__(self, nodes: dict[int, Node] | None = None, values: dict | None = None,
                 pending: dict | None = None, root: int | None = None, url: str | None = None,
                 width: int | None = None, height: int | None = None) -> None:
        self.nodes: dict[int, Node] = {} if nodes is None else nodes
        #: Input values set by Input events: id -> (text, checked).
        self.values: dict[int, tuple[str, bool]] = {} if values is None else values
        #: Legacy rrweb adds (``nextId``/``previousId`` of -1) built but not yet placed:
        #: id -> (previousId, nextId). Almost always empty.
        self.pending: dict[int, tuple[int | None, int | None]] = {} if pending is None \
            else pending
        self.root = root
        self.url = url
        self.width = width
        self.height = height

    def copy(self) -> State:
        return State(self.nodes.copy(), self.values.copy(),
                     self.pending.copy() if self.pending else None, self.root, self.url,
                     self.width, self.height)


# -- the parts every change uses -------------------------------------------------------------

def drop_subtree(state: State, node_id: int, dropped: set[int] | None = None) -> None:
    """Forget a node and everything under it (it must already be unlinked from its parent).

    The ids forgotten are added to ``dropped`` when given.
    """
    nodes, values, pending = state.nodes, state.values, state.pending
    stack = [node_id]
    while stack:
        current = stack.pop()
        node = nodes.pop(current, None)
        if node is None:
            continue
        if dropped is not None:
            dropped.add(current)
        if values:
            values.pop(current, None)
        if pending:
            pending.pop(current, None)
        stack.extend(node[CHILDREN])


def unlink(nodes: dict[int, Node], node_id: int, parent_id: int | None) -> bool:
    """Take ``node_id`` out of its parent's children; False if it was not there."""
    parent = nodes.get(parent_id) if parent_id is not None else None
    if parent is None:
        return False
    kids = parent[CHILDREN]
    if node_id not in kids:
        return False
    i = kids.index(node_id)
    nodes[parent_id] = (parent[0], parent[1], parent[2], parent[3], kids[:i] + kids[i + 1:],
                        parent[5])
    return True


def remove_node(state: State, node_id: int) -> None:
    """Unlink a node from wherever it is and forget its subtree."""
    node = state.nodes.get(node_id)
    if node is None:
        return
    unlink(state.nodes, node_id, node[PARENT])
    drop_subtree(state, node_id)


def _insert(nodes: dict[int, Node], parent_id: int, node_id: int, before: int | None) -> None:
    parent = nodes[parent_id]
    kids = parent[CHILDREN]
    if before is not None and before in kids:
        i = kids.index(before)
        kids = (*kids[:i], node_id, *kids[i:])
    else:
        kids = (*kids, node_id)
    nodes[parent_id] = (parent[0], parent[1], parent[2], parent[3], kids, parent[5])


# -- FullSnapshot ----------------------------------------------------------------------------

def apply_snapshot(state: State, tree: dict[int, Node], root: int | None) -> None:
    """Replace the whole document (``tree`` is shared, never changed: see :class:`State`)."""
    state.nodes = tree.copy()
    state.values = {}
    state.pending = {}
    state.root = root


# -- Mutation --------------------------------------------------------------------------------

# An add, as compiled by .ops: (parent_id, next_id, previous_id, spec) with
# spec = (id, kind, name, value, flags, subtree). ``subtree`` is None except for a document
# attached to an iframe, which rrweb builds whole: then (descendants dict, root's children).
Add = tuple


def apply_mutation(state: State, removes: tuple, adds: tuple, texts: tuple, attributes: tuple,
                   report: Report) -> None:
    nodes = state.nodes
    if state.root is None and report is not None:
        report(BEFORE_FULL_SNAPSHOT)
    removed_ids = None
    if removes:
        removed_ids = _apply_removes(state, removes, report)
    if adds:
        _apply_adds(state, adds, removed_ids, report)
    for node_id, value in texts:
        node = nodes.get(node_id)
        if node is None:
            if report is not None and not (removed_ids and node_id in removed_ids):
                report(TEXT_MISSING_NODE)
            continue
        kind = node[0]
        if kind in (TEXT, COMMENT, CDATA):
            nodes[node_id] = (kind, node[1], value, node[3], node[4], node[5])
        elif kind == ELEMENT:
            _set_text_content(state, node_id, value)
        # Setting textContent of a document or doctype does nothing in a browser.
    for node_id, changes in attributes:
        node = nodes.get(node_id)
        if node is None:
            if report is not None and not (removed_ids and node_id in removed_ids):
                report(ATTRIBUTE_MISSING_NODE)
            continue
        if node[0] != ELEMENT:
            if report is not None:
                report(ATTRIBUTE_NOT_ELEMENT)
            continue
        attrs = dict(node[2])
        for name, value in changes.items():
            if value is None:
                attrs.pop(name, None)
            elif isinstance(value, str):
                attrs[name] = value
            elif name == "style" and isinstance(value, dict):
                attrs["style"] = merge_style(attrs.get("style"), value)
            # rrweb ignores other value types in attribute mutations; so do we.
        nodes[node_id] = (ELEMENT, node[1], attrs, node[3], node[4], node[5])


def _apply_removes(state: State, removes: tuple, report: Report) -> set[int]:
    """Apply the removes; return every id they named or took away with a subtree."""
    nodes = state.nodes
    gone = {node_id for _, node_id in removes}
    # Like rrweb: a target missing before any removal is a problem; one that disappears because
    # an earlier removal in the same mutation took its ancestor is not. Texts, attributes and
    # adds naming a node this mutation removed are not problems either.
    live = []
    for parent_id, node_id in removes:
        if node_id in nodes:
            live.append((parent_id, node_id))
        elif report is not None:
            report(REMOVE_MISSING_NODE)
    for parent_id, node_id in live:
        node = nodes.get(node_id)
        if node is None:
            continue
        if parent_id not in nodes:
            if report is not None:
                report(REMOVE_MISSING_PARENT)
            continue
        if node[PARENT] != parent_id and report is not None:
            report(REMOVE_WRONG_PARENT)
        unlink(nodes, node_id, node[PARENT])
        drop_subtree(state, node_id, gone)
    return gone


def _apply_adds(state: State, adds: tuple, removed_ids: set[int] | None,
                report: Report) -> None:
    waiting = [add for add in adds if not _try_add(state, add)]
    # Adds whose parent or next sibling arrives later in the same mutation: retry until no
    # more fit (rrweb's resolve queue); the rest are dropped, as rrweb drops them.
    while waiting:
        still = [add for add in waiting if not _try_add(state, add)]
        if len(still) == len(waiting):
            break
        waiting = still
    if report is not None:
        for add in waiting:
            if add[0] not in state.nodes:
                # A parent this mutation removed is the recorder's artifact, not damage: rrweb
                # drops such adds silently too.
                if not (removed_ids and add[0] in removed_ids):
                    report(ADD_MISSING_PARENT)
            else:
                report(ADD_MISSING_NEXT)


def _try_add(state: State, add: Add) -> bool:
    nodes = state.nodes
    parent_id, next_id, previous_id, spec = add
    parent = nodes.get(parent_id)
    if parent is None:
        return False
    if next_id is not None and next_id != -1 and next_id not in nodes:
        return False
    node_id, kind, name, value, flags, subtree = spec
    if node_id in nodes:
        # The same id again (rrweb overwrites its mirror entry): the new node replaces the old.
        remove_node(state, node_id)
        parent = nodes.get(parent_id)
        if parent is None:
            return False
    if subtree is not None:
        # A document attached to an iframe replaces the iframe's previous document.
        for child in parent[CHILDREN]:
            remove_node(state, child)
    elif parent[0] == ELEMENT and parent[1] == "textarea" and kind == TEXT:
        # rrweb keeps a single text child in a textarea: it is the value.
        for child in parent[CHILDREN]:
            if nodes.get(child, (None,))[0] == TEXT:
                remove_node(state, child)
    elif parent[0] == DOCUMENT and (kind == DOCTYPE or (kind == ELEMENT and name == "html")):
        # A document has one doctype and one root element: a new one replaces the old.
        for child in parent[CHILDREN]:
            old = nodes.get(child)
            if old is not None and old[0] == kind and (kind == DOCTYPE or old[1] == "html"):
                remove_node(state, child)
    children: tuple = ()
    if subtree is not None:
        descendants, children = subtree
        nodes.update(descendants)
    nodes[node_id] = (kind, name, value, parent_id, children, flags)
    if previous_id == -1 or next_id == -1:
        # Legacy rrweb data: the node is known but placed once a sibling names it.
        state.pending[node_id] = (previous_id, next_id)
        return True
    before = None
    if previous_id is not None and previous_id in nodes:
        kids = nodes[parent_id][CHILDREN]
        if previous_id in kids:
            i = kids.index(previous_id)
            before = kids[i + 1] if i + 1 < len(kids) else None
        elif next_id is not None:
            before = next_id
    elif next_id is not None:
        before = next_id
    _insert(nodes, parent_id, node_id, before)
    if state.pending and (previous_id is not None or next_id is not None):
        _place_pending(state, parent_id, node_id, previous_id, next_id)
    return True


def _place_pending(state: State, parent_id: int, node_id: int, previous_id: int | None,
                   next_id: int | None) -> None:
    """rrweb's legacy_resolveMissingNode: place waiting siblings next to a node just added."""
    nodes, pending = state.nodes, state.pending
    work = [(node_id, previous_id, next_id)]
    while work:
        anchor, prev_id, nxt_id = work.pop()
        if prev_id is not None and prev_id in pending:
            waiting_prev, waiting_next = pending.pop(prev_id)
            _move(nodes, prev_id, parent_id, anchor)
            work.append((prev_id, waiting_prev, waiting_next))
        if nxt_id is not None and nxt_id in pending:
            waiting_prev, waiting_next = pending.pop(nxt_id)
            kids = nodes[parent_id][CHILDREN]
            i = kids.index(anchor)
            _move(nodes, nxt_id, parent_id, kids[i + 1] if i + 1 < len(kids) else None)
            work.append((nxt_id, waiting_prev, waiting_next))


def _move(nodes: dict[int, Node], node_id: int, parent_id: int, before: int | None) -> None:
    node = nodes[node_id]
    unlink(nodes, node_id, node[PARENT])
    nodes[node_id] = (node[0], node[1], node[2], parent_id, node[4], node[5])
    _insert(nodes, parent_id, node_id, before)


def _set_text_content(state: State, node_id: int, value: str) -> None:
    """``element.textContent = value``: the children become one text node."""
    nodes = state.nodes
    node = nodes[node_id]
    for child in node[CHILDREN]:
        drop_subtree(state, child)
    children: tuple = ()
    if value:
        # The new text node has no rrweb id; minus its element's id is unique and stable.
        children = (-node_id,)
        nodes[-node_id] = (TEXT, "", value, node_id, (), 0)
    nodes[node_id] = (node[0], node[1], node[2], node[3], children, node[5])


def merge_style(current: object, changes: dict) -> str:
    """Apply rrweb's style-object attribute change ({prop: value | [value, priority] | false})."""
    declarations: dict[str, str] = {}
    if isinstance(current, str):
        for part in current.split(";"):
            prop, colon, value = part.partition(":")
            if colon and prop.strip():
                declarations[prop.strip()] = value.strip()
    for prop, value in changes.items():
        if value is False or value is None:
            declarations.pop(prop, None)
        elif isinstance(value, list) and value:
            priority = f" !{value[1]}" if len(value) > 1 and value[1] else ""
            declarations[prop] = f"{value[0]}{priority}"
        else:
            declarations[prop] = str(value)
    return " ".join(f"{prop}: {value};" for prop, value in declarations.items())


# -- Input, Meta, ViewportResize ---------------------------------------------------------------

def apply_input(state: State, node_id: int, text: str, checked: bool, report: Report) -> None:
    if state.root is None and report is not None:
        report(BEFORE_FULL_SNAPSHOT)
    if node_id not in state.nodes:
        if report is not None:
            report(INPUT_MISSING_NODE)
        return
    state.values[node_id] = (text, checked)
