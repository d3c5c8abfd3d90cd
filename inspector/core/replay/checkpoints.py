"""Saved page states to seek from: spaced by DOM work, bounded in memory.

A seek restores the last checkpoint at or before the target (a shallow copy of one dict, see
:mod:`.dom`) and applies the operations after it, so its cost is one copy plus at most one
*spacing* of work. Spacing is counted in node changes, not events: an hour of mouse moves costs
nothing, a burst of mutations gets checkpoints close together.

Memory is bounded by a budget of *node entries*: the sum, over the kept checkpoints, of the
nodes each one holds. When the budget is exceeded every other checkpoint is dropped and the
spacing doubles, so the total never exceeds the budget by more than one checkpoint, whatever the
recording. The state right after each FullSnapshot is pinned (never dropped): it is the
snapshot's own node dict, which the session holds anyway.
"""

from __future__ import annotations

import sys
from bisect import bisect_right

from .dom import State

#: Node entries all unpinned checkpoints may hold together (~120 bytes each, see
#: :meth:`Checkpoints.memory_bytes`).
DEFAULT_NODE_BUDGET = 300_000
#: The smallest spacing, in node changes; it doubles each time the budget is hit.
MIN_SPACING = 256


class Checkpoints:
    def __init__(self, node_budget: int = DEFAULT_NODE_BUDGET,
                 spacing: int = MIN_SPACING) -> None:
        self.node_budget = max(1, node_budget)
        self.spacing = max(1, spacing)
        self.positions: list[int] = []
        self.states: list[State] = []
        self._pinned: list[bool] = []
        self._entries = 0
        self._since = 0

    def __len__(self) -> int:
        return len(self.positions)

    def add(self, position: int, state: State, *, pinned: bool = False) -> None:
        """Keep ``state`` (never changed afterwards) as the page after operation ``position``."""
        self.positions.append(position)
        self.states.append(state)
        self._pinned.append(pinned)
        self._since = 0
        if not pinned:
            self._entries += len(state.nodes)
            while self._entries > self.node_budget and self._thin():
                pass

    def due(self, work: int) -> bool:
        """Count ``work`` done since the last checkpoint; True when the next one is due."""
        self._since += work
        return self._since >= self.spacing

    def at_or_before(self, position: int) -> tuple[int, State]:
        i = bisect_right(self.positions, position) - 1
        return self.positions[i], self.states[i]

    @property
    def entries(self) -> int:
        """Node entries held by the unpinned checkpoints (what the budget bounds)."""
        return self._entries

    def _thin(self) -> bool:
        """Drop every other unpinned checkpoint and double the spacing; False if none left."""
        keep_positions, keep_states, keep_pinned = [], [], []
        dropped = False
        odd = False
        for position, state, pinned in zip(self.positions, self.states, self._pinned,
                                           strict=True):
            if not pinned and position >= 0:
                odd = not odd
                if not odd:
                    self._entries -= len(state.nodes)
                    dropped = True
                    continue
            keep_positions.append(position)
            keep_states.append(state)
            keep_pinned.append(pinned)
        self.positions, self.states, self._pinned = keep_positions, keep_states, keep_pinned
        self.spacing *= 2
        return dropped

    def memory_bytes(self) -> int:
        """Bytes the checkpoints keep alive beyond the operations themselves.

        Counts each checkpoint's dicts and every distinct node tuple, children tuple and
        attribute dict they reference (shared ones once). Strings are not counted: they are the
        recording's own text, held by the operations whether or not checkpoints exist.
        """
        seen: set[int] = set()
        total = 0
        size = sys.getsizeof
        for state in self.states:
            total += size(state.nodes) + size(state.values) + size(state.pending)
            for node in state.nodes.values():
                if id(node) in seen:
                    continue
                seen.add(id(node))
                total += size(node)
                for part in (node[2], node[4]):
                    if isinstance(part, dict | tuple) and id(part) not in seen:
                        seen.add(id(part))
                        total += size(part)
        return total
