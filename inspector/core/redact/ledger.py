"""The consent ledger and identity links that travel with a redacted copy.

An auditor of the copy needs the records the redaction was judged by, or auditing the copy
would prove nothing. The copy carries the consent records (from the archive's
``consent.ndjson`` and every ``--consent`` file) and identity links (``identities.ndjson``,
``--identities`` files, PostHog persons) that concern **the people of the sessions it keeps**:
a record or link whose key belongs to the person of a kept session's subject or device. Records
about people the copy holds nothing of stay behind: they would tell the copy's reader about
people who are not in it.

Records are written as the archive format has them (``at`` in epoch ms, ``scope`` and ``source``
when set; the file and line they came from are not carried: they name the auditor's files),
keys pseudonymised when asked.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from ..audit.keys import IdentityGraph
from .pseudonym import Pseudonymizer


def carried(con: duckdb.DuckDBPyConnection, keys: Iterable[str | None],
            pseudonymizer: Pseudonymizer | None) -> tuple[list[dict], list[dict]]:
    """(consent records, identity links) about the people of ``keys``, ready to write."""
    graph = IdentityGraph.load(con)
    people = {graph.person(key) for key in keys if key}

    def name(key: str) -> str:
        return pseudonymizer.key(key) if pseudonymizer is not None else key  # type: ignore[return-value]

    consent = []
    for subject, action, at_ms, scope, source in con.execute(
            "SELECT DISTINCT subject, action, at_ms, scope, source FROM consent "
            "ORDER BY at_ms, subject, action, scope NULLS FIRST, source NULLS FIRST").fetchall():
        if graph.person(subject) in people:
            record = {"subject": name(subject), "action": action, "at": at_ms}
            if scope is not None:
                record["scope"] = scope
            if source is not None:
                record["source"] = source
            consent.append(record)
    identities = [{"subject": name(subject), "alias": name(alias)}
                  for subject, alias in con.execute(
                      "SELECT DISTINCT subject, alias FROM identities ORDER BY 1, 2").fetchall()
                  if graph.person(subject) in people]
    return consent, identities


def all_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every subject, device and alias key the store knows: what pseudonymisation replaces."""
    rows = con.execute("""
        SELECT subject FROM sessions UNION SELECT device FROM sessions
        UNION SELECT subject FROM identities UNION SELECT alias FROM identities
        UNION SELECT subject FROM consent""").fetchall()
    return {key for (key,) in rows if key}
