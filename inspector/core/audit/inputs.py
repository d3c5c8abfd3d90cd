"""What an audit is run on: recordings imported, then consent and identity files added.

``inspector audit``, ``report`` and ``bundle`` and the bundle's ``verify`` all start the same
way, so that the same inputs always give the same findings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb

from ..cancel import CancelToken
from ..errors import InputError
from ..importer import ImportProgress, ImportReport, import_paths
from ..store import Store
from .ledger import CONSENT, IDENTITIES, RecordsFileResult, add_records_file

PathLike = str | os.PathLike[str]


@dataclass
class LoadedInputs:
    imported: ImportReport = field(default_factory=ImportReport)
    records: list[RecordsFileResult] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per archive and per records file, for a command's output."""
        out = [f"{a.status} {a.path}: {a.sessions} sessions, {a.events:,} events"
               for a in self.imported.archives]
        for added in self.records:
            state = "already in the database" if added.status == "duplicate" else "added"
            out.append(f"{added.kind} file {added.path}: {added.records:,} records ({state})")
        return out


def load_inputs(store: Store | duckdb.DuckDBPyConnection, paths: Sequence[PathLike], *,
                consent: Sequence[PathLike] = (), identities: Sequence[PathLike] = (),
                progress: Callable[[ImportProgress], None] | None = None,
                cancel: CancelToken | None = None) -> LoadedInputs:
    """Import ``paths`` and add the records files; raises InputError naming every failure.

    Identities go in before consent so that a consent record's subject can be linked at once.
    """
    loaded = LoadedInputs()
    if paths:
        loaded.imported = import_paths(store, paths, progress=progress, cancel=cancel)
        failed = loaded.imported.failed
        if failed:
            raise InputError("; ".join(a.error or f"{a.path}: failed" for a in failed))
    for kind, files in ((IDENTITIES, identities), (CONSENT, consent)):
        for path in files:
            loaded.records.append(add_records_file(store, path, kind))
    return loaded
