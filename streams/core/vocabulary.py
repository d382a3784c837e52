"""The closed vocabulary of scoring rules: typed models discriminated on `kind`. No code in rules.

Each competition holds at most one rule of each kind; the rule says how many points one item
(an opening, a sale, a visit, an agreement, an account's growth, a scorecard) is worth.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.vocabulary import (
    AccountType,
    Channel,
    CloseKind,
    DepositCategory,
    Product,
    Segment,
    VisitChannel,
)

Points = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
PositivePoints = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Ratio = Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=4)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountOpeningRule(Frozen):
    """多开户、多开基本户: points per opened account, bonuses, caps and a clawback."""

    kind: Literal["account_opening"] = "account_opening"
    points: dict[AccountType, Points] = Field(
        description="Base points by account type; a missing type scores 0."
    )
    segment_bonus: dict[Segment, Points] = Field(default_factory=dict)
    channel_bonus: dict[Channel, Points] = Field(default_factory=dict)
    new_firm_bonus: Points = Decimal(0)
    bonus_account_types: list[AccountType] = Field(
        default_factory=list,
        description="Account types that earn the bonuses; empty = every type with base points.",
    )
    daily_cap: PositivePoints | None = Field(
        default=None, description="Most opening points per participant per day."
    )
    contest_cap: PositivePoints | None = Field(
        default=None, description="Most opening points per participant."
    )
    clawback_days: int | None = Field(
        default=None,
        ge=0,
        le=366,
        description="An account closed within this many days of opening scores nothing.",
    )
    clawback_kinds: list[CloseKind] = Field(default_factory=lambda: [CloseKind.CLOSED, CloseKind.MOVED_AWAY])


class DepositGrowthRule(Frozen):
    """存款增量: points per 万元 of balance growth over a baseline date, weighted by category."""

    kind: Literal["deposit_growth"] = "deposit_growth"
    measure: Literal["point_in_time", "daily_average"] = Field(description="时点 or 日均.")
    baseline_date: date | None = Field(default=None, description="Default: the day before the window starts.")
    points_per_wan: PositivePoints = Field(description="Points per 10,000 yuan of weighted growth.")
    weights: dict[DepositCategory, Ratio] = Field(
        description="Category weights; a missing category counts 0."
    )


class PayrollRule(Frozen):
    """代发工资: an agreement signed in the window scores once its first batch is paid in the window."""

    kind: Literal["payroll"] = "payroll"
    points_per_agreement: Points = Decimal(0)
    points_per_head: Points = Field(
        default=Decimal(0), description="Times the agreement's largest batch headcount paid in the window."
    )
    daily_cap: PositivePoints | None = None
    contest_cap: PositivePoints | None = None


class ProductSoldRule(Frozen):
    """三小一卡 and other products: points per sale by product."""

    kind: Literal["product_sold"] = "product_sold"
    points: dict[Product, Points]
    daily_cap: PositivePoints | None = None
    contest_cap: PositivePoints | None = None


class VisitRule(Frozen):
    """拜访: points per visit by channel."""

    kind: Literal["visit"] = "visit"
    points: dict[VisitChannel, Points]
    daily_cap: PositivePoints | None = None
    contest_cap: PositivePoints | None = None


class Dimension(Frozen):
    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    measure: Literal["customers", "deposit_increase", "payroll_agreements", "products"]
    segment: Segment | None = Field(default=None, description="customers only: count this class only.")
    products: list[Product] = Field(default_factory=list, description="products only: empty = every product.")
    target: Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
    weight: Annotated[Decimal, Field(gt=0, max_digits=6, decimal_places=4)]

    @model_validator(mode="after")
    def _fits_measure(self) -> Dimension:
        if self.segment is not None and self.measure != "customers":
            raise ValueError("segment is only allowed with measure 'customers'")
        if self.products and self.measure != "products":
            raise ValueError("products is only allowed with measure 'products'")
        return self


class Period(Frozen):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class ScorecardRule(Frozen):
    """小小银行家: capped attainment per dimension, weighted into one composite, with a balance penalty."""

    kind: Literal["scorecard"] = "scorecard"
    dimensions: list[Dimension] = Field(min_length=1)
    attainment_cap: Annotated[Decimal, Field(ge=1, max_digits=6, decimal_places=4)] = Decimal("1.2")
    balance_floor: Ratio = Field(
        default=Decimal("0.6"),
        description="If any dimension's attainment is below this, the penalty applies.",
    )
    balance_penalty: Ratio = Field(
        default=Decimal("0.8"), le=1, description="Multiplier of a penalised composite."
    )
    scale: PositivePoints = Field(default=Decimal(100), description="Composite points at 100% attainment.")
    previous_period: Period | None = Field(
        default=None, description="For 'most improved': the period compared with."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> ScorecardRule:
        names = [d.name for d in self.dimensions]
        if len(names) != len(set(names)):
            raise ValueError("dimension names must be unique")
        return self


Rule = Annotated[
    AccountOpeningRule | DepositGrowthRule | PayrollRule | ProductSoldRule | VisitRule | ScorecardRule,
    Field(discriminator="kind"),
]

DAILY_KINDS = ("account_opening", "payroll", "product_sold", "visit")
RuleKind = Literal["account_opening", "deposit_growth", "payroll", "product_sold", "visit", "scorecard"]


class Multiplier(Frozen):
    """E.g. a double-points week: day-based points (openings, payroll, sales, visits) times factor."""

    kind: Literal["multiplier"] = "multiplier"
    start: date
    end: date
    factor: Annotated[Decimal, Field(ge=0, le=10, max_digits=6, decimal_places=4)]
    applies_to: list[Literal["account_opening", "payroll", "product_sold", "visit"]] = Field(
        default_factory=list, description="Rule kinds multiplied; empty = every day-based kind."
    )
    label: str = Field(default="倍数积分", max_length=40)

    @model_validator(mode="after")
    def _ordered(self) -> Multiplier:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class MinimumTotal(Frozen):
    """A participant whose total is below `points` counts 0 (达标门槛)."""

    kind: Literal["minimum_total"] = "minimum_total"
    points: PositivePoints


Modifier = Annotated[Multiplier | MinimumTotal, Field(discriminator="kind")]
