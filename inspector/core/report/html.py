"""The report as one self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched.

A Content-Security-Policy in the document forbids loading anything, so the file shows the same
offline, in a mail client or in an evidence bundle years later. Every piece of text is escaped
here; the model's text is already masked (see :mod:`.build`).
"""

from __future__ import annotations

from html import escape

from .chart import chart_svg
from .model import SECTIONS, Person, Report
from .text import SUBTITLE, captured, duration, key_figures, person_facts, size, span, when

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --soft: #f6f8fa; --red: #b42318;
        --amber: #9a6700; --green: #1a7f37; --blue: #0b4f8a; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 14px/1.5 "DejaVu Sans",
       "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 32px 40px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 4px;
     border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 28px 0 8px; }
h4 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase;
     letter-spacing: .04em; }
p { margin: 6px 0; }
.subtitle { color: var(--muted); margin: 0 0 20px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.meta th { width: 26%; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px;
              overflow-wrap: anywhere; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 12px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.figure .value { font-size: 20px; font-weight: 700; }
.figure .label { color: var(--muted); font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11px;
         font-weight: 700; color: #fff; text-transform: uppercase; letter-spacing: .04em; }
.badge.high { background: var(--red); } .badge.medium { background: var(--amber); }
.badge.low { background: var(--blue); } .badge.undetermined { background: var(--muted); }
.person { border-top: 1px solid var(--line); margin-top: 24px; }
.facts { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 24px; }
figure { margin: 12px 0; }
figure svg { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 12px; }
ul.plain { padding-left: 18px; }
nav ol { columns: 2; margin: 4px 0 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px;
         border-top: 1px solid var(--line); padding-top: 8px; }
@page { size: A4; margin: 16mm; }
@media print { main { padding: 0; max-width: none; } .person, figure, table { break-inside:
               avoid-page; } h2 { break-after: avoid-page; } }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(report: Report) -> str:
    """The whole document, as text (UTF-8 when written)."""
    body = [_header(report), _summary(report), _inputs(report), _method(report),
            _people(report), _aggregates(report), _limitations(report), _footer(report)]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(report.title)}, generated {_e(report.generated_at)}</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n" + "\n".join(body)
            + "\n</main>\n</body>\n</html>\n")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(head: list[str], rows: list[list[str]], *, numeric: set[int] = frozenset(),
           cls: str = "") -> str:
    """``rows`` hold HTML already escaped by the caller."""
    def cell(tag: str, index: int, content: str) -> str:
        attr = ' class="num"' if index in numeric else ""
        return f"<{tag}{attr}>{content}</{tag}>"

    out = [f'<table{f" class={cls!r}" if cls else ""}>',
           "<thead><tr>" + "".join(cell("th", i, _e(h)) for i, h in enumerate(head))
           + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _meta(rows: list[tuple[str, str]]) -> str:
    return ('<table class="meta"><tbody>' + "".join(
        f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</tbody></table>")


def _heading(anchor: str) -> str:
    return f'<h2 id="{anchor}">{_e(dict(SECTIONS)[anchor])}</h2>'


def _header(r: Report) -> str:
    rows = [("Generated", _e(r.generated_at.replace("T", " ").replace("Z", " UTC"))),
            ("Tool", f"Session Replay Inspector {_e(r.tool_version)}")]
    rows += [(name, _e(value)) for name, value in r.options]
    rows.append(("Custody log", _e(r.custody)))
    rows += [("Note", _e(note)) for note in r.notes]
    nav = "".join(f'<li><a href="#{a}">{_e(h)}</a></li>' for a, h in SECTIONS)
    return (f"<header><h1>{_e(r.title)}</h1>"
            f'<p class="subtitle">{_e(SUBTITLE)}</p>{_meta(rows)}'
            f"<nav><ol>{nav}</ol></nav></header>")


def _summary(r: Report) -> str:
    figures = key_figures(r)
    cards = "".join(f'<div class="figure"><div class="value">{_e(v)}</div>'
                    f'<div class="label">{_e(label)}</div></div>' for v, label in figures)
    if r.people:
        verdict = (f"{len([p for p in r.people if p.flagged_events]):,} opted-out "
                   f"{'person was' if len(r.people) == 1 else 'people were'} recorded after "
                   "opting out: " + ", ".join(
                       f"{p.key} ({p.flagged_events:,} events)" for p in r.people
                       if p.flagged_events) + ".")
    else:
        verdict = "Nothing was recorded while a person was opted out."
    return f'{_heading("summary")}<p>{_e(verdict)}</p><div class="figures">{cards}</div>'


def _inputs(r: Report) -> str:
    rows = []
    for f in r.inputs:
        counts = (f"{f.sessions:,} sessions, {f.events:,} events, "
                  f"{f.flagged_events:,} flagged" if f.format not in ("consent-file",
                                                                       "identities-file")
                  else "")
        extra = [f"{f.consent_records:,} consent records" if f.consent_records else "",
                 f"{f.identity_links:,} identity links" if f.identity_links else "",
                 f"{f.problems:,} import problems" if f.problems else ""]
        rows.append([
            f"{f.archive_id}",
            f'<span class="mono">{_e(f.path)}</span><br>{_e(f.recorder)}',
            f'<span class="mono">{_e(f.sha256)}</span>',
            _e(size(f.size_bytes)),
            _e("; ".join(x for x in [counts, *extra] if x) or "-"),
            _e(span(f.first_ms, f.last_ms)) + f"<br>imported {_e(f.imported_at)}"])
    table = _table(["#", "file and recorder", "sha256", "size", "contents", "time span"], rows)
    total = (f"{len(r.inputs):,} input file{'s' if len(r.inputs) != 1 else ''}: "
             f"{r.sessions:,} sessions, {r.events:,} events.")
    return f"{_heading('inputs')}<p>{_e(total)}</p>{table}"


def _method(r: Report) -> str:
    m = r.method
    rules = "".join(f"<li><b>{_e(title)}.</b> {_e(text)}</li>" for title, text in m.rules)
    categories = _table(["category", "events"], [[_e(a), _e(b)] for a, b in m.categories])
    detectors = _table(["library", "version", "used for"],
                       [[_e(d.name), _e(d.version), _e(d.finds)] for d in m.detectors])
    return (f"{_heading('method')}<p>The opt-out rules as implemented (the full statement is "
            "docs/audit-rules.md of the tool):</p>"
            f"<ol>{rules}</ol><h4>Tolerance</h4><p>{_e(m.tolerance)}.</p>"
            f"<h4>Categories of flagged events</h4>{categories}"
            f"<h4>Personal data</h4><p>{_e(m.pii)}</p>{detectors}")


def _people(r: Report) -> str:
    if not r.people:
        return f"{_heading('people')}<p>No opted-out person was recorded after opting out.</p>"
    intro = (f"<p>{len(r.people):,} {'person' if len(r.people) == 1 else 'people'}, most "
             "serious first. Instants are UTC; delays are counted from the earliest opt-out "
             "in force.</p>")
    return _heading("people") + intro + "\n".join(_person(p) for p in r.people)


def _person(p: Person) -> str:
    out = [f'<section class="person"><h3>Person <code>{_e(p.key)}</code> '
           f'<span class="badge {_e(p.severity)}">{_e(p.severity)}</span></h3>']
    if len(p.linked_keys) > 1:
        out.append(f"<p>Linked keys: {', '.join(f'<code>{_e(k)}</code>' for k in p.linked_keys)}"
                   "</p>")
    out.append("<h4>Opt-out</h4>")
    out.append(_table(["recorded at", "key", "source", "scope", "where", "ended"], [[
        _e(when(o.at_ms)), f"<code>{_e(o.key)}</code>"
        + "".join(f"<br><small>linked by {_e(chain)}</small>" for chain in o.links),
        _e(f"{o.source} ({'ledger' if o.origin == 'ledger' else 'in-band marker'})"),
        _e(o.scope), f'<span class="mono">{_e(o.location)}</span>',
        _e(f"opted back in {when(o.ended_at_ms)}" if o.ended_at_ms is not None
           else "never opted back in")] for o in p.opt_outs]))
    facts = person_facts(p)
    out.append('<div class="facts">' + "".join(
        f"<div><b>{_e(k)}:</b> {_e(v)}</div>" for k, v in facts) + "</div>")
    out.append("<h4>Captured after the opt-out</h4>")
    out.extend(f"<p><b>{_e(k)}:</b> {_e(v)}</p>" for k, v in captured(p))
    if p.pages:
        out.append("<p><b>Pages visited (query values hidden):</b></p><ul class=\"plain\">"
                   + "".join(f'<li class="mono">{_e(page)}</li>' for page in p.pages)
                   + "</ul>")
    out.append(_table(
        ["session", "subject / device", "severity", "flagged", "undet.", "first flagged",
         "capture after opt-out"],
        [[f"<code>{_e(s.session_id)}</code>", _e(f"{s.subject} / {s.device}"),
          f'<span class="badge {_e(s.severity)}">{_e(s.severity)}</span>',
          f"{s.flagged_events:,}", f"{s.undetermined_events:,}", _e(when(s.first_ms)),
          _e(duration(s.captured_after_ms))] for s in p.sessions], numeric={3, 4}))
    if p.chart is not None:
        title = (f"Flagged events of {p.key} over time: {p.chart.total:,} events in "
                 f"{len(p.chart.segments)} session{'s' if len(p.chart.segments) != 1 else ''}")
        out.append(f"<figure>{chart_svg(p.chart, title=title)}<figcaption>{_e(title)}. "
                   "Times UTC; each panel is one session, gaps between sessions cut out and "
                   "labelled; the dashed red line is the opt-out, green an opt-in."
                   "</figcaption></figure>")
    out.append("</section>")
    return "\n".join(out)


def _aggregates(r: Report) -> str:
    a = r.aggregates
    n = a.people_affected.part
    rows = [
        ["Opted-out people with at least one flagged event", _e(a.people_affected.as_text()),
         "people named by an opt-out that governs recording"],
        ["Sessions with flagged events", _e(a.sessions_affected.as_text()), "all sessions"],
        ["Flagged events", _e(a.events_flagged.as_text()), "all events"],
        ["Median capture after the opt-out", _e(duration(a.median_capture_ms)),
         f"{a.capture_people:,} people with flagged events"],
        ["Longest capture after the opt-out", _e(duration(a.max_capture_ms)),
         f"{a.capture_people:,} people with flagged events"],
    ]
    overview = _table(["measure", "value", "denominator"], [[_e(x), y, _e(z)]
                                                             for x, y, z in rows])
    categories = _table(
        ["category", f"people (of {n:,} with flagged events)", "flagged events (of all flagged)"],
        [[_e(c.label), _e(c.people.as_text()), _e(c.events.as_text() if c.events else "-")]
         for c in a.categories])
    kinds = _table(
        ["personal data", f"people (of {n:,} with flagged events)", "occurrences"],
        [[_e(k.label), _e(k.people.as_text()), f"{k.occurrences or 0:,}"] for k in a.pii],
        numeric={2})
    return (f"{_heading('aggregates')}{overview}<h4>Prevalence of each category</h4>"
            f"{categories}<h4>Prevalence of each kind of personal data</h4>{kinds}")


def _limitations(r: Report) -> str:
    items = "".join(f"<li>{_e(text)}</li>" for text in r.limitations)
    return f"{_heading('limitations')}<p>What this audit cannot judge:</p><ul>{items}</ul>"


def _footer(r: Report) -> str:
    return (f"<footer>{_e(r.title)} \u00b7 Session Replay Inspector {_e(r.tool_version)} "
            f"\u00b7 generated {_e(r.generated_at)} \u00b7 built from masked data only: no "
            "value of personal data is reproduced.</footer>")
