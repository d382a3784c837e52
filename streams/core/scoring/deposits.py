"""存款增量: balance growth per account over a baseline date, 时点 or 日均.

Balances are snapshots (deposit.balance, as_of a business date). For one account and date the
snapshot with the latest (occurred_at, event_id) wins, so corrections replace, duplicates vanish.

- Baseline: the last snapshot on or before the baseline date. An account with no snapshot by then
  has baseline 0: it is new money (a new account, or a balance first reported in the window).
- 时点 (point_in_time): last snapshot on or before the window end minus the baseline. The growth is
  split into its steps (each snapshot minus the one before), each stamped on its as_of day's unit.
- 日均 (daily_average): the mean over every window day of (that day's balance minus baseline),
  where a day's balance is the last snapshot on or before it (0 before the first). Days after
  the last snapshot carry it forward, so mid-window this is the projected average.
A decrease is negative growth and scores negative points. The category is that of the last
snapshot on or before the window end.

Each account keeps a bounded history (see balances.py): recent snapshots exactly, older ones
folded. A late snapshot for a folded day, or an org change restamping folded days, raises
NeedsRebuild before anything changes.

An account that changes manager (customer.transferred) is scored by each manager through their
own view of its balance (holdings.py): the old manager keeps the growth up to the transfer, the
new one counts from the balance at the transfer, and the figures add up to the account's own.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from schemas.events import CustomerTransferred, DepositBalance, OrgChanged
from streams.core.compact import micros
from streams.core.errors import NeedsRebuild
from streams.core.points import WAN, fmt
from streams.core.rules import Competition
from streams.core.scoring.balances import POINT_IN_TIME, Account, Snap, Spec
from streams.core.scoring.base import NO_TOUCH, BucketValue, Context, Scorer, Touch
from streams.core.scoring.holdings import Holdings, moves_of
from streams.core.vocabulary import DepositGrowthRule

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def baseline_of(rule: DepositGrowthRule, window_start: Any) -> Any:
    return rule.baseline_date or window_start - timedelta(days=1)


_last: list[Any] = [None, None]  # (event, its snap): up to four scorers read each balance in turn


def snap_of(event: DepositBalance) -> Snap:
    if _last[0] is event:
        snap: Snap = _last[1]
        return snap
    d = event.data
    # the category enum is a str: kept as is, it needs no .value lookup and dumps as its value
    snap = Snap(
        d.as_of.toordinal(), int(d.balance * 100), d.category, micros(event.occurred_at), event.event_id
    )
    _last[0], _last[1] = event, snap
    return snap


def spec_of(final: Competition) -> Spec | None:
    rule: DepositGrowthRule | None = final.rule("deposit_growth")
    if rule is None:
        return None
    window = final.window
    baseline = baseline_of(rule, window.start).toordinal()
    start, end = window.start.toordinal(), window.end.toordinal()
    return Spec(rule.measure, baseline, start, end, (baseline, end), max(baseline, end))


class DepositScorer(Scorer):
    kind = "deposit_growth"
    types = frozenset({"deposit.balance", "customer.transferred"})

    def __init__(self, final: Competition | None = None) -> None:
        self.spec = spec_of(final) if final is not None else None
        self.accounts: dict[str, Account] = {}
        self.holdings = Holdings()
        self._labels: dict[tuple[str, str], str] = {}
        self._touches: dict[tuple[str, str | None], Touch] = {}  # (account, category): reused

    def check(self, event: Envelope, ctx: Context) -> None:
        if self.spec is None:
            return
        if isinstance(event, DepositBalance):
            account = self.accounts.get(event.data.account_id)
            if account is not None:
                account.check(snap_of(event), self.spec)
        elif isinstance(event, CustomerTransferred):
            for account_id, move in moves_of(event, ctx.cm_id):
                self.holdings.check_move(account_id, move, self.accounts.get(account_id))
        elif isinstance(event, OrgChanged):
            effective = event.data.effective_from.toordinal()
            for account_id, account in self.accounts.items():
                if account.affected_by_org(effective, self.spec):
                    raise NeedsRebuild(
                        f"org change from {event.data.effective_from} restamps folded days of {account_id}"
                    )

    def observe(self, event: Envelope, ctx: Context, explain: bool = True) -> Touch:
        if self.spec is None:
            return NO_TOUCH
        if isinstance(event, CustomerTransferred):
            moved = [
                self._touch(account_id)
                for account_id, move in moves_of(event, ctx.cm_id)
                if self.holdings.take_move(self.accounts, account_id, move)
            ]
            return Touch(frozenset().union(*(t.buckets for t in moved))) if moved else NO_TOUCH
        if not isinstance(event, DepositBalance):
            return NO_TOUCH
        account_id = event.data.account_id
        snap = snap_of(event)
        account = self.accounts.get(account_id)
        if account is not None and account_id not in self.holdings.moves:  # the usual account
            if not account.add(snap, self.spec, ctx.org):
                return NO_TOUCH
        elif not self.holdings.take_balance(self.accounts, account_id, snap, self.spec, ctx.org):
            return NO_TOUCH
        return self._touch(account_id, snap.category)

    def _touch(self, account_id: str, category: str | None = None) -> Touch:
        """The account's bucket; with a balance's category, what its entry counted (its label)."""
        touch = self._touches.get((account_id, category))
        if touch is None:
            detail = None
            if category is not None and self.spec is not None:  # a StrEnum: str() is its value
                detail = ("deposit", {"measure": self.spec.measure, "category": str(category)})
            touch = Touch(frozenset({f"{self.kind}|{account_id}"}), None, detail)
            self._touches[(account_id, category)] = touch
        return touch

    def buckets(self) -> set[str]:
        return {f"{self.kind}|{a}" for a in self.accounts}

    def compute(self, bucket: str, ctx: Context) -> BucketValue:
        out = BucketValue()
        final = ctx.final
        rule: DepositGrowthRule | None = final.rule(self.kind)
        account_id = bucket.split("|", 1)[1]
        account = self.accounts.get(account_id)
        spec = self.spec
        if rule is None or account is None or spec is None:
            return out
        if account_id in self.holdings.moves:
            self.holdings.settle(self.accounts, account_id, spec, ctx.org)
        category = account.balance_on(spec.end)[1]
        weight = rule.weights.get(category, ZERO) if category else ZERO  # type: ignore[call-overload]
        if not weight:
            return out
        if spec.measure == POINT_IN_TIME:
            per_unit = account.steps(spec, ctx.org)
            divisor = HUNDRED
        else:
            per_unit = account.day_sums(spec, ctx.org)
            divisor = HUNDRED * (spec.end - spec.start + 1)
        factor, denominator = weight * rule.points_per_wan, WAN * divisor  # one division: exact till q()
        label = self._label(account_id, rule.measure, weight)
        for unit, cents in per_unit.items():
            if cents and final.takes_part(unit.sub_branch_id):
                out.add("deposit", unit, cents * factor / denominator, label)
        return out

    def _label(self, account_id: str, measure: str, weight: Decimal) -> str:
        key = (account_id, str(weight))
        label = self._labels.get(key)
        if label is None:
            label = self._labels[key] = "存款增量（{}）账户 {} 权重 {}".format(
                "时点" if measure == POINT_IN_TIME else "日均", account_id, fmt(weight)[1:]
            )
        return label

    def dump(self) -> Any:
        return {
            "spec": self.spec.to_list() if self.spec else None,
            "accounts": {a: account.to_list() for a, account in self.accounts.items()},
            "moves": self.holdings.dump(),
        }

    def load(self, raw: Any) -> None:
        self.spec = Spec.from_list(raw["spec"]) if raw["spec"] is not None else None
        self.accounts = {a: Account.from_list(r) for a, r in raw["accounts"].items()}
        self.holdings.load(raw.get("moves"))
