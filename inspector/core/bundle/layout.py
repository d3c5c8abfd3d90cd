"""What a bundle holds and how its findings are made, shared by ``bundle`` and ``verify``.

Both import the bundled originals into a fresh database in the same order, add the same
consent and identity files, and audit with the same tolerance; the findings name files by
their place in the payload (``originals/demo-archive.zip!consent.ndjson line 3``), never by
the temporary folder they were read from, so the two runs can be compared as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..audit import AuditResult, run_audit
from ..audit.inputs import load_inputs
from ..cancel import CancelToken
from ..importer import ImportProgress
from ..store import Store

ORIGINALS, CONSENT, IDENTITIES = "originals", "consent", "identities"
FINDINGS, REPORT, CUSTODY = "findings.json", "report.html", "custody.json"
MANIFEST, TAGMANIFEST = "manifest-sha256.txt", "tagmanifest-sha256.txt"
SIGNATURE = TAGMANIFEST + ".sig"
TAG_FILES = ("bag-info.txt", "bagit.txt", MANIFEST)  # the files the tag manifest lists

#: bag-info.txt fields of our own (RFC 8493 allows any; repeated fields keep their order)
INPUT = "Inspector-Input"
CONSENT_FILE = "Inspector-Consent"
IDENTITIES_FILE = "Inspector-Identities"
TOLERANCE = "Inspector-Tolerance-Ms"
VERSION = "Inspector-Version"
CUSTODY_HEAD = "Inspector-Custody-Head"
KEY_FINGERPRINT = "Inspector-Signing-Key"
PUBLIC_KEY = "Inspector-Public-Key"
BAGGED_AT = "Inspector-Bagged-At"
SUMMARY = "Inspector-Findings"


def safe_name(name: str) -> str:
    """A file name that reads the same in a manifest, bag-info.txt and every file system."""
    cleaned = re.sub(r"[^A-Za-z0-9._+@=-]", "_", name).strip("._") or "file"
    return cleaned[:120]


def audit_payload(payload: Path, store: Store, inputs: Sequence[str], *,
                  consent: Sequence[str] = (), identities: Sequence[str] = (),
                  tolerance_ms: int = 0,
                  progress: Callable[[ImportProgress], None] | None = None,
                  cancel: CancelToken | None = None) -> tuple[AuditResult, dict]:
    """Import and audit the payload's files (names relative to ``payload``); returns the
    result and its JSON with payload-relative names."""
    load_inputs(store, [payload / name for name in inputs],
                consent=[payload / name for name in consent],
                identities=[payload / name for name in identities],
                progress=progress, cancel=cancel)
    result = run_audit(store, tolerance_ms=tolerance_ms, cancel=cancel)
    return result, relative_names(result.as_json(), payload)


def relative_names(value: Any, payload: Path) -> Any:
    """``value`` with the payload folder's absolute path taken out of every string."""
    prefix = str(payload.resolve()) + os.sep
    if isinstance(value, str):
        return value.replace(prefix, "")
    if isinstance(value, list):
        return [relative_names(item, payload) for item in value]
    if isinstance(value, dict):
        return {key: relative_names(item, payload) for key, item in value.items()}
    return value


def first_json_difference(a: Any, b: Any, where: str = "") -> str | None:
    """The first place two JSON values differ, as ``findings[2].flagged_events``; or None."""
    if type(a) is not type(b):
        return where or "(the whole document)"
    if isinstance(a, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{where}.{key}" if where else key
            found = first_json_difference(a[key], b[key], f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    if isinstance(a, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_json_difference(x, y, f"{where}[{index}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{where} (length {len(a)} vs {len(b)})"
    return None if a == b else where
