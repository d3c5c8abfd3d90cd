"""The custody log's entry for a redaction: what went in, what came out, what was done.

A redaction works in a scratch database that is thrown away, so its caller (the command line,
the app) records it in a lasting log with these references.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..sources import sha256_file


def custody_refs(source: str | os.PathLike[str], result: Any) -> dict[str, Any]:
    """``inputs``, ``outputs`` and ``details`` for :func:`inspector.core.custody.append` of
    the :class:`~inspector.core.redact.RedactionResult` of redacting ``source``."""
    record = result.record
    out = Path(result.out)
    if out.is_dir():
        outputs = [(str(out / name), digest) for name, digest in sorted(record["files"].items())]
        outputs += [(str(path), sha256_file(path)) for path in sorted(out.rglob("*"))
                    if path.is_file() and path.relative_to(out).as_posix() not in record["files"]]
    else:
        outputs = [(str(out), sha256_file(out))]
        if result.record_path is not None:
            outputs.append((str(result.record_path), sha256_file(result.record_path)))
    counts = record["counts"]
    options = record["options"]
    details = {"tolerance_ms": options.get("tolerance_ms"), "mask_pii": options.get("mask_pii"),
               "pseudonymize": options.get("pseudonymize"), "events": counts["events"],
               "sessions": counts["sessions"], "flagged_removed": result.flagged_removed,
               "masked": result.masked}
    return {"inputs": [(str(Path(source).resolve()), record["source"]["sha256"])],
            "outputs": outputs, "details": details}
