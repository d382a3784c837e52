"""Which sub-branch and team a customer manager belonged to on a given Shanghai day.

Built from the manager's org.changed events, applied in (effective_from, occurred_at, event_id)
order whatever order they arrived in: a join sets the unit, a leave clears it if it is the same.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from typing import NamedTuple

from schemas.events import OrgChanged
from schemas.vocabulary import OrgAction, UnitKind


class Unit(NamedTuple):
    sub_branch_id: str | None
    team_id: str | None


NOWHERE = Unit(None, None)


class OrgTimeline:
    def __init__(self) -> None:
        self._changes: list[OrgChanged] = []
        self._days: list[date] = []
        self._units: list[Unit] = []

    def add(self, event: OrgChanged) -> None:
        self._changes.append(event)
        self._changes.sort(key=lambda e: (e.data.effective_from, e.occurred_at, e.event_id))
        self._rebuild()

    def _rebuild(self) -> None:
        current = {UnitKind.SUB_BRANCH: None, UnitKind.TEAM: None}  # type: dict[UnitKind, str | None]
        days: list[date] = []
        units: list[Unit] = []
        for change in self._changes:
            d = change.data
            if d.action is OrgAction.JOIN:
                current[d.unit_kind] = d.unit_id
            elif current[d.unit_kind] == d.unit_id:
                current[d.unit_kind] = None
            unit = Unit(current[UnitKind.SUB_BRANCH], current[UnitKind.TEAM])
            if days and days[-1] == d.effective_from:
                units[-1] = unit
            else:
                days.append(d.effective_from)
                units.append(unit)
        self._days, self._units = days, units

    def unit_on(self, day: date) -> Unit:
        i = bisect_right(self._days, day)
        return self._units[i - 1] if i else NOWHERE

    def change_days(self) -> list[date]:
        return list(self._days)

    def __len__(self) -> int:
        return len(self._changes)
