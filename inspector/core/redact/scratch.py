"""The redaction's temporary databases: in memory, spilling to its temporary folder.

The source and the copy are each imported into a database of their own that lives only as
long as the redaction. Kept in memory it needs no writes to disk and no compression of the
event data (the import into memory is about a third faster), and DuckDB spills to the
redaction's own temporary folder, not the current directory, when a recording does not fit.
"""

from __future__ import annotations

from pathlib import Path

from ..store import Store


def scratch_store(folder: Path) -> Store:
    store = Store(":memory:")
    spill = folder / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    store.con.execute("SET temp_directory = ?", [str(spill)])
    return store
