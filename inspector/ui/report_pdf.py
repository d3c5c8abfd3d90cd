"""The report as a PDF, made by Qt alone: QTextDocument lays it out on A4, QPdfWriter writes it.

No browser is involved. The layout is Qt's rich-text subset, so this module writes its own
markup from the same :class:`~inspector.core.report.Report` the HTML comes from (masked data
only); the charts are the core's SVGs, drawn by QtSvg into images. Pages get a footer with
"Page N of M", and the contents list on page 1 gives the page of each section, measured from the
laid-out document.

:func:`ensure_gui_application` lets the command line use this without the app running.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

from PySide6.QtCore import QByteArray, QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)
from PySide6.QtSvg import QSvgRenderer

from inspector.core.errors import UsageError
from inspector.core.report import SECTIONS, Report, chart_svg, write_atomic
from inspector.core.report.chart import HEIGHT as CHART_HEIGHT
from inspector.core.report.chart import WIDTH as CHART_WIDTH
from inspector.core.report.model import Person
from inspector.core.report.text import (
    SUBTITLE,
    captured,
    duration,
    key_figures,
    person_facts,
    size,
    span,
    when,
)

DPI = 300
_SCREEN_DPI = 96
_FONT = "DejaVu Sans"
_MARGINS_MM = QMarginsF(18, 16, 18, 14)
_FOOTER_MM = 9
_SEVERITY_COLOURS = {"high": "#b42318", "medium": "#9a6700", "low": "#0b4f8a",
                     "undetermined": "#59636e"}

_app: QGuiApplication | None = None


@dataclass(frozen=True)
class PdfLayout:
    """What was written: the page count and the page (0-based) each section starts on."""

    pages: int
    sections: dict[str, int]


def ensure_gui_application() -> QGuiApplication:
    """The running QGuiApplication, or a new one (offscreen when there is no display)."""
    global _app
    existing = QGuiApplication.instance()
    if existing is not None:
        if not isinstance(existing, QGuiApplication):
            raise RuntimeError("a QCoreApplication is running; a PDF needs a QGuiApplication")
        return existing
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    _app = QGuiApplication(sys.argv[:1])
    return _app


def write_pdf(report: Report, out: str | os.PathLike[str]) -> PdfLayout:
    """Write ``report`` to ``out`` as an A4 PDF, whole or not at all."""
    ensure_gui_application()
    written: list[PdfLayout] = []
    write_atomic(Path(out), lambda temporary: written.append(_write(report, temporary)))
    return written[0]


def _write(report: Report, path: Path) -> PdfLayout:
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait, _MARGINS_MM,
                                     QPageLayout.Unit.Millimeter))
    writer.setTitle(f"{report.title}, generated {report.generated_at}")
    writer.setCreator(f"Session Replay Inspector {report.tool_version}")
    width, height = writer.width(), writer.height()
    footer = round(_FOOTER_MM / 25.4 * DPI)
    page_height = height - footer

    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDefaultFont(QFont(_FONT, 9))
    document.setDocumentMargin(6)  # room for the table borders at the page edges
    document.setPageSize(QSizeF(width, page_height))
    charts = _add_charts(document, report, width)
    sections: dict[str, int] = {}
    for _ in range(3):  # the contents list names pages; numbering it can move what follows
        document.setHtml(_markup(report, charts, sections))
        found = _section_pages(document, page_height)
        if found == sections:
            break
        sections = found
    pages = document.pageCount()

    painter = QPainter()
    if not painter.begin(writer):
        raise UsageError("cannot write the PDF here", path=str(path))
    try:
        for page in range(pages):
            if page:
                writer.newPage()
            painter.save()
            painter.translate(0, -page * page_height)
            document.drawContents(painter, QRectF(0, page * page_height, width, page_height))
            painter.restore()
            _footer(painter, report, page, pages, width, height, footer)
    finally:
        painter.end()
    return PdfLayout(pages, sections)


def _footer(painter: QPainter, report: Report, page: int, pages: int, width: int, height: int,
            footer: int) -> None:
    painter.setPen(QPen(QColor("#d8dee4"), 3))
    top = height - footer + footer // 3
    painter.drawLine(QPointF(0, top), QPointF(width, top))
    painter.setPen(QColor("#59636e"))
    painter.setFont(QFont(_FONT, 7))
    box = QRectF(0, top + 8, width, footer - footer // 3 - 8)
    painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                     f"{report.title} \u00b7 generated {report.generated_at} \u00b7 Session "
                     f"Replay Inspector {report.tool_version}")
    painter.drawText(box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                     f"Page {page + 1} of {pages}")


def _add_charts(document: QTextDocument, report: Report, width: int) -> dict[str, tuple]:
    """Each person's chart drawn by QtSvg into an image resource: key -> (url, w, h)."""
    out = {}
    for index, person in enumerate(report.people):
        if person.chart is None:
            continue
        svg = chart_svg(person.chart, title=f"Flagged events of {person.key} over time")
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        w = width
        h = round(width * CHART_HEIGHT / CHART_WIDTH)
        image = QImage(w, h, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, w, h))
        painter.end()
        url = QUrl(f"report-chart:{index}")
        document.addResource(QTextDocument.ResourceType.ImageResource, url, image)
        out[person.key] = (url.toString(), w, h)
    return out


def _section_pages(document: QTextDocument, page_height: float) -> dict[str, int]:
    headings = {heading: anchor for anchor, heading in SECTIONS}
    layout = document.documentLayout()
    found = {}
    block = document.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() == 2 and block.text() in headings:
            top = layout.blockBoundingRect(block).top()
            found[headings[block.text()]] = int(top // page_height)
        block = block.next()
    return found


# -- markup (Qt's rich-text subset: tables, inline styles in pt, page-break-before) ----------

def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(head: list[str] | None, rows: list[list[str]], *, widths: list[int] | None = None,
           numeric: frozenset[int] = frozenset()) -> str:
    def cell(tag: str, index: int, content: str) -> str:
        style = ' align="right"' if index in numeric else ""
        width = f' width="{widths[index]}%"' if widths else ""
        background = ' bgcolor="#f6f8fa"' if tag == "th" else ""
        return f"<{tag}{style}{width}{background}>{content}</{tag}>"

    out = ['<table width="100%" border="0.5" cellspacing="0" cellpadding="4" '
           'style="border-style: solid; border-color: #d8dee4; margin-top: 4pt; '
           'margin-bottom: 8pt; font-size: 8pt;">',
           "<thead><tr>" + "".join(cell("th", i, _e(h)) for i, h in enumerate(head))
           + "</tr></thead>" if head else ""]
    for row in rows:
        out.append("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _h2(anchor: str, *, new_page: bool = False) -> str:
    style = "font-size: 15pt; margin-top: 16pt; margin-bottom: 6pt;"
    if new_page:
        style += " page-break-before: always;"
    return f'<h2 style="{style}">{_e(dict(SECTIONS)[anchor])}</h2>'


def _h4(text: str) -> str:
    return (f'<p style="font-size: 8pt; color: #59636e; margin-top: 8pt; margin-bottom: 2pt;">'
            f"<b>{_e(text.upper())}</b></p>")


def _badge(severity: str) -> str:
    colour = _SEVERITY_COLOURS.get(severity, "#59636e")
    return (f'<span style="background-color: {colour}; color: #ffffff; font-size: 7pt;">'
            f"&nbsp;<b>{_e(severity.upper())}</b>&nbsp;</span>")


def _mono(text: str) -> str:
    return f'<span style="font-family: \'DejaVu Sans Mono\'; font-size: 7pt;">{_e(text)}</span>'


def _markup(report: Report, charts: dict[str, tuple], pages: dict[str, int]) -> str:
    parts = [_title(report, pages), _summary(report), _inputs(report), _method(report),
             _people(report, charts), _aggregates(report), _limitations(report)]
    return "<html><body>" + "".join(parts) + "</body></html>"


def _title(r: Report, pages: dict[str, int]) -> str:
    rows = [("Generated", r.generated_at.replace("T", " ").replace("Z", " UTC")),
            ("Tool", f"Session Replay Inspector {r.tool_version}"), *r.options,
            ("Custody log", r.custody), *(("Note", note) for note in r.notes)]
    meta = _table(None, [[f"<b>{_e(k)}</b>", _e(v)] for k, v in rows], widths=[24, 76])
    contents = "".join(
        f"<tr><td>{_e(heading)}</td><td align=\"right\">"
        f"{pages[anchor] + 1 if anchor in pages else ''}</td></tr>"
        for anchor, heading in SECTIONS)
    return (f'<h1 style="font-size: 20pt; margin-bottom: 2pt;">{_e(r.title)}</h1>'
            f'<p style="color: #59636e; margin-bottom: 8pt;">{_e(SUBTITLE)}</p>' + meta
            + _h4("Contents")
            + '<table width="60%" cellpadding="2" style="font-size: 9pt;">'
            + contents + "</table>")


def _summary(r: Report) -> str:
    figures = key_figures(r)
    cells = [f'<td width="33%"><span style="font-size: 13pt;"><b>'
             f'{_e(v).replace(" %", "&nbsp;%")}</b></span><br>'
             f'<span style="font-size: 7.5pt; color: #59636e;">{_e(label)}</span></td>'
             for v, label in figures]
    grid = ('<table width="100%" border="0.5" cellspacing="0" cellpadding="6" '
            'style="border-style: solid; border-color: #d8dee4;">'
            f"<tr>{''.join(cells[:3])}</tr><tr>{''.join(cells[3:])}</tr></table>")
    affected = [p for p in r.people if p.flagged_events]
    verdict = ("Recorded after opting out: " + ", ".join(
        f"{p.key} ({p.flagged_events:,} events)" for p in affected) + "."
        if affected else "Nothing was recorded while a person was opted out.")
    return _h2("summary") + f"<p>{_e(verdict)}</p>" + grid


def _inputs(r: Report) -> str:
    rows = []
    for f in r.inputs:
        counts = [] if f.format in ("consent-file", "identities-file") else [
            f"{f.sessions:,} sessions, {f.events:,} events, {f.flagged_events:,} flagged"]
        counts += [text for text in (
            f"{f.consent_records:,} consent records" if f.consent_records else "",
            f"{f.identity_links:,} identity links" if f.identity_links else "",
            f"{f.problems:,} import problems" if f.problems else "") if text]
        rows.append([f"{f.archive_id}",
                     f"{_mono(f.path)}<br>{_e(f.recorder)}<br>sha256 {_mono(f.sha256)}",
                     _e(size(f.size_bytes)), _e("; ".join(counts) or "-"),
                     _e(span(f.first_ms, f.last_ms)) + f"<br>imported {_e(f.imported_at)}"])
    total = (f"{len(r.inputs):,} input file{'s' if len(r.inputs) != 1 else ''}: "
             f"{r.sessions:,} sessions, {r.events:,} events.")
    return (_h2("inputs", new_page=True) + f"<p>{_e(total)}</p>"
            + _table(["#", "file, recorder and sha256", "size", "contents", "time span"],
                     rows, widths=[4, 42, 12, 18, 24]))


def _method(r: Report) -> str:
    m = r.method
    rules = "".join(f"<li><b>{_e(title)}.</b> {_e(text)}</li>" for title, text in m.rules)
    return (_h2("method") + "<p>The opt-out rules as implemented (the full statement is "
            "docs/audit-rules.md of the tool):</p>"
            f'<ol style="margin-top: 2pt;">{rules}</ol>' + _h4("Tolerance")
            + f"<p>{_e(m.tolerance)}.</p>" + _h4("Categories of flagged events")
            + _table(["category", "events"], [[_e(a), _e(b)] for a, b in m.categories],
                     widths=[22, 78])
            + _h4("Personal data") + f"<p>{_e(m.pii)}</p>"
            + _table(["library", "version", "used for"],
                     [[_e(d.name), _e(d.version), _e(d.finds)] for d in m.detectors],
                     widths=[22, 14, 64]))


def _people(r: Report, charts: dict[str, tuple]) -> str:
    if not r.people:
        return (_h2("people", new_page=True)
                + "<p>No opted-out person was recorded after opting out.</p>")
    intro = (f"<p>{len(r.people):,} {'person' if len(r.people) == 1 else 'people'}, most "
             "serious first. Instants are UTC; delays are counted from the earliest opt-out in "
             "force.</p>")
    return _h2("people", new_page=True) + intro + "".join(
        _person(p, charts.get(p.key), first=index == 0) for index, p in enumerate(r.people))


def _person(p: Person, chart: tuple | None, *, first: bool) -> str:
    brk = "" if first else " page-break-before: always;"
    out = [f'<h3 style="font-size: 12pt; margin-top: 10pt;{brk}">Person '
           f"{_e(p.key)} &nbsp;{_badge(p.severity)}</h3>"]
    if len(p.linked_keys) > 1:
        out.append(f"<p>Linked keys: {', '.join(_mono(k) for k in p.linked_keys)}</p>")
    out.append(_h4("Opt-out"))
    out.append(_table(["recorded at", "key", "source", "scope", "where", "ended"], [[
        _e(when(o.at_ms)), _mono(o.key) + "".join(f"<br>linked by {_mono(c)}" for c in o.links),
        _e(f"{o.source} ({'ledger' if o.origin == 'ledger' else 'in-band marker'})"),
        _e(o.scope), _mono(o.location),
        _e(f"opted back in {when(o.ended_at_ms)}" if o.ended_at_ms is not None
           else "never opted back in")] for o in p.opt_outs], widths=[15, 22, 14, 9, 26, 14]))
    facts = person_facts(p)
    out.append("".join(f'<p style="margin: {6 if i == 0 else 1}pt 0 1pt 0;"><b>{_e(k)}:</b> '
                       f"{_e(v)}</p>" for i, (k, v) in enumerate(facts)))
    out.append(_h4("Captured after the opt-out"))
    out.extend(f"<p><b>{_e(k)}:</b> {_e(v)}</p>" for k, v in captured(p))
    if p.pages:
        out.append("<p><b>Pages visited (query values hidden):</b> "
                   + ", ".join(_mono(page) for page in p.pages) + "</p>")
    out.append(_table(
        ["session", "subject / device", "severity", "flagged", "undet.", "first flagged",
         "capture after"],
        [[_mono(s.session_id), _e(f"{s.subject} / {s.device}"), _badge(s.severity),
          f"{s.flagged_events:,}", f"{s.undetermined_events:,}", _e(when(s.first_ms)),
          _e(duration(s.captured_after_ms))] for s in p.sessions],
        widths=[20, 22, 10, 9, 7, 18, 14], numeric=frozenset({3, 4})))
    if chart is not None:
        url, w, h = chart
        # <img> sizes are in screen pixels (96 dpi); the layout scales them to the writer's.
        out.append(f'<p style="margin-top: 6pt;"><img src="{_e(url)}" '
                   f'width="{w * _SCREEN_DPI / DPI:.0f}" height="{h * _SCREEN_DPI / DPI:.0f}">'
                   "</p>")
        out.append(f'<p style="font-size: 7.5pt; color: #59636e;">Flagged events of '
                   f"{_e(p.key)} over time (cumulative). Times UTC; each panel is one session, "
                   "gaps between sessions cut out and labelled; the dashed red line is the "
                   "opt-out, green an opt-in.</p>")
    return "".join(out)


def _aggregates(r: Report) -> str:
    a = r.aggregates
    n = a.people_affected.part
    rows = [
        ("Opted-out people with at least one flagged event", a.people_affected.as_text(),
         "people named by an opt-out that governs recording"),
        ("Sessions with flagged events", a.sessions_affected.as_text(), "all sessions"),
        ("Flagged events", a.events_flagged.as_text(), "all events"),
        ("Median capture after the opt-out", duration(a.median_capture_ms),
         f"{a.capture_people:,} people with flagged events"),
        ("Longest capture after the opt-out", duration(a.max_capture_ms),
         f"{a.capture_people:,} people with flagged events"),
    ]
    return (_h2("aggregates", new_page=True)
            + _table(["measure", "value", "denominator"],
                     [[_e(x), _e(y), _e(z)] for x, y, z in rows], widths=[40, 25, 35])
            + _h4("Prevalence of each category")
            + _table(["category", f"people (of {n:,} with flagged events)",
                      "flagged events (of all flagged)"],
                     [[_e(c.label), _e(c.people.as_text()),
                       _e(c.events.as_text() if c.events else "-")] for c in a.categories],
                     widths=[30, 35, 35])
            + _h4("Prevalence of each kind of personal data")
            + _table(["personal data", f"people (of {n:,} with flagged events)", "occurrences"],
                     [[_e(k.label), _e(k.people.as_text()), f"{k.occurrences or 0:,}"]
                      for k in a.pii], widths=[30, 35, 35], numeric=frozenset({2})))


def _limitations(r: Report) -> str:
    items = "".join(f"<li>{_e(text)}</li>" for text in r.limitations)
    return _h2("limitations") + f"<p>What this audit cannot judge:</p><ul>{items}</ul>"
