"""The redaction record: what a copy says about how it was made, checked against the copy.

For every container the record must name the source by its sha256, give the options and the
tool version, count what was removed and masked per rule (consistently with the copy), and
hold the sha256 of every other file of the copy — recomputed here from the files themselves.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import orjson
import pytest

from inspector import __version__
from inspector.core.formats.replay_archive import folder_sha256
from inspector.core.redact import redact
from inspector.core.sources import sha256_file

from .test_audit_support import opt_out
from .test_redact_support import (
    CARD,
    EMAIL,
    imported,
    ndjson,
    posthog_export,
    session_with_opt_out,
    write_archive,
    zip_folder,
)

TOLERANCE = 5


def source_in(tmp_path: Path, container: str) -> tuple[Path, Path, str]:
    """(input, OUT, the input's sha256 as the record must give it)."""
    events, _ = session_with_opt_out()
    if container in ("folder", "zip"):
        folder = write_archive(tmp_path / "src", [("s1", events, {"subject": "u-1"})],
                               encodings={"s1": ".ndjson.gz"})
        if container == "folder":
            return folder, tmp_path / "out", folder_sha256(folder)
        source = zip_folder(folder, tmp_path / "src.zip")
        return source, tmp_path / "out.zip", sha256_file(source)
    source = tmp_path / "export.json.gz"
    source.write_bytes(gzip.compress(orjson.dumps(
        posthog_export(events, version="2022-12-02", person_ids=["u-1"]))))
    return source, tmp_path / "out.json.gz", sha256_file(source)


def record_and_files(out: Path) -> tuple[dict, dict[str, str]]:
    """The record, and the sha256 of every other file of the copy, computed here."""
    if out.is_dir():
        return (orjson.loads((out / "redaction.json").read_bytes()),
                {p.relative_to(out).as_posix(): sha256_file(p) for p in out.rglob("*")
                 if p.is_file() and p.name != "redaction.json"})
    if zipfile.is_zipfile(out):
        with zipfile.ZipFile(out) as bundle:
            return (orjson.loads(bundle.read("redaction.json")),
                    {name: hashlib.sha256(bundle.read(name)).hexdigest()
                     for name in bundle.namelist() if name != "redaction.json"})
    return orjson.loads(Path(f"{out}.redaction.json").read_bytes()), {out.name: sha256_file(out)}


@pytest.mark.parametrize("container", ["folder", "zip", "file"])
def test_record_fields_and_file_hashes(tmp_path, container):
    source, out, digest = source_in(tmp_path, container)
    _, at = session_with_opt_out()
    consent = tmp_path / "ledger.ndjson"
    consent.write_bytes(ndjson([opt_out("u-1", at)]))
    key = tmp_path / "key.txt"
    key.write_bytes(b"0123456789abcdef0123456789abcdef")
    result = redact(source, out, consent=consent, tolerance_ms=TOLERANCE, mask_pii=True,
                    pseudonymize_key=key)
    record, files = record_and_files(out)
    assert record == result.record
    assert record["format"] == "inspector-redaction-record" and record["version"] == 1
    assert record["tool"] == f"session-replay-inspector {__version__}"
    assert record["source"]["sha256"] == digest and record["source"]["name"] == source.name
    options = record["options"]
    assert options["consent"] == [{"file": "ledger.ndjson", "sha256": sha256_file(consent),
                                   "records": 1}]
    assert options["identities"] == []
    assert (options["tolerance_ms"], options["mask_pii"], options["force"]) == \
        (TOLERANCE, True, False)
    assert len(options["pseudonymize"]["key_id"]) == 16
    # Every file of the copy, and only those, with its sha256.
    assert record["files"] == files and files
    # Counts agree with the copy and with themselves.
    counts = record["counts"]
    copy_events = sum(len(rows) for rows in imported(tmp_path, out)["events"].values())
    assert counts["events"] == {"source": len(session_with_opt_out()[0]), "copy": copy_events}
    removed = counts["removed"]
    assert counts["events"]["source"] - counts["events"]["copy"] == \
        removed["flagged"] + removed["undetermined"] + removed["dependent"]["events"] + \
        removed["unreadable_records"]
    # With the tolerance the opt-out click itself is kept; the typed value and the click after
    # go, and the batch straddling the opt-out keeps its first two positions.
    assert removed["flagged"] == 2
    assert removed["positions"] == {"batches_trimmed": 1, "positions_removed": 2}
    assert sum(removed["flagged_by_category"].values()) == \
        removed["flagged"] + removed["positions"]["batches_trimmed"]
    masked = counts["masked"]
    assert masked["total"] == sum(masked["by_kind"].values()) == \
        sum(sum(kinds.values()) for kinds in masked["by_channel"].values())
    assert {"email", "card", "phone", "password", "iban", "national_id"} <= \
        set(masked["by_kind"])
    assert {"input", "text", "attribute", "console", "network", "custom"} <= \
        set(masked["by_channel"])
    assert masked["sensitive_fields"] == 4
    # The subject, and for the PostHog export its person's uuid too.
    assert counts["pseudonymized"]["keys"] == (2 if container == "file" else 1)
    text = orjson.dumps(record).decode()
    assert EMAIL not in text and CARD not in text and "u-1" not in text
    assert "0123456789abcdef" not in text


def test_record_hashes_catch_a_changed_file(tmp_path):
    """The hashes are of the files as written: a file changed afterwards no longer matches."""
    source, out, _ = source_in(tmp_path, "folder")
    redact(source, out)
    record, files = record_and_files(out)
    assert record["files"] == files
    (out / "manifest.json").write_bytes((out / "manifest.json").read_bytes() + b" ")
    assert record_and_files(out)[1] != record["files"]


def test_force_is_recorded(tmp_path):
    source, out, _ = source_in(tmp_path, "file")
    out.write_bytes(b"old")
    result = redact(source, out, force=True)
    assert result.record["options"]["force"] is True
    assert result.record["options"]["pseudonymize"] is None
    assert "masked" not in result.record["counts"]
