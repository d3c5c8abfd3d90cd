"""Keeping a redacted recording playable: nothing kept may refer to a node that is not there.

When events are removed from the middle of a session, what is kept after them can depend on
what they did: a node added while the person was opted out is the parent of a later addition,
the target of a later text change, the field of a later keystroke. rrweb's player stops on
such references (an add whose parent is missing is queued for ever) or applies them to the
wrong page.

Two ways out exist: insert a fresh FullSnapshot of the page as it stood when recording resumed,
or drop what depends on removed events. The page as it stood then was built by the removed
events — a snapshot of it would carry exactly the content the redaction takes out (text typed
and shown while opted out). So this module **drops the dependent operations** and counts them:

- the kept page of each window is followed as the copy is written, by rrweb's rules: a
  FullSnapshot replaces it; a Mutation applies its removes, adds (a node's parent must be there,
  or be added by the same mutation; only the node itself is built, except a document attached
  to an iframe, which is built whole), then texts and attributes;
- a **removed FullSnapshot** leaves no page: everything that touches the page is dropped until
  the next kept FullSnapshot;
- after the session's first removed event, an operation naming a node that is not on the kept
  page is dropped: an add whose parent never appears, a remove, text or attribute change of a
  missing node. A remove whose node is there but under another parent (it was moved while
  opted out) names its kept parent instead; an add whose next sibling is missing is appended
  (``nextId`` null). A Mutation left empty is dropped whole;
- an event naming one node (Input, MouseInteraction, Scroll, MediaInteraction, style and canvas
  changes) or a selection of nodes is dropped when a node it names is missing.

Pointer positions are kept: the node a position names is only looked up to draw a hover, and
a missing one is skipped by the player.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

#: Incremental snapshot sources that change or name nodes of the page: Mutation,
#: MouseInteraction, Scroll, Input, MediaInteraction, StyleSheetRule, CanvasMutation,
#: StyleDeclaration, Selection, AdoptedStyleSheet.
DOM_SOURCES = (0, 2, 3, 5, 7, 8, 9, 13, 14, 15)
_ONE_NODE_SOURCES = frozenset(DOM_SOURCES) - {0, 14}
_DOCUMENT = 0

#: Returned by :meth:`KeptPage.apply` for an event that must go.
DROP = object()


class _Page:
    """The ids of the nodes on one window's kept page, with their parents and children."""

    __slots__ = ("children", "parent")

    def __init__(self) -> None:
        self.parent: dict[int, int | None] = {}
        self.children: dict[int, set[int]] = {}

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.parent

    def add(self, node: dict, parent: int | None, *, whole: bool) -> None:
        stack = [(node, parent)]
        while stack:
            current, above = stack.pop()
            node_id = current.get("id")
            if not isinstance(node_id, int) or isinstance(node_id, bool):
                continue
            self._unlink(node_id)
            self.parent[node_id] = above
            self.children.setdefault(node_id, set())
            if above is not None:
                self.children.setdefault(above, set()).add(node_id)
            if whole:
                stack.extend((child, node_id) for child in _children(current))

    def remove(self, node_id: int) -> None:
        self._unlink(node_id)
        stack = [node_id]
        while stack:
            current = stack.pop()
            self.parent.pop(current, None)
            stack.extend(self.children.pop(current, ()))

    def _unlink(self, node_id: int) -> None:
        above = self.parent.get(node_id)
        if above is not None:
            self.children.get(above, set()).discard(node_id)


class KeptPage:
    """The kept page of every window of one session, fed the kept events in order."""

    def __init__(self) -> None:
        self._pages: dict[Any, _Page] = {}
        #: What was dropped: operations by kind, events by kind, rewritten references.
        self.counts: Counter[str] = Counter()

    def lost(self, window: Any) -> None:
        """A removed FullSnapshot: the window has no kept page until the next one."""
        self._pages[window] = _Page()

    def apply(self, window: Any, kind: int, source: int | None, data: Any, *,
              filtering: bool) -> Any:
        """The event's data as kept (maybe with operations dropped), or :data:`DROP`.

        Before the session's first removed event (``filtering`` False) the page is only
        followed: the recording is kept exactly as it was.
        """
        if kind == 2:
            page = self._pages[window] = _Page()
            node = data.get("node") if isinstance(data, dict) else None
            if isinstance(node, dict):
                page.add(node, None, whole=True)
            return data
        if kind != 3 or not isinstance(data, dict):
            return data
        page = self._pages.get(window)
        if page is None:
            page = self._pages[window] = _Page()
        if source == 0:
            return self._mutation(page, data, filtering)
        if not filtering:
            return data
        if source in _ONE_NODE_SOURCES:
            node_id = data.get("id")
            if isinstance(node_id, int) and node_id not in page:
                self.counts[f"events_{_SOURCE_NAMES.get(source, source)}"] += 1
                return DROP
        elif source == 14:
            ranges = data.get("ranges")
            named = [r.get(k) for r in ranges if isinstance(r, dict) for k in ("start", "end")] \
                if isinstance(ranges, list) else []
            if any(isinstance(n, int) and n not in page for n in named):
                self.counts["events_selection"] += 1
                return DROP
        return data

    def _mutation(self, page: _Page, data: dict, filtering: bool) -> Any:
        removes = _dicts(data.get("removes"))
        adds = _dicts(data.get("adds"))
        texts = _dicts(data.get("texts"))
        attributes = _dicts(data.get("attributes"))
        kept_removes = []
        for op in removes:
            node_id = op.get("id")
            if node_id not in page:
                if filtering:
                    self.counts["operations_removes"] += 1
                    continue
                kept_removes.append(op)
                continue
            parent = op.get("parentId")
            if parent not in page or page.parent.get(node_id) != parent:
                if not filtering:  # rrweb leaves a node whose named parent is gone
                    kept_removes.append(op)
                    continue
                actual = page.parent.get(node_id)
                if actual is None:
                    self.counts["operations_removes"] += 1
                    continue
                op = {**op, "parentId": actual}
                self.counts["references_parent_rewritten"] += 1
            page.remove(node_id)
            kept_removes.append(op)
        kept_adds = self._adds(page, adds, filtering)
        kept_texts = [op for op in texts if op.get("id") in page or not filtering]
        kept_attributes = [op for op in attributes if op.get("id") in page or not filtering]
        self.counts["operations_texts"] += len(texts) - len(kept_texts)
        self.counts["operations_attributes"] += len(attributes) - len(kept_attributes)
        if not filtering:
            return data
        before = len(removes) + len(adds) + len(texts) + len(attributes)
        after = len(kept_removes) + len(kept_adds) + len(kept_texts) + len(kept_attributes)
        if before and not after:
            self.counts["events_mutation"] += 1
            return DROP
        if after == before and all(
                a is b for a, b in zip(kept_removes + kept_adds, removes + adds, strict=True)):
            return data
        return {**data, "removes": kept_removes, "adds": kept_adds, "texts": kept_texts,
                "attributes": kept_attributes}

    def _adds(self, page: _Page, adds: list[dict], filtering: bool) -> list[dict]:
        # rrweb places an add once its parent is there, whatever the order in the list.
        pending = list(enumerate(adds))
        placed: dict[int, dict] = {}
        progress = True
        while pending and progress:
            progress = False
            waiting = []
            for index, op in pending:
                node = op.get("node")
                if op.get("parentId") in page and isinstance(node, dict):
                    page.add(node, op["parentId"], whole=node.get("type") == _DOCUMENT)
                    placed[index] = op
                    progress = True
                else:
                    waiting.append((index, op))
            pending = waiting
        if not filtering:
            return adds
        self.counts["operations_adds"] += len(pending)
        kept = []
        for index in sorted(placed):
            op = placed[index]
            next_id = op.get("nextId")
            if next_id is not None and next_id != -1 and next_id not in page:
                op = {**op, "nextId": None}
                self.counts["references_next_rewritten"] += 1
            kept.append(op)
        return kept


_SOURCE_NAMES = {2: "mouse_interaction", 3: "scroll", 5: "input", 7: "media_interaction",
                 8: "style_sheet_rule", 9: "canvas_mutation", 13: "style_declaration",
                 15: "adopted_style_sheet"}


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _children(node: dict) -> list[dict]:
    children = node.get("childNodes")
    return [c for c in children if isinstance(c, dict)] if isinstance(children, list) else []
