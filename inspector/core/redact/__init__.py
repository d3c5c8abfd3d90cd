"""The redacted export: a copy of a recording without what was captured after an opt-out.

:func:`redact` is the one entry point (``inspector redact``, the app's File → Export redacted
copy…, tests). It builds on the audit, whose rules decide what is flagged
(docs/audit-rules.md), and writes the copy in the input's own container (docs/redaction.md):

1. import PATH into a temporary database, add the ``consent`` and ``identities`` files, and
   run the audit's flagging rules (:func:`inspector.core.audit.flagging.run`);
2. plan, per session, what goes (:mod:`.plan`);
3. read PATH again with the import's own readers into a sink that numbers events as the import
   did (:mod:`.stream`), deciding on each (:mod:`.editor`: removal, :mod:`.integrity`,
   :mod:`.masking`, :mod:`.pseudonym`), and write each file in its source's shape
   (:mod:`.writers`, :mod:`.containers`), with the carried ledger (:mod:`.ledger`) and the
   redaction record (:mod:`.record`);
4. import the copy and audit it (:mod:`.verify`): if anything flagged, or any personal data
   that should be gone, is still there, nothing is written;
5. rename the copy into place (:mod:`.output`).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from .. import formats
from ..audit import flagging
from ..audit.keys import IdentityGraph
from ..audit.ledger import CONSENT, IDENTITIES, add_records_file
from ..cancel import CancelToken
from ..errors import Cancelled, InputError, SkipFile, UsageError
from ..formats import jsondoc, replay_archive
from ..gcpause import no_cycle_collection
from ..importer import ImportProgress, import_paths
from ..sources import Source, is_zip
from ..store import Store
from . import ledger as ledger_module
from . import output
from . import record as record_module
from .containers import ArchiveContainer, Container, FileContainer
from .editor import Editor
from .masking import EventMasker, FieldJudge, FieldVerdict, Leaves
from .plan import DriftError, Plan, build_plan, mark_numbers_only
from .pseudonym import MIN_KEY_IN_TEXT, Pseudonymizer
from .scratch import scratch_store
from .stream import RedactionSink
from .verify import ExpectedSession, RedactionFailed, ValueCollector, verify

__all__ = ["DriftError", "RedactProgress", "RedactionFailed", "RedactionResult", "redact"]

#: Field kinds whose values only their field's name shows to be personal (no pattern does).
_NAMED_KINDS = frozenset({"password", "username"})
_STAGES = {"importing": (0.0, 0.35), "auditing": (0.35, 0.45), "writing": (0.45, 0.75),
           "verifying": (0.75, 1.0)}


@dataclass
class RedactProgress:
    stage: str  # importing | auditing | writing | verifying
    fraction: float  # 0..1 over the whole redaction


@dataclass
class RedactionResult:
    out: Path
    #: The redaction record beside a single-file copy (None: inside the archive).
    record_path: Path | None
    record: dict
    sessions_in: int
    sessions_out: int
    events_in: int
    events_out: int
    flagged_removed: int
    masked: int
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"out": str(self.out),
                "record": str(self.record_path) if self.record_path else None,
                "sessions": {"source": self.sessions_in, "copy": self.sessions_out},
                "events": {"source": self.events_in, "copy": self.events_out},
                "counts": self.record["counts"]}

    def as_text(self) -> str:
        counts = self.record["counts"]
        removed = counts["removed"]
        lines = [f"wrote {self.out}: {self.sessions_out} of {self.sessions_in} sessions, "
                 f"{self.events_out:,} of {self.events_in:,} events",
                 f"  removed: {removed['flagged']:,} flagged events, "
                 f"{removed['undetermined']:,} undetermined, "
                 f"{removed['dependent']['events']:,} dependent events, "
                 f"{removed['positions']['positions_removed']:,} positions from "
                 f"{removed['positions']['batches_trimmed']:,} straddling batches"]
        if "masked" in counts:
            kinds = ", ".join(f"{kind} {n:,}" for kind, n in counts["masked"]["by_kind"].items())
            lines.append(f"  masked: {counts['masked']['total']:,} pieces of personal data "
                         f"({kinds or 'none'})")
        if "pseudonymized" in counts:
            pseudonyms = counts["pseudonymized"]
            lines.append(f"  pseudonymised: {pseudonyms['keys']:,} keys, "
                         f"{pseudonyms['emails']:,} e-mail addresses")
        where = self.record_path or f"{self.out}/{record_module.MEMBER}"
        lines.append(f"  record: {where}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def redact(path: str | os.PathLike[str], out: str | os.PathLike[str], *,
           consent: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
           identities: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
           tolerance_ms: int = 0, mask_pii: bool = False,
           pseudonymize_key: str | os.PathLike[str] | None = None, force: bool = False,
           progress: Callable[[RedactProgress], None] | None = None,
           cancel: CancelToken | None = None) -> RedactionResult:
    """Write a redacted copy of ``path`` at ``out`` (see the module doc and docs/redaction.md).

    Raises an :class:`~inspector.core.errors.InspectorError` (nothing written at ``out``) for
    bad input, a refused destination, or a copy that fails its check; :class:`Cancelled`
    when cancelled.
    """
    if isinstance(tolerance_ms, bool) or not isinstance(tolerance_ms, int) or tolerance_ms < 0:
        raise UsageError(f"the tolerance must be a whole number of milliseconds >= 0, not "
                         f"{tolerance_ms!r}")
    cancel = cancel or CancelToken()
    source = Path(path)
    if not source.exists():
        raise InputError("does not exist", path=str(source), hint="check the path")
    source = source.resolve()
    pseudonymizer = Pseudonymizer.from_file(pseudonymize_key) if pseudonymize_key else None
    reader = _reader(source)
    target = output.check(source, Path(out), folder=source.is_dir(),
                          single_file=reader is not None, force=force)
    staging = output.Staging(target)
    try:
        with tempfile.TemporaryDirectory(prefix="inspector-redact-") as work, \
                no_cycle_collection():
            job = _Redaction(source, reader, staging, Path(work), cancel=cancel,
                             progress=progress, tolerance_ms=tolerance_ms, mask_pii=mask_pii,
                             pseudonymizer=pseudonymizer)
            result = job.run(_paths(consent), _paths(identities), target, force=force)
        cancel.check()
        staging.install()
    except (Cancelled, duckdb.InterruptException) as exc:
        staging.discard()
        raise Cancelled() from exc
    except BaseException:
        staging.discard()
        raise
    return result


def _paths(value: Any) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [Path(value)]
    return [Path(v) for v in value]


def _reader(source: Path):
    """The reader of a single-file input, or None for a replay archive; refuses the rest."""
    if source.is_dir():
        if replay_archive.is_archive(source):
            return None
        raise UsageError("is a folder of recordings, not a replay archive (no manifest.json)",
                         path=str(source), hint="redact its files one by one")
    if is_zip(source):
        if replay_archive.is_archive(source):
            return None
        raise UsageError("is a zip of recordings, not a replay archive (no manifest.json)",
                         path=str(source), hint="unpack it and redact its files one by one")
    reader, _ = formats.detect(Source(str(source), path=source))
    return reader


class _Redaction:
    """One run of :func:`redact` inside its temporary folder."""

    def __init__(self, source: Path, reader, staging: output.Staging, work: Path, *,
                 cancel: CancelToken, progress: Callable[[RedactProgress], None] | None,
                 tolerance_ms: int, mask_pii: bool,
                 pseudonymizer: Pseudonymizer | None) -> None:
        self.source = source
        self.reader = reader
        self.staging = staging
        self.work = work
        self.cancel = cancel
        self._progress = progress
        self.tolerance_ms = tolerance_ms
        self.mask_pii = mask_pii
        self.pseudonymizer = pseudonymizer

    def progress(self, stage: str, fraction: float) -> None:
        if self._progress is not None:
            low, high = _STAGES[stage]
            self._progress(RedactProgress(stage, low + (high - low) * min(1.0, fraction)))

    def run(self, consent: list[Path], identities: list[Path], target: output.Target, *,
            force: bool) -> RedactionResult:
        # The import's parsed documents are the writing's: a large one takes longer to parse
        # (and free) than anything done with it. Dropped before the copy is read back.
        with scratch_store(self.work) as store, jsondoc.kept_documents() as documents:
            archive, added = self._import(store, consent, identities)
            con = store.cursor()
            remove_interrupt = self.cancel.on_cancel(con.interrupt)
            judging = None
            try:
                self.progress("auditing", 0.0)
                if self.mask_pii or self.pseudonymizer is not None:
                    # Pass 1 of masking needs only the stored events: it reads them in Python
                    # on a thread of its own while DuckDB audits, which leaves Python free.
                    judging = _Judging(store, archive.archive_id, self.cancel)
                flagging.run(con, IdentityGraph.load(con), self.tolerance_ms, cancel=self.cancel)
                plan = build_plan(con, archive.archive_id)
                verdicts = None
                if judging is not None:
                    mark_numbers_only(con, plan)
                    verdicts = judging.result()
                self.progress("auditing", 1.0)
                return self._write(con, plan, archive, added, target, documents, verdicts,
                                   force=force)
            finally:
                if judging is not None:
                    judging.stop()
                remove_interrupt()
                con.close()

    def _import(self, store: Store, consent: list[Path], identities: list[Path]):
        def imported(step: ImportProgress) -> None:
            self.progress("importing", step.fraction)

        report = import_paths(store, [self.source], progress=imported, cancel=self.cancel)
        archive = report.archives[0]
        if archive.status != "imported":
            raise InputError(archive.error or f"could not be imported ({archive.status})")
        added = {CONSENT: [], IDENTITIES: []}
        for kind, paths in ((IDENTITIES, identities), (CONSENT, consent)):
            for path in paths:
                result = add_records_file(store, path, kind)
                added[kind].append({"file": Path(result.path).name, "sha256": result.sha256,
                                    "records": result.records})
        return archive, added

    # -- the copy ---------------------------------------------------------------------------------
    def _write(self, con: duckdb.DuckDBPyConnection, plan: Plan, archive, added: dict,
               target: output.Target, documents: jsondoc.KeptDocuments,
               verdicts: dict[Any, FieldVerdict] | None, *, force: bool) -> RedactionResult:
        """``verdicts``: the sensitive fields (pass 1 of masking), when masking or
        pseudonymising."""
        pseudonymizer = self.pseudonymizer
        if pseudonymizer is not None:
            pseudonymizer.know_keys(ledger_module.all_keys(con))
        leaves = masker = collector = None
        if verdicts is None:
            verdicts = {}
        else:
            leaves = Leaves(mask=self.mask_pii, pseudonymizer=pseudonymizer)
            masker = EventMasker(leaves, verdicts)
            collector = ValueCollector(kinds=None if self.mask_pii else ("email",))
        editor = Editor(masker=masker, collect=collector)
        container: Container = ArchiveContainer(self.source, self.staging) \
            if self.reader is None else FileContainer(self.source, self.reader, self.staging,
                                                      leaves=leaves)
        try:
            self.progress("writing", 0.0)
            sink = RedactionSink(plan, editor, container.jobs, self.cancel)
            try:
                container.read(sink)
            except SkipFile as exc:
                raise InputError(str(exc)) from exc
            sink.finish()
            container.finish(self.cancel)
            documents.close()
            self.progress("writing", 0.7)
            written = container.written
            kept = {sid: p for sid, p in plan.sessions.items() if written[sid]}
            if not kept:
                raise RedactionFailed("every event of the recording is flagged, so a redacted "
                                      "copy would be empty; nothing was written",
                                      hint="there is nothing to share")
            consent, identities = ledger_module.carried(
                con, [k for p in kept.values() for k in (p.subject, p.device)], pseudonymizer)
            expected = [ExpectedSession(sid, self._key(p.subject), self._key(p.device),
                                        written[sid]) for sid, p in kept.items()]
            # After every key the copy carries has been pseudonymised, so all are counted.
            counts = self._counts(plan, editor, sink, container, leaves, masker)
            record = record_module.make(
                source={"name": self.source.name, "format": container.fmt
                        if self.reader is not None else archive.format,
                        "sha256": archive.sha256},
                options=self._options(added, force), counts=counts, files={})
            if isinstance(container, ArchiveContainer):
                container.complete(plan.sessions, consent, identities, pseudonymizer, record)
            else:
                record["sessions"] = [{"session_id": e.session_id, "subject": e.subject,
                                       "device": e.device, "events": e.events}
                                      for e in expected]
                record["ledger"] = {"consent": consent, "identities": identities}
                container.complete(record)
            self.progress("writing", 1.0)
            values, secrets = self._values(collector, verdicts, con)
            verified = verify(container.copy, expected=expected,
                              ledger=None if container.carries_ledger else (consent, identities),
                              settable_keys=container.settable_keys,
                              tolerance_ms=self.tolerance_ms, values=values, secrets=secrets,
                              files=container.files(), workspace=self.work, cancel=self.cancel,
                              progress=lambda f: self.progress("verifying", f))
            if isinstance(container, FileContainer):
                copy_ids = {source_id: copy_id for copy_id, source_id in verified.renamed.items()}
                for entry in record["sessions"]:
                    entry["copy_session_id"] = copy_ids.get(entry["session_id"],
                                                            entry["session_id"])
                record_module.write(container.sidecar, record)
            notes = []
            for copy_id, source_id in verified.renamed.items():
                notes.append(f"session {source_id!r} is named {copy_id!r} in the copy (its "
                             "name comes from the file name)")
        finally:
            container.close()
        self.progress("verifying", 1.0)
        return RedactionResult(
            out=target.out, record_path=target.sidecar, record=record,
            sessions_in=len(plan.sessions), sessions_out=len(kept),
            events_in=sum(p.events for p in plan.sessions.values()),
            events_out=sum(written.values()),
            flagged_removed=counts["removed"]["flagged"],
            masked=counts.get("masked", {}).get("total", 0), notes=notes)

    def _key(self, value: str | None) -> str | None:
        return self.pseudonymizer.key(value) if self.pseudonymizer is not None and value \
            else value

    def _options(self, added: dict, force: bool) -> dict:
        pseudonymizer = self.pseudonymizer
        return {"consent": added[CONSENT], "identities": added[IDENTITIES],
                "tolerance_ms": self.tolerance_ms, "mask_pii": self.mask_pii,
                "pseudonymize": None if pseudonymizer is None else {
                    "algorithm": "HMAC-SHA256 of the normalised value, first 16 hex digits",
                    "key_id": pseudonymizer.key_id},
                "force": force}

    def _counts(self, plan: Plan, editor: Editor, sink: RedactionSink, container: Container,
                leaves: Leaves | None, masker: EventMasker | None) -> dict:
        written = container.written
        dependents = editor.dependents
        counts: dict[str, Any] = {
            "sessions": {"source": len(plan.sessions),
                         "copy": sum(1 for sid in plan.sessions if written[sid])},
            "events": {"source": sum(p.events for p in plan.sessions.values()),
                       "copy": sum(written.values())},
            "removed": {
                "flagged": plan.flagged - editor.counts["trimmed_batches"],
                "flagged_by_category": dict(sorted(plan.categories.items())),
                "undetermined": plan.undetermined,
                "positions": {"batches_trimmed": editor.counts["trimmed_batches"],
                              "positions_removed": editor.counts["trimmed_positions"]},
                "dependent": {
                    "events": editor.counts["dependent_events"],
                    "by_kind": _section(dependents, "events_"),
                    "operations": _section(dependents, "operations_"),
                    "references_rewritten": _section(dependents, "references_")},
                "unreadable_records": sink.unreadable + container.unreadable,
                "sessions": sum(1 for sid in plan.sessions if not written[sid]),
            },
        }
        if self.mask_pii and leaves is not None and masker is not None:
            by_kind: Counter[str] = Counter()
            for found in leaves.counts.values():
                by_kind.update(found)
            counts["masked"] = {
                "total": sum(by_kind.values()),
                "by_kind": dict(sorted(by_kind.items())),
                "by_channel": {channel: dict(sorted(found.items()))
                               for channel, found in sorted(leaves.counts.items()) if found},
                "sensitive_fields": len(masker.fields_masked),
                "sensitive_values": masker.values_masked,
                "events_changed": editor.counts["masked_events"]}
        if self.pseudonymizer is not None:
            counts["pseudonymized"] = {"keys": len(self.pseudonymizer.keys_seen),
                                       "emails": len(self.pseudonymizer.emails_seen)}
        return counts

    def _values(self, collector: ValueCollector | None, verdicts: dict[Any, FieldVerdict],
                con: duckdb.DuckDBPyConnection) -> tuple[set[str], list[bytes]]:
        if collector is None:
            return set(), []
        if self.mask_pii:
            collector.add_named(value for verdict in verdicts.values()
                                if verdict.kind in _NAMED_KINDS for value in verdict.settled)
        values = set(collector.values)
        keys = ledger_module.all_keys(con)
        if self.pseudonymizer is None:
            values -= keys
            return values, []
        values |= {key for key in keys if len(key) >= MIN_KEY_IN_TEXT}
        return values, self.pseudonymizer.secret_forms()


def _section(counts: Counter[str], prefix: str) -> dict[str, int]:
    return {name[len(prefix):]: count for name, count in sorted(counts.items())
            if name.startswith(prefix) and count}


class _Judging:
    """:func:`_judge_fields` on a thread of its own, reading through a cursor of its own."""

    def __init__(self, store: Store, archive_id: int, cancel: CancelToken) -> None:
        self._cursor = store.cursor()
        self._remove_interrupt = cancel.on_cancel(self._cursor.interrupt)
        self._verdicts: dict | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(archive_id, cancel),
                                        name="judge-fields", daemon=True)
        self._thread.start()

    def _run(self, archive_id: int, cancel: CancelToken) -> None:
        try:
            self._verdicts = _judge_fields(self._cursor, archive_id, cancel)
        except BaseException as exc:  # given to the caller by result()
            self._error = exc

    def result(self) -> dict:
        self.stop()
        if self._error is not None:
            raise self._error
        assert self._verdicts is not None
        return self._verdicts

    def stop(self) -> None:
        """Wait for the thread (a cancel ends it at its next batch) and close its cursor."""
        self._thread.join()
        if self._cursor is not None:
            self._remove_interrupt()
            self._cursor.close()
            self._cursor = None


def _judge_fields(con: duckdb.DuckDBPyConnection, archive_id: int,
                  cancel: CancelToken) -> dict:
    """Pass 1 of masking: every page and keystroke of the archive, in each session's order."""
    judge = FieldJudge()
    reader = con.sql("""
        SELECT session_id, window_id, type, source, data FROM events
        WHERE archive_id = $aid AND (type = 2 OR (type = 3 AND source IN (0, 5)))
        ORDER BY session_id, seq""", params={"aid": archive_id}).to_arrow_reader(10_000)
    for batch in reader:
        cancel.check()
        columns = batch.to_pydict()
        for sid, window, kind, source, data in zip(
                columns["session_id"], columns["window_id"], columns["type"], columns["source"],
                columns["data"], strict=True):
            judge.feed(sid, window, kind, source, orjson.loads(data) if data else None)
    return judge.verdicts()
