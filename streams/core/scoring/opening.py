"""多开户、多开基本户: one item per account (its earliest opening); closing it within
clawback_days of opening takes the points back (stamped on the opening's day and unit)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from schemas.envelope import Envelope
from schemas.events import AccountClosed, AccountOpened
from schemas.vocabulary import AccountType, Channel, CloseKind, Segment
from streams.core.calendar import day_of
from streams.core.compact import micros, moment_of
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


_TYPES = {t.value: t for t in AccountType}
_SEGMENTS = {t.value: t for t in Segment}
_CHANNELS = {t.value: t for t in Channel}
# member -> its value as a plain str (Enum.value is a Python-level property: slow per event)
_VALUE: dict[Any, str] = {t: t.value for vocabulary in (AccountType, Segment, Channel) for t in vocabulary}


class Opening(NamedTuple):
    """What scoring needs of an account.opened event (the earliest one per account)."""

    occurred_at: datetime
    event_id: str
    account_type: AccountType
    segment: Segment
    channel: Channel
    new_firm: bool
    sub_branch_id: str | None


class Closing(NamedTuple):
    occurred_at: datetime
    event_id: str
    kind: CloseKind


class OpeningScorer(DailyScorer):
    kind = "account_opening"
    types = frozenset({"account.opened", "account.closed"})

    def __init__(self, final: Competition | None = None) -> None:
        super().__init__(final)
        self.openings: dict[str, Opening] = {}  # account -> earliest opening
        self.closings: dict[str, list[Closing]] = {}
        # each opening as `dump` writes it, kept beside it: a changed manager's state is written
        # every batch, and turning every opening to JSON again each time cost more than scoring.
        # Tuples: the collector stops tracking a tuple of plain values, not a list.
        self._rows: dict[str, tuple[Any, ...]] = {}

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if isinstance(event, AccountOpened):
            account = event.data.account_id
            first = self.openings.get(account)
            if first is None or (event.occurred_at, event.event_id) < (first.occurred_at, first.event_id):
                d = event.data
                opening = self.openings[account] = Opening(
                    event.occurred_at,
                    event.event_id,
                    d.account_type,
                    d.segment,
                    d.channel,
                    d.new_firm,
                    d.sub_branch_id,
                )
                self._rows[account] = _row(account, opening)
                touched = self.place(account, day_of(event.occurred_at))
                return Touch(
                    frozenset(touched), self.describe(account, ctx, explain), self.detailed(account, explain)
                )
            return NO_TOUCH
        if isinstance(event, AccountClosed):
            account = event.data.account_id
            closings = self.closings.setdefault(account, [])
            closing = Closing(event.occurred_at, event.event_id, event.data.kind)
            if closing in closings:
                return NO_TOUCH
            closings.append(closing)
            self.forget(account)
            day = self.anchor.get(account)
            return Touch(frozenset({self.bucket_of(day)})) if day else NO_TOUCH
        return NO_TOUCH

    def day_of_item(self, key: str) -> date | None:
        return day_of(self.openings[key].occurred_at)

    def detail(self, key: str) -> dict[str, str]:
        d = self.openings[key]
        return {
            "account_type": _VALUE[d.account_type],
            "segment": _VALUE[d.segment],
            "channel": _VALUE[d.channel],
            "new_firm": "yes" if d.new_firm else "no",
        }

    def item_keys(self) -> list[str]:
        return list(self.openings)

    def dump(self) -> Any:
        rows = self._rows
        return {
            # The rows as kept (tuples, in the openings' order: both are only ever added to
            # together); JSON writes a tuple as an array, so no list is made per opening.
            "open": list(rows.values()),
            "close": [
                [a, micros(c.occurred_at), c.event_id, c.kind.value]
                for a, cs in self.closings.items()
                for c in cs
            ],
        }

    def load(self, raw: Any) -> None:
        # A partition's states are loaded at every assignment: the vocabularies are looked up in
        # dicts (the Enum call only to raise on a value it does not know), and each row is kept
        # as read when it is already what dump would write.
        for row in raw["open"]:
            a, at, eid, type_, segment, channel, new_firm, sub_branch = row
            opening = self.openings[a] = Opening(
                moment_of(at),
                eid,
                _TYPES.get(type_) or AccountType(type_),
                _SEGMENTS.get(segment) or Segment(segment),
                _CHANNELS.get(channel) or Channel(channel),
                bool(new_firm),
                sub_branch,
            )
            written = type(at) is int and type(new_firm) is int and new_firm in (0, 1)
            self._rows[a] = tuple(row) if written else _row(a, opening)
        for a, at, eid, kind in raw["close"]:
            self.closings.setdefault(a, []).append(Closing(moment_of(at), eid, CloseKind(kind)))
        self.reanchor()

    def item_time(self, key: str) -> tuple[datetime, str | None]:
        opened = self.openings[key]
        return opened.occurred_at, opened.sub_branch_id

    def score(self, key: str, version: Competition, rule: AccountOpeningRule) -> Scored | None:
        d = self.openings[key]
        base = rule.points.get(d.account_type, Decimal(0))
        if not base:
            return None
        points = base + sum((bonus for _, bonus in self._bonuses(key, rule)), Decimal(0))
        metrics = ("accounts", "basic_accounts") if d.account_type is AccountType.BASIC else ("accounts",)
        return Scored(points, self._clawed(key, rule), metrics)

    def _bonuses(self, key: str, rule: AccountOpeningRule) -> list[tuple[str, Decimal]]:
        d = self.openings[key]
        if rule.bonus_account_types and d.account_type not in rule.bonus_account_types:
            return []
        candidates = (
            (SEGMENT_ZH[d.segment], rule.segment_bonus.get(d.segment)),
            (f"渠道 {d.channel.value}", rule.channel_bonus.get(d.channel)),
            ("新注册企业", rule.new_firm_bonus if d.new_firm else None),
        )
        return [(label, bonus) for label, bonus in candidates if bonus]

    def explain(self, key: str, version: Competition, rule: AccountOpeningRule, scored: Scored) -> str:
        d = self.openings[key]
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
            if closed.kind not in rule.clawback_kinds or closed.occurred_at < opened.occurred_at:
                continue
            if (day_of(closed.occurred_at) - open_day).days <= rule.clawback_days:
                return True
        return False


def _row(account: str, o: Opening) -> tuple[Any, ...]:
    """An opening as the state's JSON holds it."""
    return (
        account,
        micros(o.occurred_at),
        o.event_id,
        _VALUE[o.account_type],
        _VALUE[o.segment],
        _VALUE[o.channel],
        int(o.new_firm),
        o.sub_branch_id,
    )
