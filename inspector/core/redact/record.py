"""The redaction record: what was done to make a copy, written with the copy.

A replay archive (zip or folder) carries it as its member ``redaction.json`` (readers ignore
members they do not know); a single-file copy carries it beside it, as
``OUT.redaction.json``. It holds no personal data, only:

- ``source``: the input's name, format and sha256 (a folder's as the importer computes it);
- ``options`` the redaction ran with (consent and identity files by name and sha256, the
  tolerance, whether personal data was masked, the pseudonymisation key's id — never the key);
- ``tool``: the program and version; ``created_at``;
- ``counts``: sessions and events in the source and in the copy; what was ``removed``, per rule
  (flagged events by audit category, undetermined events, positions cut from move batches,
  dependent operations and events, unreadable records, whole sessions); what was ``masked``,
  per channel and kind of personal data; how many keys and e-mail addresses were pseudonymised;
- ``files``: the sha256 of every other file of the copy, by its path in the copy;
- for a single-file copy, which cannot hold them itself: ``sessions`` (each session's id in the
  copy and in the source, with its subject and device) and the carried ``ledger`` (``consent``
  and ``identities`` records, shaped as in ``consent.ndjson`` and ``identities.ndjson``).

The record is written in the same staging folder as the copy and moved into place with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ... import __version__
from ..sources import sha256_file

FORMAT = "inspector-redaction-record"
VERSION = 1
MEMBER = "redaction.json"
TOOL = f"session-replay-inspector {__version__}"


def file_hashes(root: Path, *, skip: tuple[str, ...] = (),
                known: dict[str, str] | None = None) -> dict[str, str]:
    """sha256 of every file under ``root`` (or of ``root`` itself), by posix relative path;
    ``known``: hashes of files just taken by the caller, not read again."""
    if root.is_file():
        return {root.name: sha256_file(root)}
    known = known or {}
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if name not in skip:
            out[name] = known[name] if name in known else sha256_file(path)
    return out


def make(*, source: dict, options: dict, counts: dict, files: dict[str, str],
         sessions: list[dict] | None = None, ledger: dict | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "tool": TOOL,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "options": options,
        "counts": counts,
        "files": files,
    }
    if sessions is not None:
        record["sessions"] = sessions
    if ledger is not None:
        record["ledger"] = ledger
    return record


def write(path: Path, record: dict) -> None:
    path.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n")

