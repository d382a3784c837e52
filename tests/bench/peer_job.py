"""The peer job's input and its answer (shared research, peer-job.md): the account-opening job
that quix-streams, a plain aiokafka loop and this platform were compared on.

JSON lines keyed by customer manager (300 managers), about 1 % junk (malformed JSON, missing
fields) for the dead letters, about 1 % exact duplicates of an earlier line, 30 % of the
timestamps in UTC (the Shanghai day is what counts). Per manager and Shanghai day: 10 points per
basic account, 4 per general; a basic account earns +2 when non-credit and +3 for a new firm;
at most 300 points a day. Eight days: about half the days reach the cap.

No third-party imports: `tests/bench/peer_quix.py` (run by quix-streams' own interpreter) has its
own copy of the rules, as a user writing that job would; `expected_totals` here is the answer
both runs are checked against.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

COMPETITION_ID = "peer-job"
MANAGERS = 300
DAILY_CAP = 300
SHANGHAI = timezone(timedelta(hours=8))
DAYS = tuple(f"2026-02-{d:02d}" for d in range(2, 10))
SEGMENTS = ("non_credit", "credit_online", "credit_offline")


def competition_definition() -> dict[str, Any]:
    """The job's rules as this platform's organiser would publish them."""
    return {
        "id": COMPETITION_ID,
        "name": "开户竞赛（同业对比任务）",
        "version": 1,
        "status": "published",
        "effective_from": "2026-02-01T00:00:00+08:00",
        "window": {"start": "2026-02-01", "end": "2026-02-28"},
        "grace_days": 3,
        "participants": [],
        "rules": [
            {
                "kind": "account_opening",
                "points": {"basic": 10, "general": 4},
                "segment_bonus": {"non_credit": 2},
                "channel_bonus": {},
                "new_firm_bonus": 3,
                "bonus_account_types": ["basic"],
                "daily_cap": DAILY_CAP,
                "contest_cap": None,
                "clawback_days": None,
            }
        ],
        "tie_break": ["points_desc", "first_reached"],
        "rankings": ["customer_manager"],
    }


def manager(i: int) -> str:
    return f"peer-cm-{i:03d}"


def lines(count: int, seed: int = 17) -> list[tuple[bytes, bytes]]:
    """(key, value) records in the order they are produced."""
    rnd = random.Random(seed)
    out: list[tuple[bytes, bytes]] = []
    good: list[tuple[bytes, bytes]] = []
    for i in range(count):
        cm = manager(rnd.randrange(MANAGERS))
        roll = rnd.random()
        if roll < 0.01 and good:  # an exact duplicate of a line already sent
            out.append(good[rnd.randrange(max(0, len(good) - 2000), len(good))])
            continue
        day = datetime.fromisoformat(DAYS[rnd.randrange(len(DAYS))]).replace(tzinfo=SHANGHAI)
        moment = day + timedelta(seconds=rnd.randrange(86400))
        stamp = moment.astimezone(UTC).isoformat() if rnd.random() < 0.3 else moment.isoformat()
        event = {
            "event_id": f"peer-{seed}-{i}",
            "type": "account.opened",
            "schema_version": 1,
            "occurred_at": stamp,
            "source": "peer-job",
            "data": {
                "account_id": f"peer-acct-{i}",
                "customer_id": f"peer-cust-{i}",
                "cm_id": cm,
                "account_type": "basic" if rnd.random() < 0.4 else "general",
                "segment": SEGMENTS[rnd.randrange(3)],
                "channel": "walk_in",
                "new_firm": rnd.random() < 0.3,
            },
        }
        if roll < 0.015:  # junk: malformed JSON
            out.append((cm.encode(), json.dumps(event)[:-7].encode()))
            continue
        if roll < 0.02:  # junk: a required field missing
            del event["data"]["account_type"]
            out.append((cm.encode(), json.dumps(event).encode()))
            continue
        record = (cm.encode(), json.dumps(event, ensure_ascii=False).encode())
        good.append(record)
        out.append(record)
    return out


def points(data: dict[str, Any]) -> int:
    if data["account_type"] != "basic":
        return 4 if data["account_type"] == "general" else 0
    return 10 + (2 if data["segment"] == "non_credit" else 0) + (3 if data["new_firm"] else 0)


def expected_totals(records: list[tuple[bytes, bytes]]) -> dict[str, Decimal]:
    """Every manager's total once the job is done: junk out, duplicates once, capped by day."""
    seen: set[str] = set()
    by_day: dict[tuple[str, str], int] = {}
    for _, value in records:
        try:
            event = json.loads(value)
            data = event["data"]
            cm, earned = data["cm_id"], points(data)
            day = datetime.fromisoformat(event["occurred_at"]).astimezone(SHANGHAI).date().isoformat()
        except (ValueError, KeyError):
            continue
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        by_day[(cm, day)] = by_day.get((cm, day), 0) + earned
    totals: dict[str, Decimal] = {}
    for (cm, _), earned in by_day.items():
        totals[cm] = totals.get(cm, Decimal(0)) + min(earned, DAILY_CAP)
    return totals
