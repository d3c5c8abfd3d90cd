"""A redaction never harms what it was given, and leaves nothing behind when it fails.

The input is never written over (OUT is the input, inside it, holding it, or its record's
place); an existing OUT is replaced only with ``--force``; a copy that fails its check, a
cancelled run and bad input leave OUT as it was, with no staging folder beside it and no
scratch folder in the temporary directory; the input's bytes and mtime are untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.cli import main
from inspector.core.cancel import CancelToken
from inspector.core.errors import Cancelled, InspectorError, UsageError
from inspector.core.redact import RedactionFailed, redact
from inspector.core.redact.verify import ExpectedSession, _found, forms, verify

from .test_audit_support import T, click, link, meta, opt_out
from .test_redact_support import (
    EMAIL,
    ORDINARY,
    audit_exit,
    ndjson,
    planted,
    session_with_opt_out,
    write_archive,
    zip_folder,
)

OLD = 1_000_000_000_000_000_000  # an mtime in 2001, in ns: a write would change it


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """The temporary directory the redaction's scratch databases go to, watched by the test."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def archive(root: Path) -> Path:
    events, at = session_with_opt_out()
    return write_archive(root, [("s1", events, {"subject": "u-1"}),
                                ("s2", planted(T + 60_000), {"subject": "u-2"})],
                         consent=[opt_out("anon-1", at)], identities=[link("u-1", "anon-1")])


def rrweb_file(path: Path, events: list | None = None) -> Path:
    path.write_bytes(orjson.dumps(events if events is not None else planted(T)))
    return path


def listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of ``path`` (a file or a folder) with its bytes and mtime."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def age(path: Path) -> None:
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, ns=(OLD, OLD))


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(["redact", *argv])
    err = capsys.readouterr().err
    return code, err


def assert_one_line_naming(err: str, path: Path) -> None:
    assert err.startswith("inspector: error: ") and err.count("\n") == 1, err
    assert str(path) in err, err
    assert "Traceback" not in err


# -- never over the input --------------------------------------------------------------------

def test_out_is_the_input_file(tmp_path, capsys):
    source = rrweb_file(tmp_path / "rec.json")
    before = snapshot(source)
    code, err = run_cli(capsys, str(source), "-o", str(source), "--force")
    assert code == 2
    assert_one_line_naming(err, source)
    assert "never written over" in err
    assert snapshot(source) == before
    assert listing(tmp_path) == {"rec.json"}


def test_out_is_the_input_by_another_spelling(tmp_path, capsys, monkeypatch):
    source = rrweb_file(tmp_path / "rec.json")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    code, err = run_cli(capsys, str(source), "-o", "../rec.json", "--force")
    assert code == 2 and "never written over" in err
    assert snapshot(source)[str(source)][0] == orjson.dumps(planted(T))


@pytest.mark.parametrize("out", [".", "sessions", "sessions/new", "copy"])
def test_out_is_or_is_inside_the_input_folder(tmp_path, capsys, out):
    source = archive(tmp_path / "src")
    before, names = snapshot(source), listing(source)
    code, err = run_cli(capsys, str(source), "-o", str(source / out), "--force")
    assert code == 2
    assert "never written over" in err and err.count("\n") == 1
    assert snapshot(source) == before and listing(source) == names


def test_out_holding_the_input_is_refused_even_with_force(tmp_path, capsys):
    source = archive(tmp_path / "outer" / "src")
    (tmp_path / "outer" / "manifest.json").write_bytes(b"{}")  # looks like a previous copy
    before = snapshot(tmp_path / "outer")
    code, err = run_cli(capsys, str(source), "-o", str(tmp_path / "outer"), "--force")
    assert code == 2 and "holds the input" in err
    assert snapshot(tmp_path / "outer") == before


def test_out_whose_record_would_be_the_input(tmp_path, capsys):
    """A single file's record goes to OUT.redaction.json: that place may not be the input."""
    source = rrweb_file(tmp_path / "copy.json.redaction.json")
    code, err = run_cli(capsys, str(source), "-o", str(tmp_path / "copy.json"), "--force")
    assert code == 2 and "never written over" in err
    assert listing(tmp_path) == {"copy.json.redaction.json"}


def test_folder_to_write_into_must_exist(tmp_path, capsys):
    source = rrweb_file(tmp_path / "rec.json")
    out = tmp_path / "missing" / "copy.json"
    code, err = run_cli(capsys, str(source), "-o", str(out))
    assert code == 2
    assert_one_line_naming(err, out)
    assert not (tmp_path / "missing").exists()


def test_symlink_to_the_input_at_out_is_replaced_not_followed(tmp_path):
    source = rrweb_file(tmp_path / "rec.json")
    before = snapshot(source)
    out = tmp_path / "copy.json"
    out.symlink_to(source)
    with pytest.raises(UsageError, match="already exists"):
        redact(source, out)
    redact(source, out, mask_pii=True, force=True)
    assert not out.is_symlink() and EMAIL not in out.read_text()
    assert snapshot(source) == before


# -- an existing OUT -------------------------------------------------------------------------

def test_existing_out_file_needs_force_and_force_replaces_it(tmp_path, capsys):
    source = rrweb_file(tmp_path / "rec.json")
    out = tmp_path / "copy.json"
    out.write_bytes(b"precious")
    code, err = run_cli(capsys, str(source), "-o", str(out))
    assert code == 2
    assert_one_line_naming(err, out)
    assert "--force" in err
    assert out.read_bytes() == b"precious"
    assert listing(tmp_path) == {"rec.json", "copy.json"}
    code, _ = run_cli(capsys, str(source), "-o", str(out), "--force", "--mask-pii")
    assert code == 0
    assert len(orjson.loads(out.read_bytes())) == len(planted(T))
    assert ORDINARY in out.read_text()
    assert EMAIL not in out.read_text()
    assert listing(tmp_path) == {"rec.json", "copy.json", "copy.json.redaction.json"}


def test_existing_record_beside_out_needs_force(tmp_path, capsys):
    source = rrweb_file(tmp_path / "rec.json")
    (tmp_path / "copy.json.redaction.json").write_bytes(b"{}")
    code, err = run_cli(capsys, str(source), "-o", str(tmp_path / "copy.json"))
    assert code == 2 and "copy.json.redaction.json" in err
    assert not (tmp_path / "copy.json").exists()


def test_force_replaces_a_previous_copy_folder_but_no_other_folder(tmp_path, capsys):
    source = archive(tmp_path / "src")
    out = tmp_path / "out"
    assert run_cli(capsys, str(source), "-o", str(out))[0] == 0
    (out / "stale.txt").write_text("from an earlier copy")
    assert run_cli(capsys, str(source), "-o", str(out))[0] == 2
    assert (out / "stale.txt").exists()
    assert run_cli(capsys, str(source), "-o", str(out), "--force", "--mask-pii")[0] == 0
    assert not (out / "stale.txt").exists()
    assert audit_exit(capsys, out) == 0
    assert EMAIL not in (out / "sessions" / "s2.ndjson").read_text()
    other = tmp_path / "documents"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    code, err = run_cli(capsys, str(source), "-o", str(other), "--force")
    assert code == 2 and "not a replay archive" in err
    assert listing(other) == {"notes.txt"}


# -- failures leave nothing ------------------------------------------------------------------

def key_in_recording(tmp_path: Path) -> tuple[Path, Path]:
    """A recording whose ordinary text is also the pseudonymisation key: the copy would carry
    the key, which the check refuses."""
    source = rrweb_file(tmp_path / "rec.json")
    key = tmp_path / "key.txt"
    key.write_text(ORDINARY + "\n")
    return source, key


def test_copy_failing_its_check_leaves_nothing(tmp_path, capsys, scratch):
    source, key = key_in_recording(tmp_path)
    before = snapshot(source)
    out = tmp_path / "copy.json"
    code, err = run_cli(capsys, str(source), "-o", str(out), "--pseudonymize-key", str(key))
    assert code == 2 and err.count("\n") == 1
    assert "key would be in the redacted copy" in err
    assert ORDINARY not in err
    assert listing(tmp_path) == {"rec.json", "key.txt", "system-tmp"}
    assert listing(scratch) == set()
    assert snapshot(source) == before


def test_failed_check_leaves_a_previous_out_as_it_was(tmp_path, scratch):
    source, key = key_in_recording(tmp_path)
    out = tmp_path / "copy.json"
    out.write_bytes(b"previous copy")
    (tmp_path / "copy.json.redaction.json").write_bytes(b"previous record")
    with pytest.raises(RedactionFailed):
        redact(source, out, pseudonymize_key=key, force=True)
    assert out.read_bytes() == b"previous copy"
    assert (tmp_path / "copy.json.redaction.json").read_bytes() == b"previous record"
    assert listing(tmp_path) == {"rec.json", "key.txt", "copy.json", "copy.json.redaction.json",
                                 "system-tmp"}
    assert listing(scratch) == set()


def test_copy_that_would_be_empty_is_refused(tmp_path, capsys, scratch):
    events = [click(T + i, 40) for i in range(5)]
    source = write_archive(tmp_path / "src", [("s1", events, {"subject": "u-1"})],
                           consent=[opt_out("u-1", T - 1)])
    code, err = run_cli(capsys, str(source), "-o", str(tmp_path / "out"))
    assert code == 2 and "would be empty" in err
    assert listing(tmp_path) - listing(source) == {"src", "system-tmp"} | {
        f"src/{name}" for name in listing(source)}
    assert listing(scratch) == set()


def _expected() -> list[ExpectedSession]:
    events, _ = session_with_opt_out()
    return [ExpectedSession("s1", "u-1", None, len(events))]


def _hand_made_copy(tmp_path: Path, *, consent=True) -> Path:
    events, at = session_with_opt_out()
    return write_archive(tmp_path / "hand-made", [("s1", events, {"subject": "u-1"})],
                         consent=[opt_out("u-1", at)] if consent else ())


def _verify(tmp_path: Path, copy: Path, expected: list[ExpectedSession], *,
            values: set[str] = frozenset(), secrets: list[bytes] = ()) -> None:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    verify(copy, expected=expected, ledger=None, settable_keys=False, tolerance_ms=0,
           values=set(values), secrets=list(secrets),
           files=sorted(p for p in copy.rglob("*") if p.is_file()), workspace=work,
           cancel=CancelToken())


def test_verify_refuses_a_copy_that_still_holds_flagged_events(tmp_path):
    copy = _hand_made_copy(tmp_path)
    with pytest.raises(RedactionFailed, match=r"still flags \d+ events"):
        _verify(tmp_path, copy, _expected())


def test_verify_refuses_a_copy_that_still_holds_personal_data(tmp_path):
    copy = _hand_made_copy(tmp_path, consent=False)
    _verify(tmp_path, copy, _expected())  # as it is: passes
    with pytest.raises(RedactionFailed, match="1 personal-data values"):
        _verify(tmp_path, copy, _expected(), values={EMAIL.upper()})
    # Found escaped too: here the address is only in a page URL, percent-encoded.
    escaped = write_archive(tmp_path / "escaped", [("s1", [
        meta(T, f"https://shop.example/?e={quote(EMAIL)}"), click(T + 1, 40)], {})])
    expected = [ExpectedSession("s1", None, None, 2)]
    _verify(tmp_path, escaped, expected)
    with pytest.raises(RedactionFailed, match="1 personal-data values"):
        _verify(tmp_path, escaped, expected, values={EMAIL})


_value = st.text(alphabet="ab@.%c &", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.sets(_value, max_size=6), st.text(alphabet="ab@.%c4 &;#x\\u0", max_size=60))
def test_one_pass_search_finds_what_a_search_per_form_finds(values, haystack):
    haystack = haystack.lower()
    expected = {v for v in values if any(form in haystack for form in forms(v))}
    assert _found(values, haystack) == expected


def test_one_pass_search_counts_values_sharing_a_form():
    haystack = f"x {EMAIL.replace('@', '%40')} y"
    assert _found({EMAIL, EMAIL.upper(), "nobody@else.example"}, haystack) == \
        {EMAIL, EMAIL.upper()}
    assert _found(set(), haystack) == set()


def test_verify_refuses_a_copy_holding_the_key_or_other_events(tmp_path):
    copy = _hand_made_copy(tmp_path, consent=False)
    with pytest.raises(RedactionFailed, match="key would be in"):
        _verify(tmp_path, copy, _expected(), secrets=[ORDINARY.encode()])
    wrong_count = [ExpectedSession("s1", "u-1", None, len(session_with_opt_out()[0]) - 1)]
    with pytest.raises(RedactionFailed, match="events where"):
        _verify(tmp_path, copy, wrong_count)
    wrong_subject = [ExpectedSession("s1", "someone-else", None,
                                     len(session_with_opt_out()[0]))]
    with pytest.raises(RedactionFailed, match="does not carry its subject"):
        _verify(tmp_path, copy, wrong_subject)
    (copy / "sessions" / "s1.ndjson").write_bytes(b"not json at all\n")
    with pytest.raises(RedactionFailed, match="does not import"):
        _verify(tmp_path, copy, _expected())


@pytest.mark.parametrize("stage", ["importing", "auditing", "writing", "verifying"])
@pytest.mark.parametrize("container", ["folder", "zip", "file"])
def test_cancel_at_any_stage_leaves_nothing(tmp_path, scratch, stage, container):
    source = archive(tmp_path / "src")
    if container == "zip":
        source = zip_folder(source, tmp_path / "src.zip")
    elif container == "file":
        source = rrweb_file(tmp_path / "rec.json", session_with_opt_out()[0])
    before = snapshot(source)
    names = listing(tmp_path)
    token = CancelToken()
    seen = []

    def progress(step):
        seen.append(step.stage)
        if step.stage == stage:
            token.cancel()

    out = tmp_path / ("copy.zip" if container == "zip" else "copy")
    with pytest.raises(Cancelled):
        redact(source, out, mask_pii=True, progress=progress, cancel=token)
    assert stage in seen
    assert listing(tmp_path) == names
    assert listing(scratch) == set()
    assert snapshot(source) == before


# -- the input is only read ------------------------------------------------------------------

@pytest.mark.parametrize("container", ["folder", "zip", "file", "gzip"])
def test_input_bytes_and_mtime_unchanged(tmp_path, capsys, container):
    source = archive(tmp_path / "src")
    if container == "zip":
        source = zip_folder(source, tmp_path / "src.zip")
    elif container in ("file", "gzip"):
        import gzip

        body = ndjson(session_with_opt_out()[0])
        source = tmp_path / "rec.ndjson"
        source.write_bytes(gzip.compress(body) if container == "gzip" else body)
    age(source)
    before, names = snapshot(source), listing(source) if source.is_dir() else set()
    key = tmp_path / "key.txt"
    key.write_bytes(os.urandom(32).hex().encode())
    out = tmp_path / "copy"
    code, _ = run_cli(capsys, str(source), "-o", str(out), "--mask-pii",
                      "--pseudonymize-key", str(key))
    assert code == 0 and out.exists()
    assert snapshot(source) == before
    assert all(mtime == OLD for _, mtime in before.values())
    if source.is_dir():
        assert listing(source) == names
        assert source.stat().st_mtime_ns == OLD


# -- bad input -------------------------------------------------------------------------------

def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    binary = tmp_path / "noise.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    truncated = tmp_path / "cut.ndjson.gz"
    import gzip

    truncated.write_bytes(gzip.compress(ndjson(planted(T)))[:200])
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    folder = tmp_path / "loose"
    folder.mkdir()
    rrweb_file(folder / "a.json")
    plain_zip = tmp_path / "plain.zip"
    shutil.make_archive(str(plain_zip.with_suffix("")), "zip", folder)
    bad_manifest = write_archive(tmp_path / "badsha", [("s1", planted(T), {})])
    manifest = orjson.loads((bad_manifest / "manifest.json").read_bytes())
    manifest["sessions"][0]["sha256"] = "0" * 64
    (bad_manifest / "manifest.json").write_bytes(orjson.dumps(manifest))
    return {"missing": tmp_path / "nowhere.json", "binary": binary, "truncated": truncated,
            "empty": empty, "folder": folder, "zip": plain_zip, "manifest": bad_manifest}


@pytest.mark.parametrize("kind", ["missing", "binary", "truncated", "empty", "folder", "zip",
                                  "manifest"])
def test_bad_input_one_line_naming_the_file(tmp_path, capsys, scratch, kind):
    path = _bad_inputs(tmp_path)[kind]
    names = listing(tmp_path)
    out = tmp_path / "copy"
    code, err = run_cli(capsys, str(path), "-o", str(out))
    assert code == 2
    assert_one_line_naming(err, path)
    assert listing(tmp_path) == names
    assert listing(scratch) == set()


def test_bad_consent_file_names_it(tmp_path, capsys, scratch):
    source = rrweb_file(tmp_path / "rec.json")
    consent = tmp_path / "consent.ndjson"
    consent.write_bytes(b'{"subject": "u-1", "action": "maybe", "at": 1}\n')
    code, err = run_cli(capsys, str(source), "-o", str(tmp_path / "copy.json"), "--consent",
                        str(consent))
    assert code == 2
    assert_one_line_naming(err, consent)
    assert listing(tmp_path) == {"rec.json", "consent.ndjson", "system-tmp"}


def test_bad_tolerance_is_a_usage_error(tmp_path):
    source = rrweb_file(tmp_path / "rec.json")
    with pytest.raises(InspectorError, match="tolerance"):
        redact(source, tmp_path / "copy.json", tolerance_ms=-1)
    assert listing(tmp_path) == {"rec.json"}
