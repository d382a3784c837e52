"""Random but valid event streams for one February, for property tests, fault tests and benches.

One generator serves both hypothesis (draws, so failures shrink) and a seeded random.Random
(repeatable loads for the kill test and the benchmark).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

ACCOUNT_TYPES = ["basic", "basic", "general", "special", "temporary"]
SEGMENTS = ["credit_online", "credit_offline", "non_credit"]
CHANNELS = ["tax_agent", "bookkeeper", "registration_office", "walk_in", "customer_referral", "other"]
CATEGORIES = ["settlement", "pure", "margin", "savings"]
PRODUCTS = ["bill_discount", "international_settlement", "cash_management", "credit_card", "other"]
VISITS = ["phone", "on_site", "sms", "online"]
KINDS = ["opened"] * 6 + [
    "closed",
    "deposit",
    "deposit",
    "signed",
    "paid",
    "sold",
    "visit",
    "assigned",
    "org",
    "dup",
]


class Chooser(Protocol):
    def choice(self, seq: Sequence[T]) -> T: ...
    def randint(self, a: int, b: int) -> int: ...


class Drawn:
    """Hypothesis draws behind the random.Random interface the generator uses."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def choice(self, seq: Sequence[T]) -> T:
        return self._draw(st.sampled_from(seq))

    def randint(self, a: int, b: int) -> int:
        return self._draw(st.integers(a, b))


def _envelope(event_id: str, type_: str, day: int, hour: int, data: dict[str, Any]) -> dict[str, Any]:
    month, dom = (1, day + 31) if day < 1 else (2, day) if day <= 28 else (3, day - 28)
    return {
        "event_id": event_id,
        "type": type_,
        "schema_version": 1,
        "occurred_at": f"2026-{month:02d}-{dom:02d}T{hour:02d}:{(day * 7) % 60:02d}:00+08:00",
        "source": "generator",
        "data": data,
    }


def generate(ch: Chooser, count: int, cms: Sequence[str], tag: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    opened: list[tuple[str, str, str, int]] = []  # account, customer, cm, day
    signed: list[tuple[str, str, str]] = []  # agreement, employer, cm
    for n in range(count):
        kind = ch.choice(KINDS)
        cm = ch.choice(cms)
        day = ch.randint(1, 28)
        hour = ch.randint(8, 19)
        eid = f"{tag}-e{n}"
        if kind == "closed" and opened:
            account, customer, owner, opened_day = ch.choice(opened)
            close_day = min(opened_day + ch.randint(0, 40), 59)
            data = {"account_id": account, "customer_id": customer, "cm_id": owner, "kind": "closed"}
            out.append(_envelope(eid, "account.closed", close_day, hour, data))
        elif kind == "deposit":
            account = f"{tag}-dep-{cm}-{ch.randint(0, 2)}"
            as_of = ch.randint(-5, 28)
            data = {
                "account_id": account,
                "customer_id": f"{account}-c",
                "cm_id": cm,
                "category": ch.choice(CATEGORIES),
                "balance": str(ch.randint(0, 500) * 10_000),
                "as_of": _envelope("", "", as_of, 0, {})["occurred_at"][:10],
            }
            out.append(_envelope(eid, "deposit.balance", as_of, 18, data))
        elif kind == "signed":
            agreement = f"{tag}-agr-{n}"
            signed.append((agreement, f"{tag}-emp-{n}", cm))
            data = {"agreement_id": agreement, "employer_id": f"{tag}-emp-{n}", "cm_id": cm, "employees": 30}
            out.append(_envelope(eid, "payroll.signed", day, hour, data))
        elif kind == "paid" and signed:
            agreement, employer, owner = ch.choice(signed)
            data = {
                "agreement_id": agreement,
                "employer_id": employer,
                "batch_id": f"{tag}-b{n}",
                "cm_id": owner,
                "headcount": ch.randint(1, 60),
                "amount": "150000.00",
                "month": "2026-02",
            }
            out.append(_envelope(eid, "payroll.paid", day, hour, data))
        elif kind == "sold":
            data = {
                "sale_id": f"{tag}-s{n}",
                "customer_id": f"{tag}-c{n}",
                "cm_id": cm,
                "product": ch.choice(PRODUCTS),
            }
            out.append(_envelope(eid, "product.sold", day, hour, data))
        elif kind == "visit":
            data = {"customer_id": f"{tag}-c{n}", "cm_id": cm, "visitor_id": cm, "channel": ch.choice(VISITS)}
            out.append(_envelope(eid, "customer.visited", day, hour, data))
        elif kind == "assigned":
            data = {"customer_id": f"{tag}-c{ch.randint(0, 40)}", "cm_id": cm, "segment": ch.choice(SEGMENTS)}
            out.append(_envelope(eid, "customer.assigned", day, hour, data))
        elif kind == "org":
            unit = ch.choice(["sb-east", "sb-west", "sb-north"])
            data = {"cm_id": cm, "action": "join", "unit_kind": "sub_branch", "unit_id": unit,
                    "effective_from": _envelope("", "", day, 0, {})["occurred_at"][:10]}  # fmt: skip
            out.append(_envelope(eid, "org.changed", day, 7, data))
        elif kind == "dup" and out:
            out.append(ch.choice(out))  # the same event again: same id, same bytes
        else:
            account = f"{tag}-acct-{n}"
            customer = f"{tag}-cust-{n}"
            opened.append((account, customer, cm, day))
            data = {
                "account_id": account,
                "customer_id": customer,
                "cm_id": cm,
                "account_type": ch.choice(ACCOUNT_TYPES),
                "segment": ch.choice(SEGMENTS),
                "channel": ch.choice(CHANNELS),
                "new_firm": ch.choice([True, False]),
            }
            out.append(_envelope(eid, "account.opened", day, hour, data))
    return out


@st.composite
def event_streams(draw: st.DrawFn, tag: str, cms: int = 3, max_events: int = 60) -> list[dict[str, Any]]:
    ch = Drawn(draw)
    names = [f"{tag}-cm{i}" for i in range(cms)]
    events = generate(ch, draw(st.integers(1, max_events)), names, tag)
    # Arrival order is not occurrence order: late and shuffled events are part of the contract.
    return draw(st.permutations(events))


def seeded(seed: int, count: int, cms: int, tag: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = generate(rng, count, [f"{tag}-cm{i}" for i in range(cms)], tag)
    rng.shuffle(events)
    return events
