"""The last check before a redacted copy is put in place: read it back as an auditor would.

The copy is imported into a temporary database with the importer, its carried ledger added
(for a single file, from the redaction record), and audited by the audit's own flagging rules
with the same tolerance. The export fails, writing nothing, when:

- the copy does not import, or holds other sessions, or another number of events per session,
  than the redaction wrote;
- a session's subject or device is not the one it should carry (pseudonymised when asked);
- the audit flags any event of the copy, or finds an event without a timestamp in a session an
  opt-out applies to;
- with ``--mask-pii``: a piece of personal data found in the source (by
  :func:`inspector.core.pii.find_pii`, a query value under a key naming personal data, a value
  settled in a sensitive field) is still in the copy, as it is or URL-, JSON- or HTML-escaped.
  The copy is searched in its events as the importer decodes them (so packed and compressed
  events are searched too) and in every file as written. Values judged personal only by the
  name of their field or key are searched for when they have at least 8 characters (shorter
  ones, like ``1234``, occur anywhere); session keys are not searched for unless pseudonymised,
  since they are kept;
- with ``--pseudonymize-key``: a key or e-mail address of the source, or the key material
  itself, is still in the copy.
"""

from __future__ import annotations

import gzip
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

import ahocorasick
import orjson

from .. import pii
from ..audit import flagging
from ..audit.keys import IdentityGraph
from ..audit.ledger import CONSENT, IDENTITIES, add_records_file
from ..cancel import CancelToken
from ..errors import InspectorError
from ..importer import import_paths
from ..pii.mask import _FORM_BODY
from ..store import Store
from .codec import Decoded
from .masking import CSS_SOURCES, QUERY_IN_TEXT, skipped_attribute
from .scratch import scratch_store

#: Values judged personal by a field's or key's name alone are searched for from this length.
MIN_NAMED_VALUE = 8
_MAX_QUERY_TEXT = 64 * 1024
_BIG_NUMBER = 1_000_000  # shorter numbers hold no kind pii detects
_MIN_TEXT = 6  # shorter texts hold none either ("a@b.co")


def _url_key(name: str) -> str | None:
    return pii.name_kind(name, loose=True)


class RedactionFailed(InspectorError):
    """The copy did not pass the check; nothing was written at OUT."""


@dataclass
class ExpectedSession:
    session_id: str  # in the source
    subject: str | None  # as the copy must carry it
    device: str | None
    events: int


@dataclass
class Verified:
    sessions: int
    events: int
    values_checked: int
    #: copy session id -> source session id, when the copy names a session differently
    #: (a session named after its file, and the copy's file has another name).
    renamed: dict[str, str] = field(default_factory=dict)


class ValueCollector:
    """Personal data of the source, gathered from every event before anything is changed."""

    def __init__(self, *, kinds: Iterable[str] | None) -> None:
        """``kinds``: the kinds of :func:`pii.find_pii` to keep (None: all of them)."""
        self.kinds = None if kinds is None else frozenset(kinds)
        self.values: set[str] = set()
        self._seen: set[tuple[str, str]] = set()
        #: Keys already given to :meth:`_string` (as ``(key, "")``): looked up without a tuple.
        self._keys: set[str] = set()

    def __call__(self, decoded: Decoded) -> None:
        if decoded.type == 3 and decoded.source in CSS_SOURCES:
            return
        # Most pointer, scroll and click events hold only numbers: nothing to collect.
        if decoded.numbers_only():
            return
        self.collect(decoded.data)

    def collect(self, value: Any, key: str = "") -> None:
        """Every string of ``value`` with the key it is under (list items: the list's key),
        every key, and every number from 1,000,000; not style text, nor the attributes
        masking keeps (:func:`.masking.skipped_attribute`).

        The walk looks at scalars where it finds them rather than stacking them: it sees every
        string of every kept and removed event.
        """
        seen = self._seen
        keys = self._keys
        string = self._string
        stack: list[tuple[Any, str]] = [(value, key)]
        while stack:
            item, name = stack.pop()
            if isinstance(item, dict):
                style_text = bool(item.get("isStyle"))
                in_attributes = name == "attributes"
                for child_key, child in item.items():
                    if not isinstance(child_key, str):
                        continue
                    if (style_text and child_key == "textContent") or \
                            (in_attributes and skipped_attribute(child_key)):
                        continue
                    if len(child_key) >= _MIN_TEXT and child_key not in keys:
                        keys.add(child_key)
                        string(child_key, "")
                    kind = type(child)
                    if kind is str:
                        if len(child) >= _MIN_TEXT and (child, child_key) not in seen:
                            string(child, child_key)
                    elif kind is int:
                        if not -_BIG_NUMBER < child < _BIG_NUMBER:
                            string(str(child), child_key)
                    elif kind is dict or kind is list:
                        if child:
                            stack.append((child, child_key))
                    elif kind is not float and kind is not bool and child is not None:
                        stack.append((child, child_key))
            elif isinstance(item, list):
                for child in item:
                    kind = type(child)
                    if kind is str:
                        if len(child) >= _MIN_TEXT and (child, name) not in seen:
                            string(child, name)
                    elif kind is int:
                        if not -_BIG_NUMBER < child < _BIG_NUMBER:
                            string(str(child), name)
                    elif kind is dict or kind is list:
                        if child:
                            stack.append((child, name))
                    elif kind is not float and kind is not bool and child is not None:
                        stack.append((child, name))
            elif isinstance(item, str):
                string(item, name)
            elif isinstance(item, int) and not isinstance(item, bool) and \
                    not -_BIG_NUMBER < item < _BIG_NUMBER:
                string(str(item), name)

    def add_named(self, values: Iterable[str]) -> None:
        """Values personal by the name of their field (a password): searched when long enough."""
        self.values.update(v for v in values if len(v.strip()) >= MIN_NAMED_VALUE)

    def _string(self, text: str, context: str) -> None:
        if len(text) < _MIN_TEXT or text.startswith("data:") or (text, context) in self._seen:
            return
        self._seen.add((text, context))
        for match in pii.find_pii(text, context=context):
            if self.kinds is None or match.kind in self.kinds:
                self.values.add(match.value)
        if self.kinds is not None or "=" not in text or len(text) > _MAX_QUERY_TEXT:
            return
        # What masking redacts by a key's name: query values under a key naming personal
        # data (pii.mask_url), form-body values under a password or user-name key.
        if _FORM_BODY.fullmatch(text):
            self._pairs(text, pii.secret_key_kind)
        for match in QUERY_IN_TEXT.finditer(text):
            self._pairs(match.group().split("?", 1)[1].replace("#", "&"), _url_key)

    def _pairs(self, pairs: str, judge: Callable[[str], str | None]) -> None:
        for name, value in parse_qsl(pairs):
            if judge(name) and len(value.strip()) >= MIN_NAMED_VALUE:
                self.values.add(value)


def verify(copy: Path, *, expected: list[ExpectedSession], ledger: tuple[list, list] | None,
           settable_keys: bool, tolerance_ms: int, values: set[str], secrets: list[bytes],
           files: list[Path], workspace: Path, cancel: CancelToken,
           progress: Callable[[float], None] | None = None) -> Verified:
    """Import ``copy`` and audit it; raises :class:`RedactionFailed` (see module doc).

    ``ledger`` is (consent, identities) to add for a copy that cannot hold them itself;
    ``settable_keys`` says the copy's format cannot carry subjects (a PostHog blob), so the
    expected keys are given to its sessions before the audit.
    """
    with scratch_store(workspace / "verify") as store:
        report = import_paths(store, [copy], cancel=cancel)
        if report.failed or not report.archives:
            error = report.failed[0].error if report.failed else "nothing was imported"
            raise RedactionFailed(f"the redacted copy does not import: {error}")
        archive_id = report.archives[0].archive_id
        if progress:
            progress(0.5)
        if ledger is not None:
            _add_ledger(store, ledger, workspace)
        con = store.cursor()
        remove_interrupt = cancel.on_cancel(con.interrupt)
        try:
            renamed = _check_sessions(con, archive_id, expected, settable_keys)
            flagging.run(con, IdentityGraph.load(con), tolerance_ms, cancel=cancel)
            (flagged, undetermined), = con.execute(
                "SELECT (SELECT count(*) FROM audit_flagged), "
                "(SELECT count(*) FROM audit_undetermined)").fetchall()
            if flagged or undetermined:
                raise RedactionFailed(
                    f"auditing the redacted copy still flags {flagged} events and finds "
                    f"{undetermined} undetermined ones; nothing was written",
                    hint="please report this with the input")
            if progress:
                progress(0.8)
            if values or secrets:
                _check_values(con, archive_id, values, secrets, files)
            (events,), = con.execute("SELECT count(*) FROM events WHERE archive_id = ?",
                                     [archive_id]).fetchall()
        finally:
            remove_interrupt()
            con.close()
    return Verified(len(expected), events, len(values), renamed)


def _add_ledger(store: Store, ledger: tuple[list, list], workspace: Path) -> None:
    for kind, records in ((IDENTITIES, ledger[1]), (CONSENT, ledger[0])):
        if records:
            path = workspace / f"carried-{kind}.ndjson"
            path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
            add_records_file(store, path, kind)


def _check_sessions(con, archive_id: int, expected: list[ExpectedSession],
                    settable_keys: bool) -> dict[str, str]:
    found = {sid: (subject, device, events) for sid, subject, device, events in con.execute(
        "SELECT session_id, subject, device, events FROM sessions WHERE archive_id = ?",
        [archive_id]).fetchall()}
    wanted = {s.session_id: s for s in expected}
    renamed: dict[str, str] = {}
    unmatched_copy = sorted(set(found) - set(wanted))
    unmatched_source = sorted(set(wanted) - set(found))
    if len(unmatched_copy) == 1 and len(unmatched_source) == 1:
        renamed[unmatched_copy[0]] = unmatched_source[0]  # named after the copy's file
    elif unmatched_copy or unmatched_source:
        raise RedactionFailed(f"the redacted copy holds {len(found)} sessions where "
                              f"{len(wanted)} were written; nothing was written",
                              hint="please report this with the input")
    for copy_id, (subject, device, events) in found.items():
        want = wanted[renamed.get(copy_id, copy_id)]
        if events != want.events:
            raise RedactionFailed(f"session {want.session_id!r} of the redacted copy holds "
                                  f"{events} events where {want.events} were written; nothing "
                                  "was written", hint="please report this with the input")
        if (subject, device) != (want.subject, want.device):
            if not settable_keys:
                raise RedactionFailed(f"session {want.session_id!r} of the redacted copy does "
                                      "not carry its subject and device; nothing was written",
                                      hint="please report this with the input")
            con.execute("UPDATE sessions SET subject = ?, device = ? WHERE archive_id = ? "
                        "AND session_id = ?", [want.subject, want.device, archive_id, copy_id])
    return renamed


def _check_values(con, archive_id: int, values: set[str], secrets: list[bytes],
                  files: list[Path]) -> None:
    texts = [data.lower() for (data,) in con.execute(
        "SELECT data FROM events WHERE archive_id = ? AND data IS NOT NULL",
        [archive_id]).fetchall()]
    raw = [_file_text(path) for path in files]
    haystack = "\n".join(texts + [text.lower() for text in raw])
    left = len(_found(values, haystack))
    if left:
        raise RedactionFailed(f"{left} personal-data values found in the source are still in "
                              "the redacted copy; nothing was written",
                              hint="please report this with the input (do not share it)")
    for secret in secrets:
        text = secret.decode("utf-8", "replace")
        if any(text in chunk for chunk in raw):
            raise RedactionFailed("the pseudonymisation key would be in the redacted copy; "
                                  "nothing was written", hint="please report this")


def _found(values: Iterable[str], haystack: str) -> set[str]:
    """The values any form of which (:func:`forms`) occurs in ``haystack``: one pass of an
    Aho-Corasick automaton over it, however many values (a search per form would read a
    copy of hundreds of MB thousands of times)."""
    owners: dict[str, list[str]] = {}  # a form may be that of several values ("A", "a")
    for value in values:
        for form in forms(value):
            owners.setdefault(form, []).append(value)
    if not owners:
        return set()
    automaton = ahocorasick.Automaton()
    for form, of in owners.items():
        automaton.add_word(form, of)
    automaton.make_automaton()
    return {value for _, of in automaton.iter(haystack) for value in of}


def forms(value: str) -> set[str]:
    """``value`` as it may be written: plain, JSON-, URL- or HTML-escaped (lower case)."""
    found = {value, orjson.dumps(value).decode()[1:-1], quote(value, safe=""),
             quote(value, safe="@"), quote_plus(value), html.escape(value),
             html.escape(value, quote=False)}
    if "@" in value:
        found |= {value.replace("@", escaped)
                  for escaped in ("%40", "\\u0040", "&#64;", "&#x40;", "&commat;")}
    return {form.lower() for form in found if form}


def _file_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")
