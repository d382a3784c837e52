"""The competition definition format: rules as data, versioned, validated at one boundary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

from pydantic import AwareDatetime, Field, ValidationError, model_validator

from streams.core.award_rules import PRIZE_KINDS, Awards, check_tie_break
from streams.core.badge_rules import Badge, Challenge, WorkCalendar, check_badges
from streams.core.errors import RuleError
from streams.core.vocabulary import Frozen, MinimumTotal, Modifier, Multiplier, Rule

RankingKind = Literal["customer_manager", "team", "sub_branch_total", "sub_branch_per_head"]
TieBreak = Literal["points_desc", "basic_accounts_desc", "accounts_desc", "improvement_desc", "first_reached"]
Status = Literal["draft", "published", "closed"]
DEFAULT_TIE_BREAK: tuple[TieBreak, ...] = ("points_desc", "first_reached")
DEFAULT_RANKINGS: tuple[RankingKind, ...] = ("customer_manager",)


class Window(Frozen):
    """Asia/Shanghai calendar days, both ends inclusive."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


class Competition(Frozen):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    effective_from: AwareDatetime = Field(
        description="This version scores events occurring at or after this instant."
    )
    window: Window
    grace_days: int = Field(
        default=0, ge=0, le=90, description="Days after the window end that late events may arrive."
    )
    participants: list[str] = Field(
        default_factory=list, description="Sub-branch ids taking part; empty = all."
    )
    rules: list[Rule] = Field(min_length=1)
    modifiers: list[Modifier] = Field(default_factory=list)
    tie_break: list[TieBreak] = Field(default_factory=lambda: list(DEFAULT_TIE_BREAK))
    rankings: list[RankingKind] = Field(default_factory=lambda: list(DEFAULT_RANKINGS))
    status: Status = "draft"
    # Left out of dumps when absent, so definitions without awards keep their fingerprints.
    awards: Awards | None = Field(
        default=None, exclude_if=lambda v: v is None, description="Month-end prizes (award_rules.py)."
    )
    # Also left out when empty: badges and challenges (badge_rules.py) came later.
    badges: list[Badge] = Field(default_factory=list, max_length=50, exclude_if=lambda v: not v)
    challenges: list[Challenge] = Field(default_factory=list, max_length=20, exclude_if=lambda v: not v)
    calendar: WorkCalendar | None = Field(
        default=None, exclude_if=lambda v: v is None, description="Holidays and 调休 workdays (streaks)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Competition:
        kinds = [rule.kind for rule in self.rules]
        for kind in kinds:
            if kinds.count(kind) > 1:
                raise ValueError(f"at most one rule of kind '{kind}' per competition")
        if len(set(self.tie_break)) != len(self.tie_break):
            raise ValueError("tie_break keys must not repeat")
        if sum(isinstance(m, MinimumTotal) for m in self.modifiers) > 1:
            raise ValueError("at most one minimum_total modifier")
        if self.awards is not None and (why := check_tie_break(self.awards, list(self.tie_break))):
            raise ValueError(why)
        if why := check_badges(self.badges, self.challenges, self.window.start, self.window.end):
            raise ValueError(why)
        return self

    @property
    def rewards(self) -> bool:
        """Does this version award badges or run challenges?"""
        return bool(self.badges or self.challenges)

    @cached_property
    def _by_kind(self) -> dict[str, Any]:
        return {rule.kind: rule for rule in self.rules}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Competition:
        """pydantic copies `__dict__`, cached properties with it: a copy with other rules would
        still answer `rule()` from the original's. Dropped here, so the copy works them out."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("_by_kind", None)
        return copy

    def rule(self, kind: str) -> Any:
        """The rule of this kind, or None."""
        return self._by_kind.get(kind)

    def takes_part(self, sub_branch_id: str | None) -> bool:
        return not self.participants or sub_branch_id in self.participants

    def multiplier_on(self, day: date, kind: str) -> Multiplier | None:
        """The largest multiplier covering this day and rule kind (multipliers do not compound)."""
        best: Multiplier | None = None
        for mod in self.modifiers:
            if not isinstance(mod, Multiplier) or not mod.start <= day <= mod.end:
                continue
            if (not mod.applies_to or kind in mod.applies_to) and (best is None or mod.factor > best.factor):
                best = mod
        return best

    def minimum_total(self) -> MinimumTotal | None:
        return next((m for m in self.modifiers if isinstance(m, MinimumTotal)), None)

    def key(self) -> tuple[datetime, int]:
        return (self.effective_from, self.version)


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(part if not parts else f".{part}")
    return "".join(parts) or "(competition)"


def parse_competition(obj: dict[str, Any]) -> Competition:
    """A competition definition (decoded JSON) to its model; raises RuleError naming field and reason."""
    if not isinstance(obj, dict):
        raise RuleError("(competition)", f"expected a JSON object, got {type(obj).__name__}")
    try:
        return Competition.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(first.get("loc", ()))
        # A discriminated union adds the chosen tag to the path (rules[0].account_opening.points): drop it.
        loc = tuple(
            p for i, p in enumerate(loc) if not (i > 0 and isinstance(loc[i - 1], int) and p in _TAGS)
        )
        reason = "field required" if first.get("type") == "missing" else str(first.get("msg", "invalid"))
        if "[key]" in loc:  # a bad dict key, e.g. an unknown account type
            loc = tuple(p for p in loc if p != "[key]")
            reason = f"invalid key: {reason}"
        raise RuleError(_path(loc), reason) from None


_TAGS = {
    "account_opening",
    "deposit_growth",
    "payroll",
    "product_sold",
    "visit",
    "scorecard",
    "multiplier",
    "minimum_total",
    "milestone",
    "threshold",
    "streak",
    *PRIZE_KINDS,
}


def competition_json_schema() -> dict[str, Any]:
    schema = Competition.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "competition.schema.json"
    return schema
