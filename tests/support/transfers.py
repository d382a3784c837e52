"""The two transfer examples of docs/competitions.md, as wire events, and the rules they use.

Deposits: acct-1 holds 1,000,000 on 01-31 and 1,500,000 on 02-10 under cm-a; it moves to cm-b from
02-11 (balance 1,500,000 at the transfer) and holds 1,500,000 on 02-11 and 02-28 under cm-b.
Openings: cm-a opens basic account acct-9 on 02-03 (12 points); it moves to cm-b from 02-05, and
the moved_away closing on 02-10 names cm-b.
"""

from __future__ import annotations

from typing import Any

from streams.core.rules import Competition, parse_competition
from streams.core.templates import load_template


def deposit_competition(measure: str = "point_in_time", cid: str | None = None) -> Competition:
    """存款业务旺季营销活动 (0.1 point per 万元, pure deposits weight 1), published, 时点 or 日均."""
    raw = load_template("deposit_peak_season").model_dump(mode="json")
    raw["status"] = "published"
    raw["id"] = cid or raw["id"]
    raw["rules"][0]["measure"] = measure
    return parse_competition(raw)


def opening_competition() -> Competition:
    """2月「多开户、多开基本户」: basic 10, non-credit +2, clawback within 30 days."""
    return load_template("feb_account_opening").model_copy(update={"status": "published"})


def _envelope(event_id: str, type_: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type_,
        "schema_version": 1,
        "occurred_at": f"{when}+08:00",
        "source": "test",
        "data": data,
    }


def balance(
    event_id: str, cm_id: str, account: str, as_of: str, yuan: int, category: str = "pure"
) -> dict[str, Any]:
    data = {
        "account_id": account,
        "customer_id": f"cust-{account}",
        "cm_id": cm_id,
        "category": category,
        "balance": f"{yuan}.00",
        "as_of": as_of,
    }
    return _envelope(event_id, "deposit.balance", f"{as_of}T23:00:00", data)


def transfer(
    event_id: str,
    old: str,
    new: str,
    effective: str,
    accounts: list[tuple[str, int]],
    *,
    opened_by: str | None = None,
    category: str = "pure",
    when: str | None = None,
) -> dict[str, Any]:
    data = {
        "customer_id": "cust-transfer",
        "cm_id": new,
        "from_cm_id": old,
        "effective_from": effective,
        "accounts": [
            {"account_id": a, "balance": f"{yuan}.00", "category": category, "opened_by_cm_id": opened_by}
            for a, yuan in accounts
        ],
    }
    return _envelope(event_id, "customer.transferred", when or f"{effective}T08:00:00", data)


def opened(event_id: str, cm_id: str, account: str, when: str) -> dict[str, Any]:
    data = {
        "account_id": account,
        "customer_id": f"cust-{account}",
        "cm_id": cm_id,
        "account_type": "basic",
        "segment": "non_credit",
    }
    return _envelope(event_id, "account.opened", when, data)


def closed(event_id: str, cm_id: str, account: str, when: str, kind: str = "moved_away") -> dict[str, Any]:
    data = {"account_id": account, "customer_id": f"cust-{account}", "cm_id": cm_id, "kind": kind}
    return _envelope(event_id, "account.closed", when, data)


def deposit_example(prefix: str = "", old: str = "cm-a", new: str = "cm-b") -> list[dict[str, Any]]:
    p = prefix
    return [
        balance(f"{p}bal-a-0131", old, f"{p}acct-1", "2026-01-31", 1_000_000),
        balance(f"{p}bal-a-0210", old, f"{p}acct-1", "2026-02-10", 1_500_000),
        transfer(f"{p}move-1", old, new, "2026-02-11", [(f"{p}acct-1", 1_500_000)]),
        balance(f"{p}bal-b-0211", new, f"{p}acct-1", "2026-02-11", 1_500_000),
        balance(f"{p}bal-b-0228", new, f"{p}acct-1", "2026-02-28", 1_500_000),
    ]


def clawback_example(prefix: str = "", old: str = "cm-a", new: str = "cm-b") -> list[dict[str, Any]]:
    p = prefix
    return [
        opened(f"{p}open-9", old, f"{p}acct-9", "2026-02-03T10:00:00"),
        transfer(f"{p}move-9", old, new, "2026-02-05", [(f"{p}acct-9", 0)], opened_by=old),
        closed(f"{p}close-9", new, f"{p}acct-9", "2026-02-10T15:00:00"),
    ]
