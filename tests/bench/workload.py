"""A mixed year of events for benchmarks and the bounded-state tests.

`year_of_events` yields wire-format event dicts (the JSON shape of schemas/examples/*.json) in the
order a bank produces them: per day, each manager's openings, closings, sales, payroll and
customer assignments through the day, then every open account's end-of-day balance. Half of a
manager's accounts exist from the first day, the other half are opened over the first 90 days;
a few are closed again soon after (clawback). Seeded: the same arguments give the same events.

`mixed_competitions` are the seed's templates, published: openings (February), deposits 日均
(February), payroll (Q1) and the year-long 小小银行家 scorecard.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from schemas.envelope import SHANGHAI
from streams.core import Competition, load_template, parse_competition

FIRST_DAY = date(2026, 1, 1)
MIXED = ("feb_account_opening", "deposit_peak_season", "payroll_drive", "little_banker")
ACCOUNT_TYPES = ("basic", "basic", "general", "general", "special", "temporary")
SEGMENTS = ("credit_online", "credit_offline", "non_credit")
CHANNELS = ("tax_agent", "bookkeeper", "walk_in", "other", "corporate_linkage", "industrial_park")
CATEGORIES = ("settlement", "pure", "margin", "savings")
PRODUCTS = ("bill_discount", "international_settlement", "cash_management", "credit_card", "corporate_wealth")


def mixed_competitions() -> list[Competition]:
    out = []
    for name in MIXED:
        raw = load_template(name).model_dump(mode="json")
        raw["status"] = "published"
        out.append(parse_competition(raw))
    return out


def _event(event_id: str, type_: str, moment: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type_,
        "schema_version": 1,
        "occurred_at": moment.isoformat(),
        "source": "bench",
        "data": data,
    }


class _Manager:
    def __init__(self, index: int, accounts: int, rnd: random.Random) -> None:
        self.cm = f"cm-{index:04d}"
        self.rnd = rnd
        self.unit = f"SB{index % 7}"
        self.team = f"T{index % 23}"
        # account -> (opening day offset, category, balance in cents, closing day offset or None)
        self.accounts: dict[str, list[Any]] = {}
        for a in range(accounts):
            opened = 0 if a < accounts // 2 else rnd.randrange(1, 90)
            closed = opened + rnd.randrange(3, 40) if opened and rnd.random() < 0.05 else None
            balance = rnd.randrange(10_000, 5_000_000) * 100
            self.accounts[f"{self.cm}-A{a:04d}"] = [opened, rnd.choice(CATEGORIES), balance, closed]
        self.agreements: list[tuple[str, int]] = []  # (agreement, headcount)

    def day(self, offset: int, day: date, balances: bool = True) -> Iterator[dict[str, Any]]:
        rnd, cm = self.rnd, self.cm
        data: dict[str, Any]
        if offset == 0:
            eve = datetime.combine(day - timedelta(days=1), time(9), SHANGHAI)
            for kind, unit in (("sub_branch", self.unit), ("team", self.team)):
                data = {"cm_id": cm, "action": "join", "unit_kind": kind, "unit_id": unit}
                yield _event(
                    f"{cm}-join-{kind}", "org.changed", eve, {**data, "effective_from": day.isoformat()}
                )

        def at(hour: int) -> datetime:
            return datetime.combine(day, time(hour, rnd.randrange(60), rnd.randrange(60)), SHANGHAI)

        for account, (opened, _, _, closed) in self.accounts.items():
            if opened == offset and offset:
                yield _event(
                    f"{account}-open",
                    "account.opened",
                    at(9),
                    {
                        "account_id": account,
                        "customer_id": f"C-{account}",
                        "cm_id": cm,
                        "account_type": rnd.choice(ACCOUNT_TYPES),
                        "segment": rnd.choice(SEGMENTS),
                        "channel": rnd.choice(CHANNELS),
                        "new_firm": rnd.random() < 0.3,
                    },
                )
            if closed == offset:
                data = {"account_id": account, "customer_id": f"C-{account}", "cm_id": cm, "kind": "closed"}
                yield _event(f"{account}-close", "account.closed", at(15), data)
        if rnd.random() < 0.5:
            customer = f"{cm}-cust-{rnd.randrange(400)}"
            data = {"customer_id": customer, "cm_id": cm, "segment": rnd.choice(SEGMENTS)}
            yield _event(f"{cm}-assign-{offset}", "customer.assigned", at(10), data)
        if rnd.random() < 0.3:
            data = {
                "sale_id": f"{cm}-sale-{offset}",
                "customer_id": f"{cm}-cust-{rnd.randrange(400)}",
                "cm_id": cm,
                "product": rnd.choice(PRODUCTS),
                "amount": f"{rnd.randrange(1000, 900000)}.00",
            }
            yield _event(f"{cm}-sale-{offset}", "product.sold", at(11), data)
        if offset % 14 == 3:
            agreement = f"{cm}-AG-{offset}"
            self.agreements.append((agreement, rnd.randrange(5, 120)))
            data = {"agreement_id": agreement, "employer_id": f"E-{agreement}", "cm_id": cm, "employees": 50}
            yield _event(f"{agreement}-sign", "payroll.signed", at(14), data)
        if day.day == 25:
            for agreement, heads in self.agreements:
                data = {
                    "agreement_id": agreement,
                    "employer_id": f"E-{agreement}",
                    "batch_id": f"{agreement}-{day:%Y%m}",
                    "cm_id": cm,
                    "headcount": heads + rnd.randrange(-3, 4),
                    "amount": f"{heads * 6000}.00",
                    "month": f"{day:%Y-%m}",
                }
                yield _event(f"{agreement}-paid-{day:%Y%m}", "payroll.paid", at(16), data)
        if not balances:
            return
        eod = datetime.combine(day, time(23, 30), SHANGHAI)
        for account, state in self.accounts.items():
            opened, category, balance, closed = state
            if offset < opened or (closed is not None and offset >= closed):
                continue
            balance = max(0, balance + rnd.randrange(-balance // 50 - 1, balance // 40 + 100_000))
            state[2] = balance
            data = {
                "account_id": account,
                "customer_id": f"C-{account}",
                "cm_id": cm,
                "category": category,
                "balance": f"{balance // 100}.{balance % 100:02d}",
                "as_of": day.isoformat(),
            }
            yield _event(f"{account}-bal-{offset}", "deposit.balance", eod, data)


def year_of_events(
    managers: int, accounts_per_manager: int, days: int, seed: int, balance_every: int = 1
) -> Iterator[dict[str, Any]]:
    """`balance_every` > 1: end-of-day balances only every that many days (a weekly extract), so
    the other kinds are not a rounding error of the load."""
    rnd = random.Random(seed)
    crew = [_Manager(i, accounts_per_manager, random.Random(rnd.random())) for i in range(managers)]
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        for manager in crew:
            yield from manager.day(offset, day, balances=offset % balance_every == 0)
