"""The notifier's loop on SQLite and PostgreSQL with an injected clock and a recording robot:
a flood of news over ten minutes goes out in digests, never more than 20 POSTs in any minute,
each message once; a robot that fails is retried with backoff and nothing is lost; a manager's
rise into first place becomes one message, found again after a restart without a second one; so
do the core's badges and a challenge's winner."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.notify import outbox
from services.notify.config import checked
from services.notify.digest import tag
from services.notify.messages import Notice
from services.notify.sender import Answer, Notifier
from services.store import Store
from streams.core import ParticipantState, apply
from streams.core.templates import load_template
from tests.support.robot import TAG
from tests.unit.core.core_builders import event

pytestmark = pytest.mark.integration

URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test"
T0 = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class FakeRobot:
    def __init__(self, clock: Clock, failing: int = 0) -> None:
        self.clock, self.failing = clock, failing
        self.posts: list[tuple[datetime, str]] = []
        self.refused = 0

    async def __call__(self, url: str, body: dict[str, Any]) -> Answer:
        if self.failing:
            self.failing -= 1
            self.refused += 1
            return Answer(False, "HTTP 500 errcode None")
        self.posts.append((self.clock.now, body["markdown"]["content"]))
        return Answer(True, "HTTP 200 errcode 0 ok")

    def most_in_a_minute(self) -> int:
        times = [t for t, _ in self.posts]
        return max((sum(1 for u in times if t <= u < t + timedelta(seconds=60)) for t in times), default=0)


def news(first: int, count: int) -> list[Notice]:
    return [
        Notice(f"badge:c1:cm-{i}", "c1", "badge", f"经理{i} 获得徽章") for i in range(first, first + count)
    ]


async def test_a_flood_is_held_to_the_rate_limit_and_nothing_is_lost_or_doubled(store: Store) -> None:
    clock = Clock()
    robot = FakeRobot(clock, failing=3)
    outbox.save_config(store, "c1", checked(URL, 5, ["badge"], True), "test", T0)
    notifier = Notifier(store, robot, clock=clock)
    sent: list[Notice] = []
    for second in range(600):
        if second % 2 == 0 and second < 400:  # 3 items every 2 s for 400 s: far more than 20 a minute
            batch = news(second * 2, 3)
            outbox.record(store, batch, clock.now)
            sent += batch
        await notifier.tick()
        clock.now += timedelta(seconds=1)
    for _ in range(400):  # drain, through the backoffs
        await notifier.tick()
        clock.now += timedelta(seconds=1)
    seen = Counter(t for _, content in robot.posts for t in TAG.findall(content))
    assert seen == Counter({tag(n.key): 1 for n in sent})
    assert robot.refused == 3
    assert robot.most_in_a_minute() <= 20
    # 90 messages a minute for nearly 7 minutes, 20 POSTs a minute: only digests carry them
    assert len(robot.posts) < len(sent) / 3
    assert max(len(TAG.findall(content)) for _, content in robot.posts) >= 4
    assert outbox.counts(store, "c1") == {"sent": len(sent), "waiting": 0, "digests_failing": 0}


def entry(n: int, cm: str, points: int, at: datetime) -> dict[str, Any]:
    return {
        "entry_id": f"e{n}",
        "event_id": f"evt{n}",
        "competition_id": "c1",
        "rule_version": 1,
        "cm_id": cm,
        "sub_branch_id": "sb1",
        "team_id": None,
        "occurred_at": at,
        "points": Decimal(points),
        "component": "opening",
        "reason": "opened",
    }


async def test_a_rise_into_first_place_is_one_message_even_after_a_restart(store: Store) -> None:
    clock = Clock()
    robot = FakeRobot(clock)
    outbox.save_config(store, "c1", checked(URL, 3, ["rank"], True), "test", T0)
    store.add_ledger_entries(
        [entry(1, "cm-a", 10, T0 - timedelta(hours=2)), entry(2, "cm-b", 20, T0 - timedelta(hours=2))]
    )
    await Notifier(store, robot, clock=clock).tick()
    assert robot.posts == []  # the first look is the baseline
    store.add_ledger_entries([entry(3, "cm-a", 30, T0 - timedelta(hours=1))])
    clock.now += timedelta(seconds=5)
    await Notifier(store, robot, clock=clock).tick()
    clock.now += timedelta(seconds=5)
    await Notifier(store, robot, clock=clock).tick()  # a new process: same standings, same key
    assert len(robot.posts) == 1
    content = robot.posts[0][1]
    assert "**cm-a** 从第 2 名升至第 **1** 名（40.00 分）" in content, content
    assert len(TAG.findall(content)) == 1


async def test_badges_and_challenge_winners_from_the_core_are_announced_once(store: Store) -> None:
    """The core's own entries (a badge, a challenge reached, a badge taken back), as the sink
    stores them: the robot announces the badge and the winner once, across a restart."""
    comp = load_template("badges_and_sprints").model_copy(update={"status": "published", "id": "c1"})
    store.save_competition("c1", 1, "published", comp.model_dump(mode="json"))
    clock = Clock()
    robot = FakeRobot(clock)
    outbox.save_config(store, "c1", checked(URL, 3, ["badge", "challenge"], True), "test", T0)
    state = ParticipantState("cm-a")
    entries = []
    for n, day in enumerate([2, 3]):
        opening = event(
            "account.opened", f"o{n}", f"2026-02-0{day} 10:00", account_id=f"a{n}", customer_id=f"c{n}",
            cm_id="cm-a", account_type="basic", segment="non_credit", channel="tax_agent", new_firm=False,
        )  # fmt: skip
        entries += apply(state, opening, [comp])
    rows = [e.to_dict() | {"occurred_at": e.occurred_at, "points": e.points} for e in entries]
    store.add_ledger_entries(rows)
    for _ in range(2):  # a second notifier process finds the same news under the same keys
        clock.now += timedelta(seconds=5)
        await Notifier(store, robot, clock=clock).tick()
    texts = " ".join(content for _, content in robot.posts)
    assert "**cm-a** 获得徽章「本月首个基本户」" in texts, texts
    assert "**cm-a** 第 1 位达成挑战「开门红周：先开2个基本户」" in texts, texts
    assert len(TAG.findall(texts)) == 2
