"""Which part of the history a preview needs: pure, so it is unit-tested without a broker.

The 400-day history (events.validated) is read once per preview; most of it is usually not
needed. Two cuts, both safe for every rule kind:

- by type: only the event types the competition's rules index (every version compared, the
  draft included), plus org moves (membership) and manual adjustments. The type is read from
  the record's bytes before anything is parsed (`type_of`).
- by time, for day-based kinds only (openings, payroll, sales, visits): an item scores only if it
  occurred in the window, so records written to the topic before the earliest window start (with
  a day's margin for clock skew) cannot count. Deposits and scorecards need balances from before
  the window (the baseline, a previous period): their previews read from the beginning.

Org moves are read whole from the compacted org topic, so membership is right however much of
the validated topic the time cut skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from streams.core.book import SCORERS
from streams.core.calendar import start_of
from streams.core.rules import Competition
from streams.core.vocabulary import DAILY_KINDS

ALWAYS = frozenset({"org.changed", "points.adjusted"})
MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class HistoryPlan:
    types: frozenset[str]
    since: datetime | None  # records written before this instant are skipped; None: read all

    def wants(self, event_type: str | None) -> bool:
        """None (the type could not be read from the bytes): keep it, the parser decides."""
        return event_type is None or event_type in self.types


def plan_for(competitions: Iterable[Competition]) -> HistoryPlan:
    versions = list(competitions)
    kinds = {rule.kind for comp in versions for rule in comp.rules}
    types = set(ALWAYS)
    for kind in kinds:
        types |= SCORERS[kind].types
    since = None
    if versions and kinds <= set(DAILY_KINDS):
        since = start_of(min(comp.window.start for comp in versions)) - MARGIN
    return HistoryPlan(frozenset(types), since)


def type_of(value: bytes) -> str | None:
    """The envelope's `type`, read from canonical JSON bytes without parsing them; None when the
    bytes do not look like an event. An event id cannot contain a quote, so the first `"type"`
    key is the envelope's (it comes before `data` in every writer's field order)."""
    at = value.find(b'"type"')
    if at < 0:
        return None
    colon = value.find(b":", at + 6)
    start = value.find(b'"', colon + 1)
    if colon < 0 or start < 0 or value[colon + 1 : start].strip():
        return None
    end = value.find(b'"', start + 1)
    if end < 0:
        return None
    try:
        return value[start + 1 : end].decode("ascii")
    except UnicodeDecodeError:
        return None
