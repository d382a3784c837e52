"""One ledger entry per change of points: the delta a single event (or a rescore) made to one
component of one participant's score, in one org unit. Summing entries gives the score.

A plain frozen dataclass (the stream mints one per scored event; pydantic construction would be
a third of the core's cost). from_dict validates through pydantic all the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, Field

from streams.core.vocabulary import Frozen


def entry_id(
    competition_id: str,
    rule_version: int,
    event_id: str,
    component: str,
    cm_id: str,
    sub_branch_id: str | None,
    team_id: str | None,
) -> str:
    """Same inputs, same id: a replay or redelivery can never mint a second id for one delta."""
    raw = "\x1f".join(
        [competition_id, str(rule_version), event_id, component, cm_id, sub_branch_id or "", team_id or ""]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    entry_id: str
    event_id: str  # the event that caused the change, or "rescore:<competition>:<n>:<fingerprint>"
    competition_id: str
    rule_version: int
    cm_id: str
    sub_branch_id: str | None  # the CM's unit on the scored item's Shanghai day
    team_id: str | None
    occurred_at: datetime
    points: Decimal  # two decimal places
    component: str
    reason: str
    late: bool = False  # arrived after window end + grace_days: a visible adjustment

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["occurred_at"] = self.occurred_at.isoformat()
        out["points"] = str(self.points)
        return out

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> LedgerEntry:
        return cls(**dict(_Wire.model_validate(obj)))


class _Wire(Frozen):
    """The JSON shape, validated: what from_dict accepts."""

    entry_id: str
    event_id: str
    competition_id: str
    rule_version: int
    cm_id: str
    sub_branch_id: str | None
    team_id: str | None
    occurred_at: AwareDatetime
    points: Decimal = Field(decimal_places=2)
    component: str
    reason: str
    late: bool = False


def make_entry(
    *,
    competition_id: str,
    rule_version: int,
    event_id: str,
    cm_id: str,
    sub_branch_id: str | None,
    team_id: str | None,
    occurred_at: datetime,
    points: Decimal,
    component: str,
    reason: str,
    late: bool = False,
) -> LedgerEntry:
    return LedgerEntry(
        entry_id(competition_id, rule_version, event_id, component, cm_id, sub_branch_id, team_id),
        event_id,
        competition_id,
        rule_version,
        cm_id,
        sub_branch_id,
        team_id,
        occurred_at,
        points,
        component,
        reason,
        late,
    )
