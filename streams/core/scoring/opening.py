"""多开户、多开基本户: one item per account (its earliest opening); closing it within
clawback_days of opening takes the points back (stamped on the opening's day and unit)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from schemas.envelope import Envelope
from schemas.events import AccountClosed, AccountOpened
from schemas.vocabulary import AccountType, Segment
from streams.core.calendar import day_of
from streams.core.points import fmt
from streams.core.rules import Competition
from streams.core.scoring.base import NO_TOUCH, Context, Touch
from streams.core.scoring.daily import DailyScorer, Scored
from streams.core.vocabulary import AccountOpeningRule

TYPE_ZH = {
    AccountType.BASIC: "基本户",
    AccountType.GENERAL: "一般户",
    AccountType.SPECIAL: "专用户",
    AccountType.TEMPORARY: "临时户",
}
SEGMENT_ZH = {
    Segment.CREDIT_ONLINE: "线上授信",
    Segment.CREDIT_OFFLINE: "线下授信",
    Segment.NON_CREDIT: "非授信",
}


class OpeningScorer(DailyScorer):
    kind = "account_opening"

    def __init__(self) -> None:
        super().__init__()
        self.openings: dict[str, AccountOpened] = {}  # account -> earliest opening
        self.closings: dict[str, list[AccountClosed]] = {}

    def observe(self, event: Envelope, ctx: Context | None) -> Touch:
        if isinstance(event, AccountOpened):
            account = event.data.account_id
            first = self.openings.get(account)
            if first is None or (event.occurred_at, event.event_id) < (first.occurred_at, first.event_id):
                self.openings[account] = event
                touched = self.place(account, day_of(event.occurred_at))
                return Touch(frozenset(touched), self.describe(account, ctx))
            return NO_TOUCH
        if isinstance(event, AccountClosed):
            account = event.data.account_id
            self.closings.setdefault(account, []).append(event)
            self.forget(account)
            day = self.anchor.get(account)
            return Touch(frozenset({self.bucket_of(day)})) if day else NO_TOUCH
        return NO_TOUCH

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        opened = self.openings[key]
        return opened.occurred_at, opened.data.sub_branch_id

    def score(self, key: str, version: Competition, rule: AccountOpeningRule) -> Scored | None:
        d = self.openings[key].data
        base = rule.points.get(d.account_type, Decimal(0))
        if not base:
            return None
        points = base + sum((bonus for _, bonus in self._bonuses(key, rule)), Decimal(0))
        metrics = ("accounts", "basic_accounts") if d.account_type is AccountType.BASIC else ("accounts",)
        return Scored(points, self._clawed(key, rule), metrics)

    def _bonuses(self, key: str, rule: AccountOpeningRule) -> list[tuple[str, Decimal]]:
        d = self.openings[key].data
        if rule.bonus_account_types and d.account_type not in rule.bonus_account_types:
            return []
        candidates = (
            (SEGMENT_ZH[d.segment], rule.segment_bonus.get(d.segment)),
            (f"渠道 {d.channel.value}", rule.channel_bonus.get(d.channel)),
            ("新注册企业", rule.new_firm_bonus if d.new_firm else None),
        )
        return [(label, bonus) for label, bonus in candidates if bonus]

    def explain(self, key: str, version: Competition, rule: AccountOpeningRule, scored: Scored) -> str:
        d = self.openings[key].data
        reason = f"开立{TYPE_ZH[d.account_type]} {fmt(scored.points)}"
        parts = [f"{label} {fmt(bonus)}" for label, bonus in self._bonuses(key, rule)]
        if parts:
            reason += f"（基础 {fmt(rule.points[d.account_type])}，{'，'.join(parts)}）"
        return reason

    def _clawed(self, key: str, rule: AccountOpeningRule) -> bool:
        if rule.clawback_days is None:
            return False
        opened = self.openings[key]
        open_day = day_of(opened.occurred_at)
        for closed in self.closings.get(key, ()):
            if closed.data.kind not in rule.clawback_kinds or closed.occurred_at < opened.occurred_at:
                continue
            if (day_of(closed.occurred_at) - open_day).days <= rule.clawback_days:
                return True
        return False
