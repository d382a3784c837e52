"""When an entry is late: its award period was already frozen when its event reached the platform.

Two facts decide it, and both travel with the records so that the stream and a replay see the
same ones at the same positions:
- when the event reached the platform: the append time of its record on the raw topic, carried
  through validate and dedup as a header (schemas/records.py ARRIVED_HEADER);
- which periods are frozen, and since when: a freeze control record on each partition of the
  validated topic (schemas/control.py FreezeNotice), kept with the partition's rules.

An entry is late when a freeze the partition has read covers its occurred_at and the event
arrived at or after that freeze. Nothing else (the worker's clock, its lag) changes it. A late
entry still counts: the month-end layer carries it into the next open period as an adjustment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FrozenPeriod:
    """One frozen award period of a competition: the entries it owns and when it was frozen."""

    period: str
    owns_from: datetime | None  # occurred_at >= this (None: no lower bound)
    owns_until: datetime | None  # occurred_at < this (None: no upper bound)
    frozen_at: datetime

    def owns(self, occurred_at: datetime) -> bool:
        if self.owns_from is not None and occurred_at < self.owns_from:
            return False
        return self.owns_until is None or occurred_at < self.owns_until

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "owns_from": self.owns_from.isoformat() if self.owns_from else None,
            "owns_until": self.owns_until.isoformat() if self.owns_until else None,
            "frozen_at": self.frozen_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> FrozenPeriod:
        def moment(value: Any) -> datetime | None:
            return None if value is None else datetime.fromisoformat(str(value))

        frozen_at = moment(obj["frozen_at"])
        if frozen_at is None or frozen_at.tzinfo is None:
            raise ValueError("a freeze needs an aware frozen_at")
        return cls(str(obj["period"]), moment(obj.get("owns_from")), moment(obj.get("owns_until")), frozen_at)


@dataclass
class Freezes:
    """The frozen periods a partition has read, per competition. A period is frozen once: a
    repeated notice (the API re-announcing a freeze) keeps the first time."""

    by_competition: dict[str, dict[str, FrozenPeriod]] = field(default_factory=dict)

    def add(self, competition_id: str, frozen: FrozenPeriod) -> bool:
        """True when this notice changed what the partition knows."""
        periods = self.by_competition.setdefault(competition_id, {})
        if frozen.period in periods:
            return False
        periods[frozen.period] = frozen
        return True

    def frozen_for(self, competition_id: str, occurred_at: datetime) -> FrozenPeriod | None:
        for frozen in self.by_competition.get(competition_id, {}).values():
            if frozen.owns(occurred_at):
                return frozen
        return None

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            cid: [periods[p].to_dict() for p in sorted(periods)]
            for cid, periods in sorted(self.by_competition.items())
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any] | None) -> Freezes:
        out = cls()
        for cid, periods in (obj or {}).items():
            for item in periods:
                out.add(str(cid), FrozenPeriod.from_dict(item))
        return out


@dataclass(frozen=True, slots=True)
class Arrival:
    """What the core needs to judge lateness for one record: when it reached the platform (None:
    unknown, e.g. a record written before arrival times were carried: never late) and the
    freezes its partition had read before it."""

    at: datetime | None
    freezes: Freezes


def is_late(competition_id: str, occurred_at: datetime, arrival: Arrival | None) -> bool:
    """The entry's period was frozen at or before the moment its event reached the platform."""
    if arrival is None or arrival.at is None:
        return False
    frozen = arrival.freezes.frozen_for(competition_id, occurred_at)
    return frozen is not None and arrival.at >= frozen.frozen_at
