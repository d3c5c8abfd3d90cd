"""Evidence bundles: the originals, the findings and the report in one package anyone can check.

:func:`make_bundle` copies the inputs untouched into a BagIt bag (RFC 8493, made with the
``bagit`` library), imports and audits those very copies in a fresh database, adds the
findings as JSON, the report as HTML and that database's custody log, and zips the bag in a
canonical form (:mod:`.container`), optionally signing its tag manifest with Ed25519
(:mod:`.keys`). :func:`~.verify.verify_bundle` checks every byte of it and audits the
originals again. Layout, signing and checks: docs/evidence.md.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import bagit
import orjson

from ... import __version__
from .. import custody
from ..audit import AuditResult
from ..cancel import CancelToken
from ..errors import InputError, UsageError
from ..formats.replay_archive import folder_sha256
from ..importer import ImportProgress
from ..sources import sha256_file
from ..store import Store
from . import container, keys, layout
from .verify import VerifyReport, verify_bundle

__all__ = ["BundleProgress", "BundleResult", "VerifyReport", "make_bundle", "verify_bundle"]

# bagit logs every file it moves and every mismatch it finds; our own messages say what failed.
logging.getLogger("bagit").addHandler(logging.NullHandler())

PathLike = str | os.PathLike[str]


@dataclass
class BundleProgress:
    stage: str  # copying | importing | auditing | report | bagging | zipping
    fraction: float  # 0..1 over the whole bundle


@dataclass
class BundleResult:
    path: str
    sha256: str
    size: int
    payload_files: int
    flagged_events: int
    flagged_sessions: int
    tolerance_ms: int
    signed_by: str | None  # the key's fingerprint
    #: The custody log of the bundle's own database: its imports, audit and report (as in
    #: data/custody.json), then the bundle itself. Copy it into a lasting log
    #: (:func:`inspector.core.custody.record_in_user_log`).
    custody: list[custody.Entry] = field(default_factory=list)

    def as_text(self) -> str:
        signed = f"signed by {self.signed_by}" if self.signed_by else "unsigned"
        return (f"bundle {self.path}: {self.payload_files} files, {self.size:,} bytes, {signed}\n"
                f"  sha256 {self.sha256}\n"
                f"  {self.flagged_events:,} flagged events in {self.flagged_sessions} sessions "
                f"(tolerance {self.tolerance_ms} ms); check it with: inspector verify "
                f"{self.path}\n")

    def as_json(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "size": self.size,
                "payload_files": self.payload_files, "flagged_events": self.flagged_events,
                "flagged_sessions": self.flagged_sessions, "tolerance_ms": self.tolerance_ms,
                "signed_by": self.signed_by}


def make_bundle(paths: Sequence[PathLike], out: PathLike, *, consent: Sequence[PathLike] = (),
                identities: Sequence[PathLike] = (), tolerance_ms: int = 0,
                sign_key: PathLike | None = None, force: bool = False,
                progress: Callable[[BundleProgress], None] | None = None,
                cancel: CancelToken | None = None) -> BundleResult:
    """Write the evidence bundle of ``paths`` to ``out`` (a zip); nothing is written at ``out``
    unless all of it succeeds. Raises InputError/UsageError naming the file, Cancelled."""
    cancel = cancel or CancelToken()
    sources = [_existing(p, "recording") for p in paths]
    consent_files = [_existing(p, "consent file", folder=False) for p in consent]
    identity_files = [_existing(p, "identities file", folder=False) for p in identities]
    if not sources:
        raise UsageError("nothing to bundle: give at least one recording")
    target = _check_out(Path(out), [*sources, *consent_files, *identity_files], force)
    key = keys.load_private_key(sign_key) if sign_key is not None else None

    def report(stage: str, start: float, end: float, fraction: float) -> None:
        if progress:
            progress(BundleProgress(stage, start + (end - start) * min(1.0, fraction)))

    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="inspector-bundle-")))
        bag = work / "bag"
        staged = _stage(bag, sources, consent_files, identity_files, cancel,
                        lambda f: report("copying", 0.0, 0.1, f))
        store = stack.enter_context(Store(work / "bundle.duckdb"))

        def imported(p: ImportProgress) -> None:
            report("importing", 0.1, 0.5, p.fraction)

        result, findings = layout.audit_payload(
            bag, store, staged[layout.ORIGINALS], consent=staged[layout.CONSENT],
            identities=staged[layout.IDENTITIES], tolerance_ms=tolerance_ms,
            progress=imported, cancel=cancel)
        report("auditing", 0.5, 0.7, 1.0)
        (bag / layout.FINDINGS).write_bytes(orjson.dumps(findings, option=orjson.OPT_INDENT_2)
                                            + b"\n")
        cancel.check()
        (bag / layout.REPORT).write_text(_report_html(store, result, tolerance_ms, bag),
                                         encoding="utf-8")
        report("report", 0.7, 0.75, 1.0)
        cancel.check()
        verdict = custody.check(store)
        log = {"entries": [e.as_json() for e in custody.entries(store)],
               "head": verdict.head, "intact": verdict.intact}
        (bag / layout.CUSTODY).write_bytes(orjson.dumps(log, option=orjson.OPT_INDENT_2) + b"\n")
        info = _bag_info(staged, tolerance_ms, result, verdict.head, key)
        bagit.make_bag(str(bag), bag_info=info, checksums=["sha256"])
        if key is not None:
            signature = key.sign((bag / layout.TAGMANIFEST).read_bytes())
            (bag / layout.SIGNATURE).write_text(_b64(signature) + "\n", encoding="ascii")
        report("bagging", 0.75, 0.9, 1.0)
        cancel.check()
        payload_files = len(container.files_under(bag / "data"))
        sha256, size = _install(bag, target, force, cancel,
                                lambda done, total: report("zipping", 0.9, 1.0, done / total))
        inputs = [(str(src), _sha256(bag / "data" / name))
                  for src, name in zip([*sources, *consent_files, *identity_files],
                                       [*staged[layout.ORIGINALS], *staged[layout.CONSENT],
                                        *staged[layout.IDENTITIES]], strict=True)]
        signed_by = keys.fingerprint(key.public_key()) if key is not None else None
        custody.append(store, "bundle", inputs=inputs, outputs=[(str(target), sha256)], details={
            "tolerance_ms": tolerance_ms, "flagged_events": result.flagged_events,
            "flagged_sessions": result.flagged_sessions, "payload_files": payload_files,
            "signed_by": signed_by, "bundled_custody_head": verdict.head})
        return BundleResult(str(target), sha256, size, payload_files, result.flagged_events,
                            result.flagged_sessions, tolerance_ms, signed_by,
                            custody.entries(store))


def _existing(path: PathLike, what: str, *, folder: bool = True) -> Path:
    resolved = Path(path)
    if not resolved.exists():
        raise InputError(f"the {what} does not exist", path=str(path), hint="check the path")
    if resolved.is_dir() and not folder:
        raise InputError(f"the {what} is a folder; a file is needed", path=str(path))
    if not resolved.is_dir() and not resolved.is_file():
        raise InputError(f"the {what} is not a regular file", path=str(path))
    return resolved.resolve()


def _check_out(out: Path, inputs: list[Path], force: bool) -> Path:
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError("the folder to write into does not exist", path=str(out),
                         hint="create it first, or choose another OUT")
    target = parent.resolve() / out.name
    for source in inputs:
        if target == source or source in target.parents:
            raise UsageError("is an input or inside one; inputs are never written over",
                             path=str(out), hint="choose another OUT")
    if target.is_dir():
        raise UsageError("is a folder", path=str(out), hint="give the zip file to write")
    if os.path.lexists(target) and not force:
        raise UsageError("already exists", path=str(out),
                         hint="choose another OUT, or add --force to replace it")
    return target


def _stage(bag: Path, sources: list[Path], consent: list[Path], identities: list[Path],
           cancel: CancelToken, done: Callable[[float], None]) -> dict[str, list[str]]:
    """Copy every input into the bag-to-be, byte for byte; returns names relative to it."""
    staged: dict[str, list[str]] = {}
    groups = ((layout.ORIGINALS, sources), (layout.CONSENT, consent),
              (layout.IDENTITIES, identities))
    total = sum(len(files) for _, files in groups) or 1
    count = 0
    for folder, files in groups:
        names: list[str] = []
        for source in files:
            cancel.check()
            name = layout.safe_name(source.name)
            stem, suffix = (name, "") if source.is_dir() else _split(name)
            number = 2
            while name in names:
                name = f"{stem}-{number}{suffix}"
                number += 1
            names.append(name)
            copy = bag / folder / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                if source.is_dir():
                    shutil.copytree(source, copy)
                else:
                    shutil.copyfile(source, copy)
            except (OSError, shutil.Error) as exc:
                raise InputError(f"cannot be copied into the bundle ({exc})", path=str(source)
                                 ) from exc
            count += 1
            done(count / total)
        staged[folder] = [f"{folder}/{name}" for name in names]
    return staged


def _split(name: str) -> tuple[str, str]:
    """``demo.ndjson.gz`` -> (``demo``, ``.ndjson.gz``): a number goes before every suffix."""
    stem, dot, rest = name.partition(".")
    return (stem, dot + rest) if stem else (name, "")


def _report_html(store: Store, result: AuditResult, tolerance_ms: int, payload: Path) -> str:
    from ..report import make_report, render_html

    html = render_html(make_report(store, audit=result, tolerance_ms=tolerance_ms))
    return layout.relative_names(html, payload)


def _bag_info(staged: dict[str, list[str]], tolerance_ms: int, result: AuditResult,
              head: str | None, key: keys.Ed25519PrivateKey | None) -> dict:
    now = datetime.now(UTC)
    info: dict = {
        "Bag-Software-Agent": f"session-replay-inspector {__version__} (bagit.py "
                              f"{bagit.VERSION})",
        "Bagging-Date": now.strftime("%Y-%m-%d"),
        "External-Description": "Evidence bundle of a session-replay opt-out audit: the "
                                "original recordings (data/originals), the consent and "
                                "identity files applied, the findings (data/findings.json), "
                                "the report (data/report.html) and the custody log "
                                "(data/custody.json). Check it with: inspector verify",
        layout.BAGGED_AT: now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        layout.VERSION: __version__,
        layout.INPUT: staged[layout.ORIGINALS],
        layout.TOLERANCE: str(tolerance_ms),
        layout.SUMMARY: f"{result.flagged_events} flagged events in {result.flagged_sessions} "
                        f"sessions of {result.sessions}; {result.people_opted_out} people "
                        "opted out",
        layout.CUSTODY_HEAD: head or "none",
    }
    if staged[layout.CONSENT]:
        info[layout.CONSENT_FILE] = staged[layout.CONSENT]
    if staged[layout.IDENTITIES]:
        info[layout.IDENTITIES_FILE] = staged[layout.IDENTITIES]
    if key is not None:
        info[layout.KEY_FINGERPRINT] = keys.fingerprint(key.public_key())
        info[layout.PUBLIC_KEY] = _b64(keys.raw_public(key.public_key()))
    return info


def _install(bag: Path, target: Path, force: bool, cancel: CancelToken,
             done: Callable[[int, int], None]) -> tuple[str, int]:
    """Zip the bag beside ``target`` and move it into place; returns its sha256 and size."""
    temp = target.with_name(f".{target.name}.{os.urandom(6).hex()}.part")
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        container.write_zip(bag, layout.safe_name(Path(target.name).stem) or "bundle", temp,
                            cancel=cancel, done=done)
        sha256, size = sha256_file(temp), temp.stat().st_size
        cancel.check()
        if force:
            os.replace(temp, target)
        else:
            try:
                os.link(temp, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise UsageError("already exists", path=str(target),
                                 hint="choose another OUT, or add --force to replace it"
                                 ) from None
            except OSError:  # a file system without hard links
                if os.path.lexists(target):
                    raise UsageError("already exists", path=str(target),
                                     hint="choose another OUT, or add --force to replace it"
                                     ) from None
                os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return sha256, size


def _sha256(path: Path) -> str:
    return folder_sha256(path) if path.is_dir() else sha256_file(path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
