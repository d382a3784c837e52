"""Who is who, from org.changed events, with no I/O: a manager's display name, the units they
were in on a day, and each sub-branch's headcount on a day.

Held the way the compacted org topic holds it: one event per record key (`schemas.routing.org_key`),
a newer event under the same key replaces the older and a tombstone removes it, so the answers are
the same whether or not the broker has compacted yet. Membership on a day is the scoring core's
own `OrgTimeline`, so the boards and the scoring agree on who was where.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from schemas.events import OrgChanged
from schemas.routing import org_key
from streams.core.org import NOWHERE, OrgTimeline, Unit


class OrgDirectory:
    def __init__(self) -> None:
        self._events: dict[str, OrgChanged] = {}  # record key -> event
        self._keys_of: dict[str, set[str]] = {}  # cm id -> its record keys
        self._timelines: dict[str, OrgTimeline] = {}  # cm id -> timeline, rebuilt after a change

    # -- writes -----------------------------------------------------------------------------

    def add(self, event: OrgChanged) -> bool:
        """One event under its own org-topic key; returns whether anything changed."""
        key = org_key(event.model_dump(mode="json"))
        if key is None:  # unreachable for an OrgChanged; keeps the key format in one place
            raise TypeError(f"{event.type} has no org key")
        return self.put(key, event)

    def put(self, key: str, event: OrgChanged | None) -> bool:
        """One org-topic record: the event stored under `key`, or None (a tombstone) to forget it."""
        old = self._events.get(key)
        if old == event:
            return False
        if old is not None:
            self._forget(key, old.data.cm_id)
        if event is not None:
            cm_id = event.data.cm_id
            self._events[key] = event
            self._keys_of.setdefault(cm_id, set()).add(key)
            self._timelines.pop(cm_id, None)
        return True

    def _forget(self, key: str, cm_id: str) -> None:
        del self._events[key]
        keys = self._keys_of[cm_id]
        keys.discard(key)
        if not keys:
            del self._keys_of[cm_id]
        self._timelines.pop(cm_id, None)

    # -- reads ------------------------------------------------------------------------------

    def name(self, cm_id: str) -> str | None:
        """The cm_name of the most recently recorded change that carries one (None if never named)."""
        named = [e for e in self._of(cm_id) if e.data.cm_name]
        if not named:
            return None
        return max(named, key=lambda e: (e.occurred_at, e.event_id)).data.cm_name

    def unit_name(self, unit_id: str) -> str | None:
        """The unit_name of the most recently recorded change into or out of the unit that carries
        one (None if never named)."""
        named = [e for e in self._events.values() if e.data.unit_id == unit_id and e.data.unit_name]
        if not named:
            return None
        return max(named, key=lambda e: (e.occurred_at, e.event_id)).data.unit_name

    def unit_names(self) -> dict[str, str]:
        """Every named unit's display name, by unit id (one pass; for building a board)."""
        newest: dict[str, OrgChanged] = {}
        for e in self._events.values():
            if e.data.unit_name:
                held = newest.get(e.data.unit_id)
                if held is None or (e.occurred_at, e.event_id) > (held.occurred_at, held.event_id):
                    newest[e.data.unit_id] = e
        return {unit: e.data.unit_name for unit, e in newest.items() if e.data.unit_name}

    def unit_of(self, cm_id: str, day: date) -> Unit:
        """The sub-branch and team the manager was in on that Shanghai day (None where in none)."""
        if cm_id not in self._keys_of:
            return NOWHERE
        return self._timeline(cm_id).unit_on(day)

    def headcounts(self, day: date) -> dict[str, int]:
        """Members of each sub-branch on that day; sub-branches with nobody are left out."""
        counts: dict[str, int] = {}
        for cm_id in self._keys_of:
            sub_branch = self._timeline(cm_id).unit_on(day).sub_branch_id
            if sub_branch is not None:
                counts[sub_branch] = counts.get(sub_branch, 0) + 1
        return dict(sorted(counts.items()))

    def sub_branches(self) -> set[str]:
        """Every sub-branch any org change has named (joined or left, at any time)."""
        return {e.data.unit_id for e in self._events.values() if e.data.unit_kind == "sub_branch"}

    def knows(self, cm_id: str) -> bool:
        return cm_id in self._keys_of

    def managers(self) -> list[str]:
        return sorted(self._keys_of)

    def tree(self, day: date) -> list[dict[str, Any]]:
        """The org on that day, for the console: sub-branches (by id) -> teams -> managers, with
        names. Teams are listed under each sub-branch with the members they have there (a team
        may span sub-branches); members in no team come under a team of id None. Managers in no
        sub-branch that day are left out."""
        names = self.unit_names()
        units: dict[str, dict[str | None, list[dict[str, str | None]]]] = {}
        for cm_id in sorted(self._keys_of):
            unit = self._timeline(cm_id).unit_on(day)
            if unit.sub_branch_id is not None:
                teams = units.setdefault(unit.sub_branch_id, {})
                teams.setdefault(unit.team_id, []).append({"cm_id": cm_id, "name": self.name(cm_id)})
        return [
            {
                "id": sub_branch,
                "name": names.get(sub_branch),
                "headcount": sum(len(members) for members in teams.values()),
                "teams": [
                    {"id": team, "name": names.get(team) if team else None, "managers": teams[team]}
                    for team in sorted(teams, key=lambda t: (t is None, t or ""))
                ],
            }
            for sub_branch, teams in sorted(units.items())
        ]

    def __len__(self) -> int:
        return len(self._events)

    def _of(self, cm_id: str) -> list[OrgChanged]:
        return [self._events[k] for k in self._keys_of.get(cm_id, ())]

    def _timeline(self, cm_id: str) -> OrgTimeline:
        timeline = self._timelines.get(cm_id)
        if timeline is None:
            timeline = OrgTimeline()
            for event in self._of(cm_id):
                timeline.add(event)
            self._timelines[cm_id] = timeline
        return timeline
