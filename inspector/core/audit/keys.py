"""Who is who: the identity graph that joins subject and device keys into people.

``identities`` rows (an identities file, a replay archive's ``identities.ndjson``, a PostHog
person's distinct ids) each say that two keys name the same person; linking is transitive, so
the people are the connected components of the graph. The graph is small (one node per key,
not per event), so it is built here with union-find and handed to DuckDB as a table mapping
each linked key to its person; a key in no identities row is a person of its own.

A session's own subject and device are never linked by the session (rule 1): a device shared
by two people must not merge them. Only identities rows make links.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable

import duckdb
import pyarrow as pa


class IdentityGraph:
    """Keys joined into people by identity links."""

    def __init__(self, links: Iterable[tuple[str, str]] = ()) -> None:
        self._parent: dict[str, str] = {}
        self._neighbours: dict[str, set[str]] = defaultdict(set)
        self._aliases: Counter[str] = Counter()  # how many aliases each key has as a subject
        self._aliased: Counter[str] = Counter()  # how often each key is another key's alias
        for subject, alias in links:
            if subject == alias:
                continue
            self._neighbours[subject].add(alias)
            self._neighbours[alias].add(subject)
            self._aliases[subject] += 1
            self._aliased[alias] += 1
            self._union(subject, alias)
        self._members: dict[str, list[str]] = defaultdict(list)
        for key in sorted(self._neighbours):
            self._members[self._find(key)].append(key)
        # Each person's name: the key with the most aliases (an account id), then the one least
        # often an alias itself, then the smallest, so a person is named the same way on every
        # run.
        self._names = {root: min(keys, key=lambda k: (-self._aliases[k], self._aliased[k], k))
                       for root, keys in self._members.items()}

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> IdentityGraph:
        return cls(con.execute("SELECT DISTINCT subject, alias FROM identities").fetchall())

    # -- union-find -------------------------------------------------------------------------
    def _find(self, key: str) -> str:
        root = key
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while key != root:  # path compression
            self._parent[key], key = root, self._parent[key]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    # -- queries ------------------------------------------------------------------------------
    def person(self, key: str) -> str:
        """The name of the person ``key`` belongs to (``key`` itself when it has no links)."""
        if key not in self._neighbours:
            return key
        return self._names[self._find(key)]

    def keys_of(self, key: str) -> list[str]:
        """Every key of ``key``'s person, sorted."""
        if key not in self._neighbours:
            return [key]
        return list(self._members[self._find(key)])

    def path(self, start: str, goal: str) -> list[str] | None:
        """The shortest chain of identity links from ``start`` to ``goal`` (both included)."""
        if start == goal:
            return [start]
        previous: dict[str, str] = {start: start}
        queue = deque([start])
        while queue:
            key = queue.popleft()
            for neighbour in sorted(self._neighbours.get(key, ())):
                if neighbour not in previous:
                    previous[neighbour] = key
                    if neighbour == goal:
                        chain = [goal]
                        while chain[-1] != start:
                            chain.append(previous[chain[-1]])
                        return chain[::-1]
                    queue.append(neighbour)
        return None

    def table(self) -> pa.Table:
        """``key -> person`` for every linked key, for the flagging SQL."""
        keys = sorted(self._neighbours)
        return pa.table({"key": pa.array(keys, pa.string()),
                         "person": pa.array([self.person(k) for k in keys], pa.string())})

    def __len__(self) -> int:
        return len(self._neighbours)
