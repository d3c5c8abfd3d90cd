"""Our own export format, replay-archive version 1 (docs/archive-format.md).

A zip, or the same tree as a folder: ``manifest.json`` naming each session file with its
sha256 and event count, optional ``consent.ndjson`` and ``identities.ndjson``. The archive is
refused whole when its manifest is unusable, names a missing member, or a member's bytes do
not match their sha256: an auditor must not work from a silently altered export.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputError
from ..records import RecordError, SessionMeta, Sink, parse_consent, parse_identity
from ..sources import DEFAULT_LIMITS, Limits, Source, ZipArchive, member_problem
from . import json_lines, jsondoc, rrweb_ndjson, sniff

NAME = "replay-archive"
MANIFEST = "manifest.json"
CONSENT = "consent.ndjson"
IDENTITIES = "identities.ndjson"
FORMAT_ID = "replay-archive"
VERSION = 1


class Tree:
    """The archive's files, from a zip or a folder, by relative posix path."""

    def __init__(self, root: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.root = root
        self.limits = limits
        self.zip = ZipArchive(root, limits) if root.is_file() else None

    @property
    def name(self) -> str:
        return str(self.root)

    def source(self, member: str) -> Source | None:
        problem = member_problem(member)
        if problem:
            raise InputError(f"the manifest names an unsafe path: {problem}",
                             path=f"{self.root}!{member}")
        if self.zip is not None:
            info = self.zip.find(member)
            return None if info is None else self.zip.source(info)
        path = self.root / member
        if not path.is_file():
            return None
        return Source(str(path), path=path, limits=self.limits)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def is_archive(path: Path) -> bool:
    """A folder or zip with a manifest.json at its root."""
    if path.is_dir():
        return (path / MANIFEST).is_file()
    try:
        tree = Tree(path)
    except InputError:
        return False
    try:
        return tree.zip is not None and tree.zip.find(MANIFEST) is not None
    finally:
        tree.close()


def folder_sha256(root: Path) -> str:
    """sha256 over ``"<relative path>\\0<sha256>\\n"`` of every file, sorted by path."""
    from ..sources import sha256_file

    lines = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in filenames:
            full = Path(dirpath) / filename
            if full.is_file():
                rel = full.relative_to(root).as_posix()
                lines.append(f"{rel}\0{sha256_file(full)}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


@dataclass
class ManifestInfo:
    exporter: str | None
    exported_at: str | None


def read(tree: Tree, sink: Sink) -> ManifestInfo:
    manifest_source = tree.source(MANIFEST)
    if manifest_source is None:
        raise InputError("has no manifest.json", path=tree.name)
    manifest = _load_manifest(manifest_source)
    entries = manifest["sessions"]
    for index, entry in enumerate(entries):
        _check_entry(entry, index, manifest_source.name)
    for index, entry in enumerate(entries):
        source = tree.source(entry["path"])
        if source is None:
            raise InputError(f"the manifest's session {index} ({entry['session_id']}) names "
                             f"'{entry['path']}', which is not in the archive",
                             path=tree.name, hint="the archive is incomplete; export it again")
        if jsondoc.is_kept(source):
            continue  # checked by the reading that parsed it; its bytes are not read again
        expected = entry["sha256"].lower()
        actual = source.sha256()
        if actual != expected:
            raise InputError(f"sha256 mismatch: the manifest says {expected}, the file has "
                             f"{actual}", path=source.name,
                             hint="the archive was damaged or modified after export; obtain a "
                                  "fresh copy")
    for entry in entries:
        source = tree.source(entry["path"])
        assert source is not None
        sink.location = source.name
        sid = str(entry["session_id"])
        sink.session(SessionMeta(sid, subject=_opt_str(entry.get("subject")),
                                 device=_opt_str(entry.get("device")),
                                 started_at=entry.get("started_at")
                                 if isinstance(entry.get("started_at"), int) else None,
                                 origin=source.name))
        before = sink.session_events(sid)
        _read_session_file(source, sink, sid)
        found = sink.session_events(sid) - before
        declared = entry.get("events")
        if isinstance(declared, int) and declared != found:
            sink.problem(source.name, f"the manifest declares {declared} events, "
                                      f"{found} were imported")
    for member, parse, add in ((CONSENT, parse_consent, sink.consent),
                               (IDENTITIES, parse_identity, sink.identity)):
        source = tree.source(member)
        if source is not None:
            sink.location = source.name
            _read_records(source, sink, parse, add)
    return ManifestInfo(_opt_str(manifest.get("exporter")), _opt_str(manifest.get("exported_at")))


def _load_manifest(source: Source) -> dict:
    try:
        manifest = orjson.loads(source.read_all())
    except orjson.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON ({exc})", path=source.name,
                         hint="the archive's manifest is damaged; export it again") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_ID:
        raise InputError(f"is not a replay-archive manifest (expected \"format\": \"{FORMAT_ID}\")",
                         path=source.name)
    version = manifest.get("version")
    if version != VERSION:
        raise InputError(f"is replay-archive version {version!r}; this tool reads version "
                         f"{VERSION}", path=source.name, hint="upgrade the tool")
    if not isinstance(manifest.get("sessions"), list):
        raise InputError("has no \"sessions\" list", path=source.name)
    return manifest


def _check_entry(entry: Any, index: int, name: str) -> None:
    where = f"sessions[{index}]"
    if not isinstance(entry, dict):
        raise InputError("is not an object", path=name, where=where)
    for key in ("session_id", "path", "sha256"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise InputError(f"has no string \"{key}\"", path=name, where=where,
                             hint="the manifest is damaged; export it again")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_session_file(source: Source, sink: Sink, session_id: str) -> None:
    found = sniff(source)
    if found.stripped[:1] == b"[" and not found.lines_of_json:
        events = jsondoc.load(source)
        if not isinstance(events, list):
            raise InputError("is not a JSON array of events", path=source.name)
        for index, event in enumerate(events):
            sink.event(session_id, event, f"{source.name} [{index}]")
            if index % 5000 == 0:
                sink.check_cancel()
        return
    rrweb_ndjson.read(source, sink, session_id=session_id)


def _read_records(source: Source, sink: Sink, parse, add) -> None:
    for _, location, value in json_lines(source, sink):
        try:
            add(parse(value, location))
        except RecordError as exc:
            sink.problem(location, str(exc))
