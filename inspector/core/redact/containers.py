"""The copy's container is the input's: a replay archive stays one, a single file stays one.

- **Replay archive** (zip or folder): the same tree: each session file at its path, in its
  encoding (``.ndjson``, ``.ndjson.gz``, ``.json``); a new ``manifest.json`` (sha256 and event
  counts of the copy's files, subject and device, pseudonymised when asked, no ``started_at``:
  the first events may be gone); ``consent.ndjson`` and ``identities.ndjson`` with the carried
  ledger (:mod:`.ledger`); the record as ``redaction.json``. A session left with no event is
  left out. Files the manifest does not name are not copied: nobody checked what they hold.
  A zip is written with sorted members and fixed timestamps (gzip members stored as they are).
- **A single file** (rrweb JSON or NDJSON, PostHog export or blob lines, plain or gzip): the
  same wrapper (``[...]``, ``{"events": [...]}``, ``{"result": [...]}``, an object of event
  arrays, a PostHog export of the same version with its person, blob lines of the same shape),
  with the record beside it as ``OUT.redaction.json``. A session array or PostHog window left
  empty is left out.
"""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from ..cancel import CancelToken
from ..errors import UsageError
from ..formats import posthog_blob, posthog_export, replay_archive, rrweb_json
from ..sources import Source, sha256_file
from . import record as record_module
from .masking import Leaves
from .output import Staging
from .plan import SessionPlan
from .pseudonym import Pseudonymizer
from .writers import ARCHIVE_SESSION, FileJob

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_RESERVED = frozenset({replay_archive.MANIFEST, replay_archive.CONSENT, replay_archive.IDENTITIES,
                       record_module.MEMBER})


class Container:
    fmt: str
    #: Whether the copy holds its ledger itself (else it goes into the record).
    carries_ledger: bool
    #: Whether the format cannot carry a session's subject (it comes from beside the file).
    settable_keys: bool = False
    jobs: dict[str, FileJob]
    #: What the importer is given to check the copy.
    copy: Path

    def read(self, sink: Any) -> None:
        raise NotImplementedError

    def finish(self, cancel: CancelToken) -> None:
        for job in self.jobs.values():
            cancel.check()
            job.finish(cancel)

    @property
    def written(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for job in self.jobs.values():
            total.update(job.written)
        return total

    @property
    def unreadable(self) -> int:
        return sum(job.unreadable for job in self.jobs.values())

    def close(self) -> None:
        """Release the source (an open zip)."""


class ArchiveContainer(Container):
    fmt = replay_archive.NAME
    carries_ledger = True

    def __init__(self, path: Path, staging: Staging) -> None:
        self.tree = replay_archive.Tree(path)
        self.is_zip = self.tree.zip is not None
        manifest_source = self.tree.source(replay_archive.MANIFEST)
        assert manifest_source is not None  # the import read it
        self.entries = orjson.loads(manifest_source.read_all())["sessions"]
        self.copy = staging.copy
        self.root = staging.root / "tree" if self.is_zip else staging.copy
        self.root.mkdir(parents=True, exist_ok=True)
        self.jobs = {}
        self._files: dict[str, FileJob] = {}
        for entry in self.entries:
            member = entry["path"]
            if member in self._files or member in _RESERVED:
                raise UsageError(f"the manifest names {member!r} for more than one thing",
                                 path=str(path), hint="such an archive cannot be redacted "
                                 "safely; export it again")
            source = self.tree.source(member)
            assert source is not None  # the import checked every member
            job = FileJob(source, self.root / member, ARCHIVE_SESSION)
            self.jobs[source.name] = self._files[member] = job

    def read(self, sink: Any) -> None:
        replay_archive.read(self.tree, sink)

    def complete(self, plans: dict[str, SessionPlan], consent: list[dict],
                 identities: list[dict], pseudonymizer: Pseudonymizer | None,
                 record: dict) -> None:
        """Write the manifest, the ledger and the record around the session files."""
        sessions = []
        for entry in self.entries:
            session_id = str(entry["session_id"])
            job = self._files[entry["path"]]
            events = job.written[session_id]
            if not events:
                job.out.unlink(missing_ok=True)
                continue
            plan = plans[session_id]
            out = {"session_id": session_id, "path": entry["path"], "sha256": sha256_file(job.out),
                   "events": events}
            for key, value in (("subject", plan.subject), ("device", plan.device)):
                if value is not None:
                    out[key] = pseudonymizer.key(value) if pseudonymizer is not None else value
            sessions.append(out)
        manifest = {"format": replay_archive.FORMAT_ID, "version": replay_archive.VERSION,
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "exporter": f"{record_module.TOOL} (redacted copy)", "sessions": sessions}
        (self.root / replay_archive.MANIFEST).write_bytes(
            orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
        for name, records in ((replay_archive.CONSENT, consent),
                              (replay_archive.IDENTITIES, identities)):
            if records:
                (self.root / name).write_bytes(b"".join(orjson.dumps(r) + b"\n"
                                                         for r in records))
        record["files"] = record_module.file_hashes(
            self.root, skip=(record_module.MEMBER,),
            known={entry["path"]: entry["sha256"] for entry in sessions})
        record_module.write(self.root / record_module.MEMBER, record)
        if self.is_zip:
            self._pack()

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def _pack(self) -> None:
        with zipfile.ZipFile(self.copy, "w") as bundle:
            for path in self.files():
                info = zipfile.ZipInfo(path.relative_to(self.root).as_posix(), _ZIP_TIME)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_STORED if path.suffix == ".gz" \
                    else zipfile.ZIP_DEFLATED
                with open(path, "rb") as src, bundle.open(info, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)

    def close(self) -> None:
        self.tree.close()


class FileContainer(Container):
    carries_ledger = False

    def __init__(self, path: Path, reader: ModuleType, staging: Staging, *,
                 leaves: Leaves | None) -> None:
        self.source = Source(str(path), path=path)
        self.reader = reader
        self.fmt = reader.NAME
        self.settable_keys = reader is posthog_blob
        self.leaves = leaves
        self.copy = staging.copy
        assert staging.sidecar is not None
        self.sidecar = staging.sidecar
        self.jobs = {self.source.name: FileJob(self.source, self.copy, reader.NAME,
                                               finish_document=self._document)}

    def read(self, sink: Any) -> None:
        sink.location = self.source.name
        self.reader.read(self.source, sink)

    def complete(self, record: dict) -> None:
        record["files"] = record_module.file_hashes(self.copy)
        record_module.write(self.sidecar, record)

    def files(self) -> list[Path]:
        return [self.copy, self.sidecar]

    # -- the wrapper around the events ----------------------------------------------------------
    def _document(self, document: Any) -> None:
        if not isinstance(document, dict):
            return
        if self.reader is rrweb_json:
            holder = next((key for key in rrweb_json.ARRAY_KEYS
                           if isinstance(document.get(key), list)), None)
            if holder is None:  # one session per key: sessions left empty go
                for key in [k for k, v in document.items() if not isinstance(v, list) or not v]:
                    del document[key]
            else:
                self._mask_members(document, skip={holder, *rrweb_json.SESSION_KEYS})
        elif self.reader is posthog_export:
            data = document.get("data")
            if isinstance(data, dict):
                windows = data.get("snapshotsByWindowId")
                if isinstance(windows, dict):
                    for key in [k for k, v in windows.items() if not isinstance(v, list) or not v]:
                        del windows[key]
                self._person(data)
                self._mask_members(data, skip={"id", "session_id", "person", "distinct_id",
                                               "snapshots", "snapshotsByWindowId"})
            self._mask_members(document, skip={"version", "data"})

    def _mask_members(self, holder: dict, *, skip: set[str]) -> None:
        if self.leaves is None:
            return
        for key in list(holder):
            if key not in skip:
                holder[key] = self.leaves.value(holder[key], "other", key)

    def _person(self, data: dict) -> None:
        leaves = self.leaves
        pseudonymizer = leaves.pseudonymizer if leaves is not None else None
        if pseudonymizer is not None and isinstance(data.get("distinct_id"), str):
            data["distinct_id"] = pseudonymizer.key(data["distinct_id"])
        person = data.get("person")
        if not isinstance(person, dict) or leaves is None:
            return
        keys = pseudonymizer.known_keys if pseudonymizer is not None else frozenset()
        for name in list(person):
            value = person[name]
            if name == "distinct_ids" and isinstance(value, list):
                if pseudonymizer is not None:
                    person[name] = [pseudonymizer.key(v) if isinstance(v, str) else v
                                    for v in value]
            elif name in ("distinct_id", "uuid") and isinstance(value, str):
                if pseudonymizer is not None:
                    person[name] = pseudonymizer.key(value)
            elif name == "name" and isinstance(value, str):
                if pseudonymizer is not None and (value in keys or "@" in value):
                    person[name] = pseudonymizer.key(value)
                elif value not in _person_keys(person):
                    person[name] = leaves.text(value, "name", "other")
            elif name not in ("id", "created_at"):
                person[name] = leaves.value(value, "other", name)


def _person_keys(person: dict) -> set[str]:
    ids = person.get("distinct_ids")
    return {v for v in ids if isinstance(v, str)} if isinstance(ids, list) else set()
