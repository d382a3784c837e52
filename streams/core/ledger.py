"""One ledger entry per change of points: the delta a single event (or a rescore) made to one
component of one participant's score, in one org unit. Summing entries gives the score.

Each entry says what it counted in `label`, a flat map of plain words ({"kind": "opening",
"account_type": "basic"}; see `streams.core.labels`), so readers never parse the Chinese reason.
Entries written before labels existed have none (None).

A plain frozen dataclass (the stream mints one per scored event; pydantic construction would be
a third of the core's cost). from_dict validates through pydantic all the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints

from streams.core.vocabulary import Frozen


def entry_id(
    competition_id: str,
    rule_version: int,
    event_id: str,
    component: str,
    cm_id: str,
    sub_branch_id: str | None,
    team_id: str | None,
    correction: str | None = None,
) -> str:
    """Same inputs, same id: a replay or redelivery can never mint a second id for one delta.
    A re-score's entry for one event (`correction` set) gets an id of its own, apart from the
    event's live entries; without it the id is what it always was."""
    parts = [
        competition_id,
        str(rule_version),
        event_id,
        component,
        cm_id,
        sub_branch_id or "",
        team_id or "",
    ]
    if correction is not None:
        parts.append(correction)
    raw = "\x1f".join(parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    entry_id: str
    # the event that caused the change (or whose item a re-score corrected), or
    # "rescore:<competition>:<n>:<fingerprint>:<day>" for a re-score's correction of one day
    event_id: str
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
    # "rescore:<competition>:<n>:<fingerprint>" when a re-score wrote the entry, else None
    correction: str | None = None
    label: dict[str, str] | None = None  # what it counted; None on entries older than labels

    def to_dict(self) -> dict[str, Any]:
        # Written out, not dataclasses.asdict: asdict deep-copies field by field, and this runs
        # once per entry on the stream's hot path. Same keys, same order.
        label = self.label
        return {
            "entry_id": self.entry_id,
            "event_id": self.event_id,
            "competition_id": self.competition_id,
            "rule_version": self.rule_version,
            "cm_id": self.cm_id,
            "sub_branch_id": self.sub_branch_id,
            "team_id": self.team_id,
            "occurred_at": self.occurred_at.isoformat(),
            "points": str(self.points),
            "component": self.component,
            "reason": self.reason,
            "late": self.late,
            "correction": self.correction,
            "label": None if label is None else dict(label),
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> LedgerEntry:
        # The model's own field dict: dict(model) iterates it field by field, twice the cost.
        return cls(**_Wire.model_validate(obj).__dict__)


# A label is a few plain words (streams/core/labels.py): bounded, and free of NUL, which a
# PostgreSQL text cannot hold.
LabelKey = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
LabelValue = Annotated[str, StringConstraints(max_length=64, pattern=r"^[^\x00]*$")]


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
    correction: str | None = Field(default=None, max_length=128)
    label: Annotated[dict[LabelKey, LabelValue], Field(max_length=16)] | None = None


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
    correction: str | None = None,
    label: dict[str, str] | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        entry_id(
            competition_id, rule_version, event_id, component, cm_id, sub_branch_id, team_id, correction
        ),
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
        correction,
        label,
    )
