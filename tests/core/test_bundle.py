"""Evidence bundles: a valid BagIt bag of the untouched originals, and any changed byte caught.

Real bundles of the sample archive, real zips, real keys; a tampered bundle is made the way
someone would tamper with it (a byte flipped in the zip, or a member changed and the zip
written again so that its CRCs hold).
"""

from __future__ import annotations

import base64
import shutil
import zipfile
from pathlib import Path

import bagit
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspector.cli import main
from inspector.core.bundle import container, layout, make_bundle, verify_bundle
from inspector.core.bundle.keys import generate_key_pair
from inspector.core.errors import InputError, UsageError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "demo-archive.zip"
EXPECTED = orjson.loads((ROOT / "sample_data" / "expected.json").read_bytes())


def cli(*argv: str) -> int:
    """``inspector ARGS``, through the real entry point."""
    return main(list(argv))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "evidence.zip"
    make_bundle([SAMPLE], out)
    return out


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory) -> tuple[Path, Path]:
    private, public, _ = generate_key_pair(tmp_path_factory.mktemp("keys") / "signing")
    return private, public


@pytest.fixture(scope="module")
def signed(tmp_path_factory, key_pair) -> Path:
    out = tmp_path_factory.mktemp("signed") / "signed.zip"
    make_bundle([SAMPLE], out, sign_key=key_pair[0])
    return out


def unpack(bundle: Path, dest: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(dest)
    (top,) = list(dest.iterdir())
    return top


def repack(root: Path, out: Path) -> Path:
    """The bag written back as a bundle zip, as inspector writes one: only contents differ."""
    container.write_zip(root, root.name, out)
    return out


def test_bundle_is_a_valid_bag_of_the_untouched_originals(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    root = unpack(bundle, tmp_path)
    assert root.name == "evidence"
    bag = bagit.Bag(str(root))
    bag.validate()  # every payload sha256, Payload-Oxum, tag manifest
    assert bag.algorithms == ["sha256"]
    data = root / "data"
    assert (data / "originals" / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()
    assert sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()) == [
        "custody.json", "findings.json", "originals/demo-archive.zip", "report.html"]
    findings = orjson.loads((data / "findings.json").read_bytes())
    assert findings["flagged_events"] == EXPECTED["totals"]["flagged_events"]
    assert findings["tolerance_ms"] == 0
    locations = {c["location"] for f in findings["findings"] for c in f["consent"]
                 if c["origin"] == "ledger"}
    assert locations and all(loc.startswith("originals/demo-archive.zip!") for loc in locations)
    assert str(tmp_path) not in (data / "findings.json").read_text()
    assert "<html" in (data / "report.html").read_text().lower()
    log = orjson.loads((data / "custody.json").read_bytes())
    operations = [e["operation"] for e in log["entries"]]
    assert operations[:2] == ["import", "audit"]
    assert log["entries"][0]["inputs"][0]["sha256"] == \
        bag.entries["data/originals/demo-archive.zip"]["sha256"]
    assert bag.info[layout.CUSTODY_HEAD] == log["head"] and log["intact"]
    assert bag.info[layout.INPUT] == "originals/demo-archive.zip"
    assert bag.info[layout.TOLERANCE] == "0"
    assert bag.info["Bag-Software-Agent"].startswith("session-replay-inspector ")
    assert "Bagging-Date" in bag.info and layout.KEY_FINGERPRINT not in bag.info
    assert not (root / layout.SIGNATURE).exists()


def test_verify_passes_and_audits_again(bundle: Path) -> None:
    report = verify_bundle(bundle)
    assert report.ok, report.failure
    assert report.failure is None and report.signed_by is None
    assert report.passed[-1].startswith("audit run again: the same findings (2934 flagged")


MEMBERS = ["data/originals/demo-archive.zip", "data/findings.json", "data/report.html",
           "data/custody.json", "manifest-sha256.txt", "tagmanifest-sha256.txt", "bag-info.txt",
           "bagit.txt"]


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_one_byte_changed_in_any_member_fails_naming_it(bundle: Path, tmp_path: Path,
                                                        member: str, where: str) -> None:
    root = unpack(bundle, tmp_path / "x")
    target = root / member
    data = bytearray(target.read_bytes())
    index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[index] ^= 0x01
    target.write_bytes(bytes(data))
    report = verify_bundle(repack(root, tmp_path / "tampered.zip"))
    assert not report.ok
    assert member in report.failure
    assert "\n" not in report.failure


def test_a_byte_flipped_anywhere_in_the_zip_fails(bundle: Path, tmp_path: Path) -> None:
    raw = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as zf:
        headers = [i.header_offset for i in zf.infolist()]
        directory = zf.start_dir
    offsets = set(range(0, len(raw), len(raw) // 40))
    for start in headers[:3]:
        offsets.update(range(start, start + 30, 3))  # local headers: every field
    offsets.update(range(directory, directory + 46, 3))  # a central directory entry
    offsets.update(range(len(raw) - 22, len(raw)))  # the end of central directory record
    tampered = tmp_path / "tampered.zip"
    undetected = []
    for offset in sorted(offsets):
        flipped = bytearray(raw)
        flipped[offset] ^= 0x01
        tampered.write_bytes(bytes(flipped))
        report = verify_bundle(tampered)
        if report.ok:
            undetected.append(offset)
    assert undetected == []


def test_an_added_or_removed_file_fails_naming_it(bundle: Path, tmp_path: Path) -> None:
    root = unpack(bundle, tmp_path / "a")
    (root / "data" / "originals" / "extra.ndjson").write_bytes(b"{}\n")
    report = verify_bundle(repack(root, tmp_path / "added.zip"))
    assert not report.ok and "data/originals/extra.ndjson" in report.failure
    root = unpack(bundle, tmp_path / "b")
    (root / "data" / "report.html").unlink()
    report = verify_bundle(repack(root, tmp_path / "removed.zip"))
    assert not report.ok and "data/report.html" in report.failure
    root = unpack(bundle, tmp_path / "c")
    (root / "notes.txt").write_text("added later\n")
    report = verify_bundle(repack(root, tmp_path / "tag.zip"))
    assert not report.ok and "notes.txt" in report.failure


def test_findings_forged_with_every_hash_recomputed_fail_the_audit_again(
        bundle: Path, tmp_path: Path) -> None:
    root = unpack(bundle, tmp_path / "x")
    findings_path = root / "data" / "findings.json"
    findings = orjson.loads(findings_path.read_bytes())
    findings["findings"][0]["flagged_events"] -= 1
    findings_path.write_bytes(orjson.dumps(findings, option=orjson.OPT_INDENT_2) + b"\n")
    bagit.Bag(str(root)).save(manifests=True)  # a consistent forgery: manifests rewritten
    report = verify_bundle(repack(root, tmp_path / "forged.zip"))
    assert not report.ok
    assert "data/findings.json" in report.failure and "findings[0].flagged_events" in \
        report.failure


def test_signed_bundle_verifies_with_its_key_only(signed: Path, key_pair, tmp_path: Path
                                                  ) -> None:
    public = key_pair[1]
    report = verify_bundle(signed, public_key=public)
    assert report.ok, report.failure
    assert report.key_checked and report.signed_by.startswith("SHA256:")
    assert any(line.startswith("signature: valid, by the key given") for line in report.passed)
    alone = verify_bundle(signed)  # no key: checked against the key it carries, and said so
    assert alone.ok and not alone.key_checked
    _, other, _ = generate_key_pair(tmp_path / "other")
    wrong = verify_bundle(signed, public_key=other)
    assert not wrong.ok and "not by the key given" in wrong.failure
    assert layout.SIGNATURE in wrong.failure


def test_signed_bundle_stops_a_forger_who_recomputes_every_hash(signed: Path, key_pair,
                                                                tmp_path: Path) -> None:
    root = unpack(signed, tmp_path / "x")
    report_path = root / "data" / "report.html"
    report_path.write_text(report_path.read_text().replace("flagged", "fIagged", 1))
    bagit.Bag(str(root)).save(manifests=True)
    forged = repack(root, tmp_path / "forged.zip")
    result = verify_bundle(forged, public_key=key_pair[1])
    assert not result.ok
    assert "the signature does not match tagmanifest-sha256.txt" in result.failure


def test_signature_removed_or_changed_fails(signed: Path, tmp_path: Path) -> None:
    root = unpack(signed, tmp_path / "x")
    signature = root / layout.SIGNATURE
    text = signature.read_bytes()
    signature.write_bytes(base64.b64encode(bytes([base64.b64decode(text)[0] ^ 1])
                                           + base64.b64decode(text)[1:]) + b"\n")
    report = verify_bundle(repack(root, tmp_path / "changed.zip"))
    assert not report.ok and layout.SIGNATURE in report.failure
    signature.unlink()
    report = verify_bundle(repack(root, tmp_path / "removed.zip"))
    assert not report.ok and f"{layout.SIGNATURE}: missing" in report.failure


def test_a_key_given_for_an_unsigned_bundle_is_refused(bundle: Path, key_pair) -> None:
    report = verify_bundle(bundle, public_key=key_pair[1])
    assert not report.ok and "not signed" in report.failure


def test_raw_32_byte_keys_sign_and_verify(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    (tmp_path / "seed").write_bytes(key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption()))
    (tmp_path / "pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    out = tmp_path / "raw.zip"
    make_bundle([SAMPLE], out, sign_key=tmp_path / "seed")
    assert verify_bundle(out, public_key=tmp_path / "pub").ok


def test_a_bad_key_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("not a key\n")
    out = tmp_path / "out.zip"
    with pytest.raises(InputError, match="not an Ed25519 private key"):
        make_bundle([SAMPLE], out, sign_key=tmp_path / "key")
    assert list(tmp_path.iterdir()) == [tmp_path / "key"]


def test_an_existing_out_is_refused_unless_forced(bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence.zip"
    out.write_bytes(b"keep me")
    with pytest.raises(UsageError, match="already exists"):
        make_bundle([SAMPLE], out)
    assert out.read_bytes() == b"keep me"
    assert list(tmp_path.iterdir()) == [out]
    make_bundle([SAMPLE], out, force=True)
    assert zipfile.ZipFile(out).read("evidence/data/originals/demo-archive.zip") == \
        SAMPLE.read_bytes()
    assert list(tmp_path.iterdir()) == [out]


def test_inputs_are_never_written_over(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "a.zip")
    with pytest.raises(UsageError, match="inside one"):
        make_bundle([folder], folder / "evidence.zip")
    with pytest.raises(InputError, match="does not exist"):
        make_bundle([tmp_path / "missing.zip"], tmp_path / "out.zip")
    assert sorted(tmp_path.iterdir()) == [folder]


def test_consent_files_and_folders_are_bundled_and_verified(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    (folder / "deep").mkdir(parents=True)
    with zipfile.ZipFile(SAMPLE) as zf:
        (folder / "deep" / "erin.json").write_bytes(
            zf.read("sessions/018e4405-ddf9-7520-a265-6488ba3b86dd.json"))
        ledger = zf.read("consent.ndjson")
    (tmp_path / "consent.ndjson").write_bytes(ledger)
    out = tmp_path / "out.zip"
    make_bundle([folder], out, consent=[tmp_path / "consent.ndjson"], tolerance_ms=5)
    root = unpack(out, tmp_path / "x")
    assert (root / "data/originals/exports/deep/erin.json").read_bytes() == \
        (folder / "deep" / "erin.json").read_bytes()
    assert (root / "data/consent/consent.ndjson").read_bytes() == ledger
    info = bagit.Bag(str(root)).info
    assert info[layout.CONSENT_FILE] == "consent/consent.ndjson"
    assert info[layout.TOLERANCE] == "5"
    report = verify_bundle(out)
    assert report.ok, report.failure
    assert "tolerance 5 ms" in report.passed[-1]


def test_cli_bundle_verify_and_keygen(tmp_path: Path, capsys) -> None:
    key = tmp_path / "signing"
    assert cli("keygen", str(key)) == 0
    assert key.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "signing.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert cli("keygen", str(key)) == 2
    assert "already exists" in capsys.readouterr().err
    out = tmp_path / "evidence.zip"
    assert cli("bundle", str(SAMPLE), "-o", str(out), "--sign-key", str(key)) == 0
    printed = capsys.readouterr()
    assert f"bundle {out}" in printed.out and "signed by SHA256:" in printed.out
    assert printed.err == ""
    assert cli("verify", str(out), "--public-key", str(tmp_path / "signing.pub")) == 0
    assert f"verified: {out}" in capsys.readouterr().out
    assert cli("bundle", str(SAMPLE), "-o", str(out)) == 2
    assert "already exists" in capsys.readouterr().err
    raw = bytearray(out.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    out.write_bytes(bytes(raw))
    assert cli("verify", str(out), "--json") == 2
    printed = capsys.readouterr()
    assert orjson.loads(printed.out)["ok"] is False
    (line,) = printed.err.splitlines()
    assert line.startswith(f"inspector: error: {out}: data/")


def test_progress_and_cancel_leave_nothing_at_out(tmp_path: Path) -> None:
    from inspector.core.cancel import CancelToken
    from inspector.core.errors import Cancelled

    token = CancelToken()
    stages: list[str] = []

    def progress(p) -> None:
        stages.append(p.stage)
        assert 0.0 <= p.fraction <= 1.0
        if p.stage == "importing":
            token.cancel()

    with pytest.raises(Cancelled):
        make_bundle([SAMPLE], tmp_path / "out.zip", progress=progress, cancel=token)
    assert stages[0] == "copying" and "importing" in stages
    assert list(tmp_path.iterdir()) == []
