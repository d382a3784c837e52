"""Which sub-branch and team a customer manager belonged to on a given Shanghai day.

Built from the manager's org.changed events, applied in (effective_from, occurred_at, event_id)
order whatever order they arrived in: a join sets the unit, a leave clears it if it is the same.
Only the changes themselves are kept (rare and small), as plain tuples.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, NamedTuple

from schemas.events import OrgChanged
from schemas.vocabulary import OrgAction, UnitKind
from streams.core.compact import micros, moment_of


class Unit(NamedTuple):
    sub_branch_id: str | None
    team_id: str | None


NOWHERE = Unit(None, None)

# (effective_from, occurred_at, event_id, action, unit_kind, unit_id): sorts in the order applied
Change = tuple[date, datetime, str, OrgAction, UnitKind, str]


def change_of(event: OrgChanged) -> Change:
    d = event.data
    return (d.effective_from, event.occurred_at, event.event_id, d.action, d.unit_kind, d.unit_id)


class OrgTimeline:
    def __init__(self) -> None:
        self._changes: list[Change] = []
        self._days: list[date] = []
        self._ordinals: list[int] = []  # the same days as ordinals: deposits count days as ints
        self._units: list[Unit] = []
        self.revision = 0  # bumped on every change: lets readers cache what they looked up

    def add(self, event: OrgChanged) -> None:
        self.add_change(change_of(event))

    def add_change(self, change: Change) -> None:
        if change in self._changes:
            return
        insort(self._changes, change)
        self._rebuild()

    def _rebuild(self) -> None:
        current: dict[UnitKind, str | None] = {UnitKind.SUB_BRANCH: None, UnitKind.TEAM: None}
        days: list[date] = []
        units: list[Unit] = []
        for effective, _, _, action, kind, unit_id in self._changes:
            if action is OrgAction.JOIN:
                current[kind] = unit_id
            elif current[kind] == unit_id:
                current[kind] = None
            unit = Unit(current[UnitKind.SUB_BRANCH], current[UnitKind.TEAM])
            if days and days[-1] == effective:
                units[-1] = unit
            else:
                days.append(effective)
                units.append(unit)
        self._days, self._units = days, units
        self._ordinals = [d.toordinal() for d in days]
        self.revision += 1

    def unit_on(self, day: date) -> Unit:
        i = bisect_right(self._days, day)
        return self._units[i - 1] if i else NOWHERE

    def unit_at(self, ordinal: int) -> Unit:
        """unit_on for a day given as its ordinal."""
        i = bisect_right(self._ordinals, ordinal)
        return self._units[i - 1] if i else NOWHERE

    def spans(self, first: int, last: int) -> Iterator[tuple[int, int, Unit]]:
        """Days first..last (ordinals, inclusive) cut where the unit may change: (first, last, unit)."""
        ordinals = self._ordinals
        i = bisect_right(ordinals, first)
        while first <= last:
            unit = self._units[i - 1] if i else NOWHERE
            end = min(last, ordinals[i] - 1) if i < len(ordinals) else last
            yield first, end, unit
            first = end + 1
            i += 1

    def change_days(self) -> list[date]:
        return list(self._days)

    def __len__(self) -> int:
        return len(self._changes)

    def to_list(self) -> list[list[Any]]:
        return [
            [eff.isoformat(), micros(at), eid, action.value, kind.value, unit]
            for eff, at, eid, action, kind, unit in self._changes
        ]

    @classmethod
    def from_list(cls, raw: list[list[Any]]) -> OrgTimeline:
        timeline = cls()
        timeline._changes = sorted(
            (
                date.fromisoformat(eff),
                moment_of(int(at)),
                str(eid),
                OrgAction(action),
                UnitKind(kind),
                str(unit),
            )
            for eff, at, eid, action, kind, unit in raw
        )
        timeline._rebuild()
        return timeline
