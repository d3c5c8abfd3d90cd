"""The second reading of the source: the import's own readers, with the redaction as their sink.

Events are matched to the store's ``(session_id, seq)`` by reading the source again with the
same reader the import used, into a :class:`~inspector.core.records.Sink` that numbers events
exactly as the import's writer does: an event the normalisation accepts takes the next ``seq``
of its session, one it refuses takes none. So the numbering cannot drift from the import's,
and it is checked anyway: at the end every session must have as many events as the store
holds, with the same sum of timestamps and of ``type * (seq + 1)`` (an event the plan removes
must also have the type the store has).

When the reader offers an uncompressed NDJSON file whole (as the import let DuckDB take it),
the sink copies it in bulk (:meth:`.writers.FileJob.bulk`) if nothing but the plan's events
needs parsing and the file's lines are exactly the stored events; otherwise it declines and the
reader goes on line by line.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..cancel import CancelToken
from ..records import ConsentRecord, IdentityRecord, RecordError, SessionMeta
from .codec import decode
from .editor import DROP, Editor
from .plan import DriftError, Plan
from .writers import FileJob


class RedactionSink:
    def __init__(self, plan: Plan, editor: Editor, jobs: dict[str, FileJob],
                 cancel: CancelToken) -> None:
        self.plan = plan
        self.editor = editor
        self.jobs = jobs
        self.cancel = cancel
        self.location = ""
        self._seq: Counter[str] = Counter()
        self._sums: dict[str, list[int]] = {}
        self._bulk: set[str] = set()
        #: Records the import refused too (they are left out of the copy).
        self.unreadable = 0

    # -- Sink -----------------------------------------------------------------------------------
    def session(self, meta: SessionMeta) -> None:
        self.plan.session(meta.session_id)  # a session the import did not make is drift

    def event(self, session_id: str, record: Any, location: str,
              window: str | None = None) -> None:
        job = self._job()
        try:
            decoded = decode(record)
        except RecordError:
            self.unreadable += 1
            job.verdict(location, record, DROP, session_id)
            return
        plan = self.plan.session(session_id)
        seq = self._seq[session_id]
        self._seq[session_id] = seq + 1
        sums = self._sums.get(session_id)
        if sums is None:
            sums = self._sums[session_id] = [0, 0]
        sums[0] += decoded.timestamp or 0
        sums[1] += decoded.type * (seq + 1)
        if seq in plan.numbers_only:
            decoded.known_numbers_only()
        removed = plan.removed.get(seq)
        if removed is not None and removed != decoded.type:
            raise DriftError(f"event {seq} of session {session_id!r} is of type "
                             f"{decoded.type} the second time it is read, {removed} the first")
        job.verdict(location, record, self.editor.decide(plan, seq, window, decoded),
                    session_id)

    def problem(self, location: str, reason: str) -> None:
        """Damage the import reported too; what it concerns is left out of the copy."""

    def consent(self, record: ConsentRecord) -> None:
        """The ledger travels from the store (:mod:`.ledger`), not from this reading."""

    def identity(self, record: IdentityRecord, origin: str = "identities") -> None:
        """Identity links travel from the store too."""

    def bulk_ndjson(self, path: str, session_id: str, *, forced: bool = False,
                    max_object_bytes: int = 0) -> bool:
        if self.editor.needs_every_event:
            return False
        if forced:
            plan = self.plan.session(session_id)
        elif len(self.plan.sessions) == 1:
            plan = next(iter(self.plan.sessions.values()))
        else:
            return False  # lines name their sessions: only a line-by-line reading knows them
        if self._seq[plan.session_id]:
            return False
        if not self._job().bulk(path, plan, self.editor, self.cancel):
            return False
        self._seq[plan.session_id] = plan.events
        self._bulk.add(plan.session_id)
        return True

    def check_cancel(self) -> None:
        self.cancel.check()

    def session_events(self, session_id: str) -> int:
        return self._seq[session_id]

    # -- end --------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Check the second reading against the store, session by session."""
        for session_id, plan in self.plan.sessions.items():
            found = self._seq[session_id]
            if found != plan.events:
                raise DriftError(f"session {session_id!r} has {found} events the second time "
                                 f"it is read, {plan.events} the first")
            if session_id not in self._bulk and found and \
                    tuple(self._sums[session_id]) != plan.checksum:
                raise DriftError(f"the events of session {session_id!r} differ the second "
                                 "time they are read")

    def _job(self) -> FileJob:
        job = self.jobs.get(self.location)
        if job is None:
            raise DriftError(f"the reader went to {self.location!r}, which the import did not "
                             "read")
        return job
