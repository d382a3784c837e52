"""The scoring stream on the real broker agrees with the pure core run in batch."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from schemas.topics import Topics
from tests.support.kafka import read_all
from tests.support.processes import Process
from tests.support.random_events import event_streams
from tests.support.scoring import (
    converge,
    expected_standings,
    held_badges,
    publish,
    published_templates,
    send_events,
)

COMPETITIONS = published_templates()
_examples = itertools.count()


async def test_a_published_contest_scores_events_through_the_stream(
    running_worker: Process, topics: Topics
) -> None:
    await publish(topics, COMPETITIONS)
    events = [
        {
            "event_id": f"evt-{n}",
            "type": "account.opened",
            "schema_version": 1,
            "occurred_at": f"2026-02-0{n}T10:00:00+08:00",
            "source": "test",
            "data": {
                "account_id": f"a{n}",
                "customer_id": f"c{n}",
                "cm_id": "cm-a",
                "account_type": "basic",
                "segment": "non_credit",
                "channel": "tax_agent",
                "new_firm": True,
            },
        }
        for n in range(1, 4)
    ]
    await send_events(topics, events)

    expected = expected_standings(events, COMPETITIONS)
    got = await converge(topics, expected)

    # 基本户 10 + 非授信 2 + 税务师事务所 3 + 新注册企业 5 = 20 points, three times.
    assert got["feb-account-opening|cm-a"]["points"] == "60.00"
    ledger = [json.loads(r.value or b"") for r in await read_all(topics.ledger)]
    opening = [e for e in ledger if e["competition_id"] == "feb-account-opening"]
    assert sorted(e["event_id"] for e in opening) == ["evt-1", "evt-2", "evt-3"]
    assert all(e["rule_version"] == 1 and e["reason"] for e in opening)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=event_streams(tag="h", cms=3, max_events=40))
async def test_random_streams_give_the_same_standings_as_the_core_in_batch(
    running_worker: Process, topics: Topics, data: list[dict[str, Any]]
) -> None:
    # One worker serves every example; each example gets its own managers and event ids.
    tag = f"x{next(_examples)}"
    events = json.loads(json.dumps(data).replace('"h-', f'"{tag}-'))
    await publish(topics, COMPETITIONS)  # idempotent: same versions, same keys
    await send_events(topics, events)

    await converge(topics, expected_standings(events, COMPETITIONS))


def _opened(n: int, day: int, cm: str = "cm-badge") -> dict[str, Any]:
    return {
        "event_id": f"bdg-o{n}",
        "type": "account.opened",
        "schema_version": 1,
        "occurred_at": f"2026-02-{day:02d}T10:{n:02d}:00+08:00",
        "source": "test",
        "data": {
            "account_id": f"bdg-a{n}",
            "customer_id": f"bdg-c{n}",
            "cm_id": cm,
            "account_type": "basic",
            "segment": "non_credit",
            "channel": "tax_agent",
            "new_firm": False,
        },
    }


async def test_badges_streaks_and_a_challenge_are_written_once_and_a_clawback_takes_one_back(
    running_worker: Process, topics: Topics
) -> None:
    await publish(topics, COMPETITIONS)
    week = [_opened(n, day) for n, day in enumerate([2, 3, 4, 5, 6])]  # Mon to Fri: a 5-day streak
    closing = {
        "event_id": "bdg-x0",
        "type": "account.closed",
        "schema_version": 1,
        "occurred_at": "2026-02-09T09:00:00+08:00",
        "source": "test",
        "data": {"account_id": "bdg-a0", "customer_id": "bdg-c0", "cm_id": "cm-badge", "kind": "closed"},
    }
    await send_events(topics, week)
    first = await converge(topics, expected_standings(week, COMPETITIONS))
    assert {b["id"] for b in first["badges-and-sprints|cm-badge"]["badges"]} == {
        "first_basic_of_month@2026-02",
        "basic_5_days@2026-02-02",
        "challenge:kaimenhong_week",
    }
    # the opening on Monday closed within 30 days: the streak loses its first day, so it goes;
    # the month's first basic account is now Tuesday's, still held (its moment moves)
    await send_events(topics, [*week[:2], closing])  # two redelivered, one closing
    got = await converge(topics, expected_standings([*week, closing], COMPETITIONS))
    shown = got["badges-and-sprints|cm-badge"]["badges"]
    assert [(b["id"], b["at"]) for b in shown] == [
        ("first_basic_of_month@2026-02", "2026-02-03T10:01:00+08:00"),
        ("challenge:kaimenhong_week", "2026-02-04T10:02:00+08:00"),
    ]
    ledger = [json.loads(r.value or b"") for r in await read_all(topics.ledger)]
    mine = [e for e in ledger if e["cm_id"] == "cm-badge" and e["component"] in ("badge", "challenge")]
    assert sorted(e["event_id"] for e in mine) == [
        "badge-revoke:basic_5_days@2026-02-02:1",
        "badge:basic_5_days@2026-02-02:1",
        "badge:first_basic_of_month@2026-02:1",
        "challenge:kaimenhong_week:1",
    ]
    assert all(e["points"] == "0.00" and e["label"]["kind"] in ("badge", "challenge") for e in mine)
    assert held_badges(ledger)["badges-and-sprints|cm-badge"] == {b["id"] for b in shown}
