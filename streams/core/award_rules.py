"""Awards in a competition definition: which prizes a frozen period pays, to whom, and how ties go.

Optional (`Competition.awards`); a definition without it scores as before and has no awards.
The month-end layer (services/awards) computes the award table from the frozen ledger.

    period       "month" (each calendar month of the window is its own award period) or "window"
    ties         share_rank | split | tie_break  (default for every prize; a prize may override)
    eligibility  in_post: in a (participating) sub-branch every day of the period;
                 min_events: at least this many events counted in the period
    prizes       rank (top N by tiers), threshold (at least X points), honour (a title for the top K),
                 team (best team / sub-branch, by default per head)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from streams.core.vocabulary import Frozen

TiesPolicy = Literal["share_rank", "split", "tie_break"]
AwardPeriod = Literal["month", "window"]
UnitRanking = Literal["team", "sub_branch_total", "sub_branch_per_head"]
PersonRanking = Literal["customer_manager"]

Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Label = Annotated[str, Field(min_length=1, max_length=40)]

# The tie-break keys an award can apply from the ledger alone: account counts and improvement live
# in the scorer's state, not in ledger entries (a clawback does not say which account type it undid).
LEDGER_TIE_BREAKS = frozenset({"points_desc", "first_reached"})


class Tier(Frozen):
    """`count` places in a row paying the same: [{"count": 1, "title": "一等奖", "amount": 3000}, ...]."""

    count: int = Field(default=1, ge=1, le=1000)
    title: Label
    amount: Amount = Decimal(0)


class _Ranked(Frozen):
    name: Label
    tiers: list[Tier] = Field(min_length=1, max_length=50)
    ties: TiesPolicy | None = Field(default=None, description="Overrides awards.ties for this prize.")

    @property
    def top(self) -> int:
        return sum(t.count for t in self.tiers)

    def places(self) -> list[Tier]:
        """Place i (0-based) -> its tier."""
        return [tier for tier in self.tiers for _ in range(tier.count)]


class RankPrize(_Ranked):
    """Prizes by rank among the customer managers: the first tier's places first."""

    kind: Literal["rank"] = "rank"
    ranking: PersonRanking = "customer_manager"


class ThresholdPrize(Frozen):
    """Every eligible manager with at least `min_points` in the period."""

    kind: Literal["threshold"] = "threshold"
    name: Label
    min_points: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    title: Label
    amount: Amount = Decimal(0)


class HonourPrize(Frozen):
    """A title without money for the top K managers (小小银行家)."""

    kind: Literal["honour"] = "honour"
    name: Label
    title: Label
    top: int = Field(ge=1, le=1000)
    ties: TiesPolicy | None = None

    def places(self) -> list[Tier]:
        return [Tier(title=self.title)] * self.top


class TeamPrize(_Ranked):
    """The best teams or sub-branches; per head divides by the org's headcount on the period's last day."""

    kind: Literal["team"] = "team"
    ranking: UnitRanking = "sub_branch_per_head"
    min_headcount: int = Field(default=1, ge=1, description="Smaller units take no team prize.")


Prize = Annotated[RankPrize | ThresholdPrize | HonourPrize | TeamPrize, Field(discriminator="kind")]
PRIZE_KINDS = ("rank", "threshold", "honour", "team")


class Eligibility(Frozen):
    in_post: bool = Field(
        default=False,
        description="In a (participating) sub-branch on every day of the period, by the org's history.",
    )
    min_events: int = Field(default=0, ge=0, description="Events that earned entries in the period.")


class Awards(Frozen):
    period: AwardPeriod = "month"
    ties: TiesPolicy = "share_rank"
    eligibility: Eligibility = Field(default_factory=Eligibility)
    prizes: list[Prize] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _distinct(self) -> Awards:
        names = [p.name for p in self.prizes]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"prize names must be distinct ('{name}' repeats)")
        return self

    def ties_of(self, prize: RankPrize | HonourPrize | TeamPrize) -> TiesPolicy:
        return prize.ties or self.ties


def check_tie_break(awards: Awards, tie_break: list[str]) -> str | None:
    """Why the competition's tie_break cannot serve a prize's "tie_break" ties, or None."""
    unusable = sorted(set(tie_break) - LEDGER_TIE_BREAKS)
    if not unusable:
        return None
    for i, prize in enumerate(awards.prizes):
        if isinstance(prize, RankPrize | HonourPrize) and awards.ties_of(prize) == "tie_break":
            where = f"awards.prizes[{i}].ties" if prize.ties else "awards.ties"
            return (
                f"{where}: 'tie_break' needs tie-break keys the ledger holds; "
                f"{', '.join(unusable)} is not one (use share_rank or split)"
            )
    return None
