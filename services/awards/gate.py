"""The freeze gate: may a period be frozen now? Pure: positions and parked records in, reasons out.

A period's figures are complete when everything that reached the platform before the freeze has
gone all the way to SQL:
- each stage (validate, dedup, score) has consumed its input topic up to the end offsets taken
  when the freeze was asked for, one stage after the other, so every output of the records
  before those ends is already in the next stage's input (each stage writes its outputs and its
  progress in one transaction);
- the ledger sink has stored score.ledger (and the dead letters) up to the end offsets taken
  after the score stage was found caught up;
- no parked record of the period is waiting: a record the sink could not store, or an event the
  score stage could not score (dead letter `scoring_failed`), whose day falls in the period (or
  whose day cannot be read). An organiser may acknowledge them: the freeze then goes ahead and
  the audit log says who accepted which records.

The raw topic's end at the freeze covers everything that arrived before the cutoff, which the
freeze may only follow; it also covers what arrived since, so a freeze takes all it can.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STAGES = ("validate", "dedup", "score", "sink")


@dataclass(frozen=True)
class Lag:
    """One stage's progress on one input partition against the end offset taken for it."""

    stage: str
    topic: str
    partition: int
    target: int  # the partition's end offset (last stable offset) when it was taken
    position: int | None  # the stage's committed offset (None: it has committed nothing)

    @property
    def behind(self) -> int:
        return max(0, self.target - (self.position or 0))


@dataclass(frozen=True)
class Parked:
    """A record parked on the way to the ledger that may belong to the period."""

    table: str  # "parked_records" (the sink) or "dead_letters" (scoring_failed)
    id: int
    reason: str


@dataclass(frozen=True)
class Gate:
    """What a freeze is checked against. `lags` None: positions are not checked (an API run
    without the streams, CAMPAIGNS_FREEZE_GATE=false); parked records always are."""

    lags: tuple[Lag, ...] | None
    acknowledge_parked: bool = False
    actor: str = "system"

    @classmethod
    def positions_unchecked(cls, *, acknowledge_parked: bool = False, actor: str = "system") -> Gate:
        return cls(None, acknowledge_parked, actor)


def refusal(lags: Sequence[Lag] | None, parked: Sequence[Parked], acknowledged: bool) -> list[str]:
    """Why the period may not be frozen now ([]: it may). One reason per lagging stage, naming
    its topic, how far behind it is and the partitions, and one for unresolved parked records."""
    reasons: list[str] = []
    for stage in STAGES:
        behind = [lag for lag in lags or () if lag.stage == stage and lag.behind > 0]
        if not behind:
            continue
        topics = sorted({lag.topic for lag in behind})
        where = ", ".join(
            f"{lag.topic}[{lag.partition}] at {lag.position if lag.position is not None else 'nothing'}"
            f" of {lag.target}"
            for lag in sorted(behind, key=lambda x: (x.topic, x.partition))
        )
        total = sum(lag.behind for lag in behind)
        # Offsets, not records: a transaction's commit marker takes an offset too.
        reasons.append(f"{stage} is {total} offsets behind the end of {', '.join(topics)} ({where})")
    if parked and not acknowledged:
        ids = ", ".join(f"{p.table} #{p.id}" for p in sorted(parked, key=lambda p: (p.table, p.id))[:20])
        more = f" and {len(parked) - 20} more" if len(parked) > 20 else ""
        reasons.append(
            f"{len(parked)} parked records may belong to this period ({ids}{more}): resend them "
            "corrected, or freeze with acknowledge_parked (recorded in the audit log)"
        )
    return reasons
