"""Random but valid events for the demo, one at a time, stamped with the time they are made.

A plain generator over a `random.Random`: no Kafka here, so it can be tested and seeded. Every
`bad_every`-th record is deliberately broken, so the dead-letter path shows up in a demo.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from schemas.vocabulary import AccountType, Channel, DepositCategory, Product, Segment, VisitChannel
from services.demo.roster import Manager

# Mostly account openings, as in the February contest; the rest feed the other demo contests.
_KINDS = {
    "opened": 50,
    "closed": 5,
    "deposit": 14,
    "signed": 5,
    "paid": 8,
    "sold": 8,
    "visit": 6,
    "assigned": 4,
}
_ACCOUNT_TYPES = (
    [AccountType.BASIC] * 3 + [AccountType.GENERAL] * 2 + [AccountType.SPECIAL, AccountType.TEMPORARY]
)
_CHANNELS = [
    Channel.TAX_AGENT,
    Channel.BOOKKEEPER,
    Channel.REGISTRATION_OFFICE,
    Channel.INDUSTRIAL_PARK,
    Channel.CUSTOMER_REFERRAL,
    Channel.WALK_IN,
    Channel.OTHER,
]


@dataclass
class _Book:
    """What the feed has made so far, so closings, payroll batches and balances refer to it."""

    accounts: list[tuple[str, str, str, Segment]] = field(
        default_factory=list
    )  # account, customer, cm, segment
    agreements: list[tuple[str, str, str, int]] = field(default_factory=list)  # id, employer, cm, staff
    balances: dict[str, tuple[str, str, DepositCategory, Decimal]] = field(default_factory=dict)


class Feed:
    def __init__(self, rng: random.Random, staff: list[Manager], run_id: str, bad_every: int = 50) -> None:
        self._rng = rng
        self._staff = staff
        # Some managers are busier than others, so the boards spread out.
        self._weights = [rng.uniform(0.5, 3.0) for _ in staff]
        self._run = run_id
        self._bad_every = bad_every
        self._n = 0
        self._book = _Book()

    def next(self, now: datetime) -> tuple[str, bytes]:
        """The next record for the raw topic: (key = cm id, value = JSON bytes)."""
        self._n += 1
        cm = self._rng.choices(self._staff, self._weights)[0]
        if self._bad_every and self._n % self._bad_every == 0:
            return cm.cm_id, self._bad(cm, now)
        event = self._event(cm, now)
        return event["data"]["cm_id"], json.dumps(event, ensure_ascii=False).encode()

    def _id(self, what: str) -> str:
        return f"demo-{self._run}-{what}-{self._n:07d}"

    def _envelope(self, type_: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "event_id": self._id("e"),
            "type": type_,
            "schema_version": 1,
            "occurred_at": now.isoformat(timespec="seconds"),
            "source": "demo",
            "data": data,
        }

    def _event(self, cm: Manager, now: datetime) -> dict[str, Any]:
        rng, book = self._rng, self._book
        kind = rng.choices(list(_KINDS), list(_KINDS.values()))[0]
        data: dict[str, Any]
        if kind == "closed" and book.accounts:
            account, customer, owner, _ = book.accounts.pop(rng.randrange(len(book.accounts)))
            kind_of = rng.choice(["closed", "moved_away"])
            data = {"account_id": account, "customer_id": customer, "cm_id": owner, "kind": kind_of}
            return self._envelope("account.closed", now, data)
        if kind == "assigned" and book.accounts:
            _, customer, owner, segment = rng.choice(book.accounts)
            data = {"customer_id": customer, "cm_id": owner, "segment": segment.value}
            return self._envelope("customer.assigned", now, data)
        if kind == "deposit":
            return self._envelope("deposit.balance", now, self._balance(cm, now))
        if kind == "signed":
            agreement, employer = self._id("agr"), self._id("emp")
            staff = rng.randint(10, 200)
            book.agreements.append((agreement, employer, cm.cm_id, staff))
            data = {
                "agreement_id": agreement,
                "employer_id": employer,
                "cm_id": cm.cm_id,
                "employees": staff,
            }
            return self._envelope("payroll.signed", now, data)
        if kind == "paid" and book.agreements:
            agreement, employer, owner, staff = rng.choice(book.agreements)
            headcount = rng.randint(max(1, staff // 2), staff)
            data = {
                "agreement_id": agreement,
                "employer_id": employer,
                "batch_id": self._id("batch"),
                "cm_id": owner,
                "headcount": headcount,
                "amount": f"{headcount * rng.randint(4000, 12000)}.00",
                "month": now.strftime("%Y-%m"),
            }
            return self._envelope("payroll.paid", now, data)
        if kind == "sold":
            data = {
                "sale_id": self._id("sale"),
                "customer_id": self._id("cust"),
                "cm_id": cm.cm_id,
                "product": rng.choice(list(Product)).value,
                "amount": f"{rng.randint(1, 500) * 1000}.00",
            }
            return self._envelope("product.sold", now, data)
        if kind == "visit":
            data = {
                "customer_id": self._id("cust"),
                "cm_id": cm.cm_id,
                "visitor_id": cm.cm_id,
                "channel": rng.choice(list(VisitChannel)).value,
            }
            return self._envelope("customer.visited", now, data)
        return self._envelope("account.opened", now, self._opening(cm))

    def _opening(self, cm: Manager) -> dict[str, Any]:
        rng = self._rng
        account, customer = self._id("acct"), self._id("cust")
        segment = rng.choice(list(Segment))
        self._book.accounts.append((account, customer, cm.cm_id, segment))
        return {
            "account_id": account,
            "customer_id": customer,
            "cm_id": cm.cm_id,
            "sub_branch_id": cm.sub_branch_id,
            "account_type": rng.choice(_ACCOUNT_TYPES).value,
            "segment": segment.value,
            "channel": rng.choice(_CHANNELS).value,
            "new_firm": rng.random() < 0.3,
        }

    def _balance(self, cm: Manager, now: datetime) -> dict[str, Any]:
        """A balance that mostly grows: each manager has three deposit accounts."""
        rng = self._rng
        account = f"demo-{self._run}-dep-{cm.cm_id}-{rng.randrange(3)}"
        _, customer, category, balance = self._book.balances.get(
            account, (cm.cm_id, f"{account}-c", rng.choice(list(DepositCategory)), Decimal(0))
        )
        balance = max(Decimal(0), balance + Decimal(rng.randint(-20, 80) * 10_000))
        self._book.balances[account] = (cm.cm_id, customer, category, balance)
        return {
            "account_id": account,
            "customer_id": customer,
            "cm_id": cm.cm_id,
            "category": category.value,
            "balance": f"{balance:.2f}",
            "as_of": now.date().isoformat(),
        }

    def _bad(self, cm: Manager, now: datetime) -> bytes:
        """One of a few broken records, in turn: each lands in the dead-letter topic with a reason."""
        which = (self._n // max(self._bad_every, 1)) % 3
        if which == 0:
            return b'{"event_id": "' + self._id("bad").encode() + b'", "type": "account.opened"'
        event = self._envelope("account.opened", now, self._opening(cm))
        self._book.accounts.pop()  # never opened, so never closed either
        if which == 1:
            event["data"]["account_type"] = "platinum"
        else:
            del event["data"]["segment"]
        return json.dumps(event, ensure_ascii=False).encode()
