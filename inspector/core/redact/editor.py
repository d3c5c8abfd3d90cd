"""The verdict on each source event: kept as it is, dropped, or kept changed.

In order: a removed event goes (a flagged move batch may keep the positions recorded outside
the opt-out, :func:`trimmed`); in a tracked session what depends on removed events goes
(:mod:`.integrity`); what is kept is masked and pseudonymised when asked (:mod:`.masking`). A
changed event is re-encoded the way its record came (:func:`.codec.encode`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from . import integrity
from .codec import Decoded, encode
from .masking import EventMasker
from .plan import SessionPlan


class _Verdict:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The event is written exactly as it was read.
KEEP = _Verdict("KEEP")
#: The event is left out of the copy.
DROP = _Verdict("DROP")


class Editor:
    def __init__(self, *, masker: EventMasker | None = None,
                 collect: Any | None = None) -> None:
        """``masker`` masks and pseudonymises kept events; ``collect(decoded)`` sees every
        source event before anything is changed (the verification's record of personal data).
        """
        self.masker = masker
        self.collect = collect
        self._pages: dict[str, integrity.KeptPage] = {}
        self.counts: Counter[str] = Counter()

    @property
    def needs_every_event(self) -> bool:
        """Whether every event must be parsed (masking, pseudonyms, collecting values)."""
        return self.masker is not None or self.collect is not None

    @property
    def dependents(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for page in self._pages.values():
            total.update(page.counts)
        return total

    def checkpoint(self) -> tuple[Counter[str], dict[str, integrity.KeptPage]]:
        """State to go back to if a bulk copy gives up half way (see :meth:`restore`)."""
        return Counter(self.counts), dict(self._pages)

    def restore(self, state: tuple[Counter[str], dict[str, integrity.KeptPage]]) -> None:
        self.counts, self._pages = Counter(state[0]), dict(state[1])

    def needs_content(self, plan: SessionPlan, seq: int) -> bool:
        """Whether the verdict on this event needs its content (else: by the plan alone)."""
        if self.needs_every_event or seq in plan.trim:
            return True
        if not plan.tracked:
            return False
        return seq in plan.dom_seqs or plan.removed.get(seq) == 2

    def decide(self, plan: SessionPlan, seq: int, window: Any,
               decoded: Decoded | None) -> Any:
        """KEEP, DROP, or the changed record. ``decoded`` may be None only when
        :meth:`needs_content` says the content is not needed."""
        if decoded is not None:
            if self.collect is not None:
                self.collect(decoded)
            if self.masker is not None:
                self.masker.observe(plan.session_id, window, decoded.type)
        removed = plan.removed.get(seq)
        if decoded is None:
            if removed == 2 and plan.tracked:
                self._page(plan).lost(window)
            return KEEP if removed is None else DROP
        data = original = decoded.data
        if removed is not None:
            data = trimmed(decoded, plan.intervals) if seq in plan.trim else None
            if data is None:
                if removed == 2 and plan.tracked:
                    self._page(plan).lost(window)
                return DROP
            self.counts["trimmed_batches"] += 1
            self.counts["trimmed_positions"] += len(original["positions"]) \
                - len(data["positions"])
        changed = data is not original
        if plan.tracked:
            kept = self._page(plan).apply(window, decoded.type, decoded.source, data,
                                          filtering=seq > (plan.first_removed or 0))
            if kept is integrity.DROP:
                self.counts["dependent_events"] += 1
                return DROP
            changed |= kept is not data
            data = kept
        if self.masker is not None and self.masker.mask(
                plan.session_id, window, decoded.type, decoded.source, data,
                numbers_only=decoded.numbers_only()):
            changed = True
            self.counts["masked_events"] += 1
        return encode(decoded, data) if changed else KEEP

    def _page(self, plan: SessionPlan) -> integrity.KeptPage:
        page = self._pages.get(plan.session_id)
        if page is None:
            page = self._pages[plan.session_id] = integrity.KeptPage()
        return page


def trimmed(decoded: Decoded, intervals: list[tuple[float, float | None]]) -> dict | None:
    """A flagged move batch with only its positions outside every interval, or None.

    A position's instant is the batch's timestamp plus its ``timeOffset`` (0 when it has none),
    as the audit computes it.
    """
    data = decoded.data
    positions = data.get("positions") if isinstance(data, dict) else None
    if decoded.timestamp is None or not isinstance(positions, list):
        return None
    kept = [p for p in positions if isinstance(p, dict)
            and not _covered(decoded.timestamp + _offset(p), intervals)]
    return {**data, "positions": kept} if kept else None


def _offset(position: dict) -> float:
    value = position.get("timeOffset")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _covered(instant: float, intervals: list[tuple[float, float | None]]) -> bool:
    return any(instant >= start and (end is None or instant < end) for start, end in intervals)
