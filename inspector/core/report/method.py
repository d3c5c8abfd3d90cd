"""The fixed text of a report: the rules as implemented, the detectors, and what cannot be judged.

The rules are a summary of docs/audit-rules.md (the full statement, each rule tested in
tests/core/test_audit_rules.py); keep the two in step when a rule changes.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ..audit.categories import CATEGORIES, LABELS
from ..pii import DEFAULT_REGIONS
from .model import Detector, Method

RULES = [
    ("Keys and people",
     "A session carries a subject key (a user or analytics id) and/or a device key. Identity "
     "links join keys, transitively, into one person. A session never links its own subject to "
     "its own device, so people who share a device stay apart."),
    ("Which records apply",
     "A consent record applies to a session when the key it names belongs to the person of the "
     "session's subject or of its device: an account opt-out covers the person's sessions on "
     "every linked device; a device opt-out (Global Privacy Control) covers every session on "
     "that device, whoever uses it."),
    ("Scope",
     "Records whose scope is replay, analytics or all, or that have no scope, govern recording. "
     "Records of any other scope (marketing, ads...) are not applied; they are counted below."),
    ("Intervals",
     "An opt-out lasts from its instant until the next strictly later applicable opt-in, which "
     "ends it; without one it lasts for ever, into every later session of the person."),
    ("In-band markers",
     "A Custom event tagged \"consent\" with an opt_out or opt_in action is a consent record of "
     "its session's subject (or device) at its timestamp, and applies to that person's other "
     "sessions too. The marker itself is never flagged."),
    ("Flagging",
     "An event is flagged when its instant lies in an opted-out interval, the opt-out instant "
     "included and the opt-in instant excluded. Mouse-move, touch-move and drag batches are "
     "judged by each position's own instant. Time decides, never the order in the file."),
    ("Tolerance",
     "Every opt-out instant is moved later by the tolerance, for clock skew between the consent "
     "system and the recorder; opt-in instants do not move."),
    ("Undetermined events",
     "An event without a usable timestamp in a session that any opt-out applies to cannot be "
     "placed in time: it is counted and listed, never flagged and never dropped."),
]

CATEGORY_EVENTS = {
    "typed_input": "Input events: what was typed into fields",
    "page_content": "full snapshots, DOM mutations, style sheets, canvas, fonts, load events",
    "page_urls": "Meta events: the address of each page",
    "pointer_scroll": "mouse, touch, clicks, scrolling, resizing, selection",
    "console": "console messages (rrweb/console@1, Log)",
    "network": "network requests and responses (rrweb/network@1)",
    "custom": "custom events and other plugins",
}

PII_LABELS = {"email": "e-mail address", "phone": "phone number", "card": "payment card",
              "iban": "IBAN", "national_id": "national id number", "password": "password"}

PII_METHOD = (
    "Only the flagged events that can hold content are read (not pointer and scroll). Text is "
    "decoded first (URL, JSON and HTML escapes). E-mail addresses are matched by pattern; card "
    "numbers need a Luhn check digit and an issuer prefix; IBANs their mod-97 check; national "
    "numbers (US SSN, UK National Insurance, Spanish DNI/NIE, Italian codice fiscale, French "
    "NIR, Dutch BSN, German Steuer-IdNr) their check digit or strict layout; phone numbers "
    "libphonenumber's validity rules (international numbers, and national numbers of "
    f"{', '.join(DEFAULT_REGIONS)}). A password is known only by the field it was typed into. "
    "Each kind is reported as a count of occurrences; no value is kept or shown.")


def method(tolerance_ms: int) -> Method:
    return Method(
        rules=RULES,
        tolerance_ms=tolerance_ms,
        tolerance=(f"{tolerance_ms:,} ms: every opt-out instant was moved {tolerance_ms:,} ms "
                   "later before flagging" if tolerance_ms else
                   "0 ms: every opt-out took effect at the recorded instant"),
        categories=[(LABELS[name], CATEGORY_EVENTS[name]) for name in CATEGORIES],
        detectors=detectors(),
        pii=PII_METHOD)


def detectors() -> list[Detector]:
    return [
        Detector("python-stdnum", _version("python-stdnum"),
                 "check digits of card numbers (Luhn), IBANs and national id numbers"),
        Detector("phonenumbers", _version("phonenumbers"),
                 "phone number validity (Google's libphonenumber metadata)"),
    ]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def limitations(*, undetermined_events: int, undetermined_sessions: int,
                ignored_records: int, markers_without_timestamp: int,
                import_problems: int) -> list[str]:
    """What this audit could not judge, with the counts of these inputs."""
    out = [
        "Images are not examined. A picture of a document, a face or a screen may show personal "
        "data; only an image's attributes (such as its alt text) are read.",
        "Canvas pixels are not examined. Canvas drawing is counted as page content, but what it "
        "draws (a signature pad, a chart, text painted on a canvas) is not read.",
        ("Undetermined events: " + (
            f"{undetermined_events:,} event{'s' if undetermined_events != 1 else ''} in "
            f"{undetermined_sessions:,} session{'s' if undetermined_sessions != 1 else ''} "
            "had no usable timestamp, so whether they were recorded after an opt-out cannot be "
            "told. They are listed per person and counted in no flagged total."
            if undetermined_events else
            "none here: every event of a session an opt-out applies to had a usable timestamp.")),
        "Personal data is found by pattern and check digit. Names, postal addresses, dates of "
        "birth and free text about health or money are not recognised, so \"none found\" does "
        "not prove that none was captured. Values the recorder masked (asterisks) are not "
        "counted.",
        "Only the consent records and identity links in the inputs are applied: an opt-out kept "
        "elsewhere, or a link between two keys of one person that nobody recorded, is not seen.",
        "Instants are the recorder's clock and the consent system's clock; a skew between them "
        "beyond the tolerance moves the boundary of what is flagged.",
    ]
    if ignored_records:
        out.append(f"{ignored_records:,} consent record{'s' if ignored_records != 1 else ''} "
                   "with a scope that does not govern recording (marketing, ads...) "
                   f"{'were' if ignored_records != 1 else 'was'} not applied.")
    if markers_without_timestamp:
        out.append(f"{markers_without_timestamp:,} in-band consent marker"
                   f"{'s' if markers_without_timestamp != 1 else ''} without a timestamp could "
                   "not be placed in time and were not applied.")
    if import_problems:
        out.append(f"{import_problems:,} import problem{'s' if import_problems != 1 else ''} "
                   f"(damaged lines, converted timestamps...) "
                   f"{'were' if import_problems != 1 else 'was'} recorded; damaged rows that "
                   "could not be read are not in the audit (inspector sessions lists them).")
    return out
