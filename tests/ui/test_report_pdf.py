"""The report as PDF, made by Qt: read back with QtPdf, it has the pages its layout says, each
section on its page, page numbers, and no raw personal data; ``inspector report -o X.pdf``
writes one and refuses to overwrite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtPdf import QPdfDocument

from inspector.core import custody
from inspector.core.report import SECTIONS, make_report
from inspector.core.store import Store
from inspector.ui.report_pdf import write_pdf

from ..core.test_report import leaks, main, raw_values
from .support import SAMPLE


def pdf_pages(path) -> list[str]:
    document = QPdfDocument()
    assert document.load(str(path)) == QPdfDocument.Error.None_
    pages = [document.getAllText(page).text().replace("\r\n", "\n").replace("\xa0", " ")
             for page in range(document.pageCount())]
    document.close()
    return pages


@pytest.fixture(scope="module")
def written(sample_store, sample_audit, tmp_path_factory):
    report = make_report(sample_store, audit=sample_audit,
                         generated_at=datetime(2024, 4, 2, 9, 30, tzinfo=UTC))
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    layout = write_pdf(report, out)
    return report, layout, out


def test_the_pdf_has_the_pages_its_layout_says(written):
    report, layout, out = written
    pages = pdf_pages(out)
    # Page 1 is the title, summary and contents; inputs and method start a page, findings
    # start a page and give each affected person a page of their own, then the aggregates.
    people = len(report.people)
    assert layout.pages == len(pages) >= 3 + people
    assert set(layout.sections) == {anchor for anchor, _ in SECTIONS}
    for anchor, heading in SECTIONS:
        assert heading in pages[layout.sections[anchor]], (anchor, layout.sections[anchor])
    assert layout.sections["summary"] == 0
    assert layout.sections["inputs"] == 1
    assert layout.sections["aggregates"] - layout.sections["people"] >= people
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    # The first person follows the section's heading; each other one opens a page.
    findings = pages[layout.sections["people"]:layout.sections["aggregates"]]
    first, *others = report.people
    assert f"Person {first.key} " in findings[0]
    for person in others:
        assert any(page.startswith(f"Person {person.key} ") for page in findings), person.key


def test_the_contents_list_gives_each_sections_page(written):
    _, layout, out = written
    first = pdf_pages(out)[0]
    contents = first[first.index("CONTENTS"):]
    for anchor, heading in SECTIONS:
        assert f"\n{heading} {layout.sections[anchor] + 1}\n" in contents, heading


def test_the_pdf_holds_no_raw_personal_data(written, sample_store):
    report, _, out = written
    text = "\n".join(pdf_pages(out))
    for person in report.people:
        assert f"Person {person.key}" in text
    assert "4 of 5 (80 %)" in text
    values = raw_values(sample_store)
    assert values
    assert not leaks(text, values)


def test_cli_writes_a_pdf_and_refuses_to_overwrite_it(tmp_path, capsys):
    out, db = tmp_path / "report.pdf", tmp_path / "report.duckdb"
    assert main([SAMPLE, "-o", out, "--db", db]) == 0, capsys.readouterr()
    assert " pages)" in capsys.readouterr().out
    pages = pdf_pages(out)
    assert len(pages) > 1 and "Opt-out audit report" in pages[0]
    before = out.read_bytes()
    assert main([SAMPLE, "-o", out, "--db", db]) == 2
    assert "exists; add --force" in capsys.readouterr().err
    assert out.read_bytes() == before
    with Store(db) as store:
        entry = custody.entries(store)[-1]
    assert (entry.operation, entry.details["format"]) == ("report", "pdf")
    assert {p.name for p in tmp_path.iterdir()} == {"report.pdf", "report.duckdb"}
