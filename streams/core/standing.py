"""Where one customer manager stands in one competition: what the standings topic carries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, Field

from streams.core.book import Book
from streams.core.compact import moment_of
from streams.core.points import ZERO
from streams.core.vocabulary import Frozen


class UnitPoints(Frozen):
    """Points earned while the CM belonged to this sub-branch and team (event-time membership)."""

    sub_branch_id: str | None
    team_id: str | None
    points: Decimal


class ScorecardFigures(Frozen):
    composite: Decimal
    penalised: bool
    attainment: dict[str, Decimal]
    actual: dict[str, Decimal]
    previous_composite: Decimal | None = None
    improvement: Decimal | None = None


class BadgeShown(Frozen):
    id: str  # the instance: the badge's id, with "@<period>" for monthly milestones and streak runs
    badge: str
    kind: str  # milestone / threshold / streak / challenge (a challenge's goal reached)
    name: str
    at: AwareDatetime  # when the item that earned it happened


class ChallengeProgress(Frozen):
    value: Decimal
    reached_at: AwareDatetime | None = None
    # team or sub-branch challenges: [moment µs, amount, side] per counted item, in event time
    steps: list[tuple[int, Decimal, str | None]] | None = Field(default=None, exclude_if=lambda v: v is None)


class Standing(Frozen):
    competition_id: str
    cm_id: str
    rule_version: int
    points: Decimal
    components: dict[str, Decimal]
    units: list[UnitPoints]
    metrics: dict[str, int]
    reached_at: AwareDatetime | None = None
    scorecard: ScorecardFigures | None = None
    # Left out when empty, so standings of competitions without badges stay as they were.
    badges: list[BadgeShown] = Field(default_factory=list, exclude_if=lambda v: not v)
    challenges: dict[str, ChallengeProgress] = Field(default_factory=dict, exclude_if=lambda v: not v)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Standing:
        return cls.model_validate(obj)


def standing_of(cm_id: str, book: Book) -> Standing:
    book.settle()
    components: dict[str, Decimal] = {}
    units: dict[tuple[str | None, str | None], Decimal] = {}
    for (component, sub_branch, team), points in book.totals.items():
        components[component] = components.get(component, ZERO) + points
        units[(sub_branch, team)] = units.get((sub_branch, team), ZERO) + points
    metrics: dict[str, int] = {}
    reached: datetime | None = None
    figures: ScorecardFigures | None = None
    for bucket in book.buckets.values():
        for name, n in bucket.metrics.items():
            metrics[name] = metrics.get(name, 0) + n
        if bucket.reached_at is not None and (reached is None or bucket.reached_at > reached):
            reached = bucket.reached_at
        if bucket.extra is not None:
            figures = ScorecardFigures.model_validate(bucket.extra, strict=False)
    return Standing(
        competition_id=book.cid,
        cm_id=cm_id,
        rule_version=book.final_version,
        points=sum(components.values(), ZERO),
        components={k: v for k, v in sorted(components.items()) if v},
        units=[
            UnitPoints(sub_branch_id=sb, team_id=team, points=p)
            for (sb, team), p in sorted(units.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))
            if p
        ],
        metrics=dict(sorted(metrics.items())),
        reached_at=reached,
        scorecard=figures,
        badges=[BadgeShown.model_validate(row) for row in book.held.showing()],
        challenges={
            cid: ChallengeProgress(
                value=Decimal(p["value"]),
                reached_at=moment_of(p["reached_at"]) if p["reached_at"] is not None else None,
                steps=[(int(us), Decimal(a), side) for us, a, side in p["steps"]] if "steps" in p else None,
            )
            for cid, p in sorted(book.challenges.items())
        },
    )
