"""``verify``: is this evidence bundle, byte for byte, the one that was made, and does it hold?

Checks, in order, each naming what changed: the zip's members against their CRC-32; the set of
files (none added, none missing); the tag manifest in its exact form and the sha256 of every tag
file in it; the Ed25519 signature of the tag manifest; every payload file's sha256 and the
Payload-Oxum (the ``bagit`` library); the zip itself against the canonical form of the same bag
(a header or the central directory); the custody log inside; and finally the audit, run again on
the bundled originals with the bundled consent, identities and tolerance, against
data/findings.json. The first check that fails ends the verification.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import bagit
import orjson

from ... import __version__
from .. import custody
from ..errors import InputError, InspectorError
from ..sources import sha256_file
from ..store import Store
from . import container, keys, layout


@dataclass
class VerifyReport:
    path: str
    ok: bool = False
    #: One line per check passed, in order.
    passed: list[str] = field(default_factory=list)
    #: What failed: the file and the check, on one line (None when ok).
    failure: str | None = None
    signed_by: str | None = None  # fingerprint of the key in the bundle
    key_checked: bool = False  # the signature was checked against a key the user gave

    def as_text(self) -> str:
        """The checks passed, one a line, and "verified" when all did (the failure apart)."""
        lines = [f"ok  {line}" for line in self.passed]
        if self.ok:
            lines.append(f"verified: {self.path}")
        return "".join(line + "\n" for line in lines)

    def as_json(self) -> dict:
        return {"path": self.path, "ok": self.ok, "passed": self.passed, "failure": self.failure,
                "signed_by": self.signed_by, "key_checked": self.key_checked}


class _Failed(Exception):
    pass


_TAG_LINE = re.compile(r"([0-9a-f]{64}) ([^\s].*)")


def verify_bundle(zip_path: str | os.PathLike[str], *,
                  public_key: str | os.PathLike[str] | None = None) -> VerifyReport:
    """Verify a bundle; a failed check is in the report, not raised.

    Raises InputError only when verification cannot start (no such file, a bad key file).
    With ``public_key`` the bundle must be signed by that key.
    """
    path = Path(zip_path)
    if not path.is_file():
        raise InputError("does not exist or is not a file", path=str(path),
                         hint="give the bundle's zip")
    trusted = keys.load_public_key(public_key) if public_key is not None else None
    report = VerifyReport(str(path))
    with tempfile.TemporaryDirectory(prefix="inspector-verify-") as tmp:
        try:
            _verify(path, Path(tmp), trusted, report)
        except _Failed as exc:
            report.failure = str(exc)
            return report
    report.ok = True
    return report


def _verify(path: Path, tmp: Path, trusted: keys.Ed25519PublicKey | None,
            report: VerifyReport) -> None:
    try:
        top = container.extract(path, tmp / "x")
    except container.ContainerError as exc:
        raise _Failed(str(exc)) from exc
    root = tmp / "x" / top
    report.passed.append("zip: every member reads back intact (CRC-32)")
    _check_files(root)
    report.passed.append("files: none added, none missing")
    _check_tag_manifest(root)
    report.passed.append(f"{layout.TAGMANIFEST}: exact form; bagit.txt, bag-info.txt and "
                         f"{layout.MANIFEST} match their sha256")
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        raise _Failed(f"the bag cannot be read ({exc})") from exc
    _check_signature(root, bag.info, trusted, report)
    _check_payload(bag)
    report.passed.append(f"payload: {len(bag.payload_entries())} files match their sha256 in "
                         f"{layout.MANIFEST}; Payload-Oxum holds")
    canonical = tmp / "canonical.zip"
    container.write_zip(root, top, canonical)
    difference = container.first_difference(path, canonical)
    if difference:
        raise _Failed(f"{difference}: the zip is not the one that was made (its contents are "
                      "intact, its container was changed or re-packed)")
    report.passed.append("zip: byte for byte the canonical form of its bag")
    _check_custody(root, bag.info, report)
    _check_findings(root, tmp, bag.info, report)


def _check_files(root: Path) -> None:
    expected = {*layout.TAG_FILES, layout.TAGMANIFEST}
    present = {rel for rel in container.files_under(root) if not rel.startswith("data/")}
    allowed = expected | {layout.SIGNATURE}
    for rel in sorted(present - allowed):
        raise _Failed(f"{rel}: a file that is not part of a bundle was added")
    for rel in sorted(expected - present):
        raise _Failed(f"{rel}: missing from the bundle")
    if not (root / "data").is_dir():
        raise _Failed("data/: the payload folder is missing")


def _check_tag_manifest(root: Path) -> None:
    raw = (root / layout.TAGMANIFEST).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Failed(f"{layout.TAGMANIFEST}: changed (not UTF-8 text)") from exc
    if not text.endswith("\n"):
        raise _Failed(f"{layout.TAGMANIFEST}: changed (its last line is cut)")
    listed: dict[str, str] = {}
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        match = _TAG_LINE.fullmatch(line)
        if not match:
            raise _Failed(f"{layout.TAGMANIFEST}: changed (line {number} is not "
                          "'<sha256> <file>')")
        digest, name = match.groups()
        if name not in layout.TAG_FILES or name in listed:
            raise _Failed(f"{layout.TAGMANIFEST}: changed (line {number} names {name!r})")
        listed[name] = digest
    for name in layout.TAG_FILES:
        if name not in listed:
            raise _Failed(f"{layout.TAGMANIFEST}: changed ({name} is not listed)")
        if sha256_file(root / name) != listed[name]:
            raise _Failed(f"{name}: changed (its sha256 does not match {layout.TAGMANIFEST}; "
                          "one of the two was altered)")


def _check_signature(root: Path, info: dict, trusted: keys.Ed25519PublicKey | None,
                     report: VerifyReport) -> None:
    sig_path = root / layout.SIGNATURE
    fingerprint, embedded = info.get(layout.KEY_FINGERPRINT), info.get(layout.PUBLIC_KEY)
    if not sig_path.exists():
        if fingerprint or embedded:
            raise _Failed(f"{layout.SIGNATURE}: missing, though bag-info.txt says the bundle "
                          f"was signed by {fingerprint}")
        if trusted is not None:
            raise _Failed("the bundle is not signed, but a public key was given: it cannot "
                          "show who made it")
        report.passed.append("signature: none (the bundle is unsigned)")
        return
    key = keys.public_from_base64(embedded) if isinstance(embedded, str) else None
    if key is None or fingerprint != keys.fingerprint(key):
        raise _Failed(f"bag-info.txt: its {layout.PUBLIC_KEY} / {layout.KEY_FINGERPRINT} do not "
                      "name one Ed25519 key")
    text = sig_path.read_bytes()
    try:
        signature = base64.b64decode(text.rstrip(b"\n"), validate=True)
    except ValueError:
        signature = b""
    if (len(signature) != keys.SIGNATURE_SIZE
            or base64.b64encode(signature) + b"\n" != text):
        raise _Failed(f"{layout.SIGNATURE}: changed (not the base64 of one Ed25519 signature)")
    manifest = (root / layout.TAGMANIFEST).read_bytes()
    if not keys.signature_valid(key, signature, manifest):
        raise _Failed(f"{layout.SIGNATURE}: the signature does not match {layout.TAGMANIFEST} "
                      "(one of the two was changed)")
    report.signed_by = fingerprint
    if trusted is not None:
        if keys.raw_public(trusted) != keys.raw_public(key):
            raise _Failed(f"{layout.SIGNATURE}: signed by {fingerprint}, not by the key given "
                          f"({keys.fingerprint(trusted)})")
        report.key_checked = True
        report.passed.append(f"signature: valid, by the key given ({fingerprint})")
    else:
        report.passed.append(f"signature: valid, by the key in the bundle ({fingerprint}); "
                             "give --public-key to check who that is")


def _check_payload(bag: bagit.Bag) -> None:
    missing, added = bag.compare_manifests_with_fs()
    for rel in sorted(added):
        raise _Failed(f"{rel}: a file that is not in {layout.MANIFEST} was added")
    for rel in sorted(missing):
        raise _Failed(f"{rel}: listed in {layout.MANIFEST} but missing")
    try:
        bag.validate()
    except bagit.BagValidationError as exc:
        for detail in exc.details or ():
            if isinstance(detail, bagit.ChecksumMismatch):
                raise _Failed(f"{detail.path}: changed (its sha256 does not match "
                              f"{layout.MANIFEST})") from exc
        raise _Failed(f"bag-info.txt / payload: {exc}") from exc
    except bagit.BagError as exc:
        raise _Failed(f"the bag is not valid ({exc})") from exc


def _check_custody(root: Path, info: dict, report: VerifyReport) -> None:
    name = f"data/{layout.CUSTODY}"
    try:
        log = orjson.loads((root / name).read_bytes())
        verdict = custody.check_entries(log["entries"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise _Failed(f"{name}: not a custody log ({exc})") from exc
    if not verdict.intact:
        raise _Failed(f"{name}: chain broken at entry {verdict.broken_at}: {verdict.reason}")
    if (verdict.head or "none") != info.get(layout.CUSTODY_HEAD) or verdict.head != log.get(
            "head"):
        raise _Failed(f"{name}: its head {verdict.head} is not the one in bag-info.txt")
    report.passed.append(f"{name}: {verdict.entries} entries, chain intact, head as in "
                         "bag-info.txt")


def _check_findings(root: Path, tmp: Path, info: dict, report: VerifyReport) -> None:
    payload = root / "data"
    inputs = _listed(info, layout.INPUT)
    consent, identities = _listed(info, layout.CONSENT_FILE), _listed(info, layout.IDENTITIES_FILE)
    for rel in (*inputs, *consent, *identities):
        if not rel or rel.startswith("/") or ".." in rel.split("/") or not (payload / rel
                                                                             ).exists():
            raise _Failed(f"bag-info.txt: names the input {rel!r}, which is not in data/")
    try:
        tolerance = int(info.get(layout.TOLERANCE, ""))
    except ValueError:
        raise _Failed(f"bag-info.txt: {layout.TOLERANCE} is not a number") from None
    name = f"data/{layout.FINDINGS}"
    try:
        bundled = orjson.loads((payload / layout.FINDINGS).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise _Failed(f"{name}: not JSON ({exc})") from exc
    try:
        with Store(tmp / "verify.duckdb") as store:
            result, again = layout.audit_payload(payload, store, inputs, consent=consent,
                                            identities=identities, tolerance_ms=tolerance)
    except InspectorError as exc:
        raise _Failed(f"the originals cannot be audited again ({exc})") from exc
    where = layout.first_json_difference(bundled, again)
    if where is not None:
        made_with = info.get(layout.VERSION)
        versions = (f"; the bundle was made by inspector {made_with}, this is {__version__}"
                    if made_with != __version__ else "")
        raise _Failed(f"{name}: the audit run again on data/originals gives other findings "
                      f"(first difference at {where}){versions}")
    report.passed.append(f"audit run again: the same findings ({result.flagged_events} "
                         f"flagged events in {result.flagged_sessions} sessions, tolerance "
                         f"{tolerance} ms)")


def _listed(info: dict, key: str) -> list[str]:
    value = info.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
