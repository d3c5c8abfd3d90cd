"""The auditor's report on the sample data: it names every planted finding, states its inputs,
method, aggregates (with denominators) and limitations, and holds no raw personal data.

The personal data it must not hold is read from the sample's own events here (every value the
detector finds, and every value typed into a field), in every escaped form a document could
carry it in.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from html import escape, unescape
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson
import pytest

from inspector import __version__
from inspector.cli import main as cli_main
from inspector.core import custody
from inspector.core.audit import run_audit
from inspector.core.errors import UsageError
from inspector.core.importer import import_paths
from inspector.core.pii import find_pii
from inspector.core.report import SECTIONS, make_report, render_html, write_report
from inspector.core.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
GENERATED = datetime(2024, 4, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with Store(tmp_path_factory.mktemp("report") / "sample.duckdb") as opened:
        import_paths(opened, [SAMPLE / "demo-archive.zip"])
        yield opened


@pytest.fixture(scope="module")
def audit(store):
    return run_audit(store)


@pytest.fixture(scope="module")
def report(store, audit):
    return make_report(store, audit=audit, generated_at=GENERATED)


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_html(report)


def raw_values(store: Store) -> set[str]:
    """Every piece of personal data in the recorded events, and every value typed that could
    be some (a name, an address, a password: 8+ characters with a capital or a digit; search
    words such as "waterproof" are also in product URLs, which a report may show)."""
    values: set[str] = set()
    typed: set[str] = set()
    con = store.cursor()
    try:
        rows = con.execute("SELECT type, source, data FROM events").fetchall()
    finally:
        con.close()
    for kind, source, data in rows:
        for match in find_pii(data):
            values.add(match.value)
            values.add(data[match.start:match.end])
        if kind == 3 and source == 5:
            text = orjson.loads(data).get("text")
            if isinstance(text, str) and len(text) >= 8 \
                    and any(c.isupper() or c.isdigit() for c in text):
                typed.add(text)
    # What was typed in the end, not each keystroke on the way ("Alice Mor" of "Alice Moreau").
    values |= {text for text in typed
               if not any(other != text and other.startswith(text) for other in typed)}
    return {value for value in values if len(value) >= 6}


def forms(value: str) -> set[str]:
    """The ways a document could carry ``value``: as is, HTML-, URL- or JSON-escaped, and a
    number without its separators."""
    out = {value, escape(value), escape(value, quote=False), quote(value), quote_plus(value),
           json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    digits = re.sub(r"[\s\-./()]", "", value)
    if sum(c.isdigit() for c in digits) >= 8:
        out.add(digits)
    return out


def leaks(text: str, values: set[str]) -> list[str]:
    """The values found in ``text``, also with its white space removed (line wrapping)."""
    squeezed = re.sub(r"\s+", "", text)
    return sorted(v for v in values for form in forms(v)
                  if form in text or re.sub(r"\s+", "", form) in squeezed)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [part for part in parser.parts if part.strip()]


def test_names_each_planted_finding(report, html, expected):
    planted = [s for s in expected["sessions"] if s["flagged_seqs"]]
    assert planted
    by_session = {s.session_id: (person, s) for person in report.people for s in person.sessions}
    for session in planted:
        person, line = by_session[session["session_id"]]
        where = f"{session['label']} {session['session_id']}"
        assert line.flagged_events == len(session["flagged_seqs"]), where
        assert session["session_id"] in html, where
        assert f"Person <code>{person.key}</code>" in html, where
    affected = [p for p in report.people if p.flagged_events]
    assert sum(p.flagged_events for p in affected) == expected["totals"]["flagged_events"]
    # The sessions nobody should find are not in the findings.
    clean = {s["session_id"] for s in expected["sessions"]
             if not s["flagged_seqs"] and not s["undetermined_seqs"]}
    assert not clean & set(by_session)


def test_each_person_has_the_opt_out_timing_categories_and_personal_data_kinds(report,
                                                                               expected):
    alice = next(p for p in report.people if p.key == "u_10428")
    assert [o.source for o in alice.opt_outs] == ["privacy_center"]
    assert alice.first_delay_ms == 0  # the flagged click is at the opt-out instant
    assert alice.first_ms == alice.opt_outs[0].at_ms
    assert alice.last_delay_ms == alice.captured_after_ms > 3 * 86_400_000
    assert alice.undetermined_events == 1
    alice_sessions = [s for s in expected["sessions"] if s["person"] == "alice"
                      and s["flagged_seqs"]]
    kinds = {kind for s in alice_sessions for kind in s["pii_kinds"]}
    labels = {"email": "e-mail address", "phone": "phone number", "card": "payment card",
              "iban": "IBAN", "national_id": "national id number", "password": "password"}
    assert {label for label, _ in alice.pii} == {labels[k] for k in kinds}
    assert all(count > 0 for _, count in alice.pii)
    dan_gpc = next(p for p in report.people if p.key == "dev_e3b59d07")
    assert [o.source for o in dan_gpc.opt_outs] == ["gpc"]
    assert dan_gpc.first_delay_ms > 86_400_000  # recorded a day after the device opted out
    frank = next(p for p in report.people if p.key == "u_60415")
    assert frank.opt_outs[0].ended_at_ms is not None
    assert ("opt-in" in {kind for _, kind in frank.chart.marks})


def test_no_raw_personal_data_in_the_report_or_its_model(store, report, html):
    values = raw_values(store)
    assert len(values) > 20  # the sample is full of it: the check below can fail
    assert not leaks(html, values)
    assert not leaks(unescape(html), values)
    assert not leaks(repr(report), values)
    # And the detector itself finds nothing in what a reader sees.
    found = [(text, match.kind) for text in visible_text(html) for match in find_pii(text)]
    assert not found


def test_header_inputs_method_and_limitations(report, html, expected):
    for _, heading in SECTIONS:
        assert f">{heading}</h2>" in html
    assert f"Session Replay Inspector {__version__}" in html
    assert "2024-04-02 09:30:00 UTC" in html
    assert "Tolerance</th><td>0 ms" in html
    assert expected["archive_sha256"] in html
    (archive,) = report.inputs
    assert (archive.sessions, archive.events) == (15, expected["totals"]["events"])
    assert archive.size_bytes == (SAMPLE / "demo-archive.zip").stat().st_size
    assert "fernhill-replay-export" in archive.recorder
    assert "rrweb/network@1" in archive.recorder
    assert archive.first_ms < archive.last_ms
    for package in ("python-stdnum", "phonenumbers"):
        assert f"<td>{package}</td><td>{version(package)}</td>" in html
    for rule in ("Keys and people", "Scope", "Intervals", "In-band markers", "Flagging",
                 "Tolerance", "Undetermined events"):
        assert f"<b>{rule}.</b>" in html
    limitations = " ".join(report.limitations)
    assert "Images are not examined" in limitations
    assert "Canvas pixels are not examined" in limitations
    assert "1 event in 1 session had no usable timestamp" in limitations


def test_aggregates_state_their_denominators(report, html, expected):
    a = report.aggregates
    totals = expected["totals"]
    assert (a.people_affected.part, a.people_affected.whole) == (4, 5)
    assert (a.sessions_affected.part, a.sessions_affected.whole) == (
        totals["flagged_sessions"], totals["sessions"])
    assert (a.events_flagged.part, a.events_flagged.whole) == (
        totals["flagged_events"], totals["events"])
    assert a.capture_people == 4
    captures = sorted(p.captured_after_ms for p in report.people if p.flagged_events)
    assert a.median_capture_ms == round((captures[1] + captures[2]) / 2)
    assert a.max_capture_ms == captures[-1]
    assert "4 of 5 (80 %)" in html
    assert f"{totals['flagged_events']:,} of {totals['events']:,}" in html
    assert "n = 4 people" in html
    console = next(c for c in a.categories if c.label == "console")
    assert (console.people.part, console.people.whole) == (3, 4)  # dan-2 logged nothing
    assert console.events.whole == totals["flagged_events"]
    assert "3 of 4 (75 %)" in html


def test_the_document_fetches_and_runs_nothing(html):
    assert "<script" not in html.lower()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""\b(?:src|href)\s*=\s*["'](?!#)""", html)
    assert "url(" not in html and "@import" not in html
    assert html.count("<svg") == 4  # one chart per affected person


def test_an_audit_with_no_findings(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store:
        result = run_audit(store)
        report = make_report(store, audit=result)
        html = render_html(report)
    assert report.people == []
    assert "Nothing was recorded while a person was opted out." in html
    assert "0 of 0 (n/a)" in html


def test_the_tolerance_is_the_audits(store, audit):
    with pytest.raises(UsageError):
        make_report(store, audit=audit, tolerance_ms=5)


def test_write_report_is_atomic_and_html_only(tmp_path, store, audit):
    out = tmp_path / "report.html"
    fractions = []
    report = write_report(store, out, audit=audit, progress=fractions.append)
    assert fractions[-1] == 1.0
    assert out.read_text(encoding="utf-8") == render_html(report)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left
    with pytest.raises(UsageError):
        write_report(store, tmp_path / "report.pdf", audit=audit)
    with pytest.raises(UsageError):
        write_report(store, tmp_path / "missing" / "report.html", audit=audit)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# -- the command ---------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    """``inspector report ARGS`` through the real entry point."""
    return cli_main(["report", *map(str, argv)])


def test_cli_writes_html_and_records_it_in_the_custody_log(tmp_path, capsys, expected):
    out, db = tmp_path / "report.html", tmp_path / "audit.duckdb"
    code = main([SAMPLE / "demo-archive.zip", "-o", out, "--db", db, "--tolerance-ms", "25"])
    assert code == 0, capsys.readouterr()
    assert "4 of 5 opted-out people" in capsys.readouterr().out
    assert "Tolerance</th><td>25 ms" in out.read_text(encoding="utf-8")
    with Store(db) as store:
        entry = custody.entries(store)[-1]
        assert custody.check(store).intact
    assert entry.operation == "report"
    assert entry.inputs == [{"path": str(SAMPLE / "demo-archive.zip"),
                             "sha256": expected["archive_sha256"]}]
    assert entry.outputs == [{"path": str(out),
                              "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}]
    assert entry.details == {"format": "html", "tolerance_ms": 25}


def test_cli_refuses_an_existing_file_unless_forced(tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("an earlier report", encoding="utf-8")
    assert main([SAMPLE / "demo-archive.zip", "-o", out]) == 2
    assert "exists; add --force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "an earlier report"
    assert main([SAMPLE / "demo-archive.zip", "-o", out, "--force"]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("name", ["report.txt", "report", "report.htm.gz"])
def test_cli_refuses_other_extensions(tmp_path, capsys, name):
    assert main([SAMPLE / "demo-archive.zip", "-o", tmp_path / name]) == 2
    assert ".html or .pdf" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
