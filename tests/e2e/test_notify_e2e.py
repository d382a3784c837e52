"""企业微信 messages end to end: an organiser sets a competition's robot over HTTP (the webhook
comes back masked, a display token may not read it); the notifier runs as its own process beside
the worker, the ledger sink and the API; a manager's rise into first place, scored for real,
reaches a real local HTTP receiver once, as the group robot's markdown message."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx

from schemas.topics import Topics
from tests.e2e.pages_world import OPENING, basic, display_token, member, publish_over_http
from tests.support.auth import credentials_for
from tests.support.processes import Process, isolated_env, sink
from tests.support.robot import Robot
from tests.support.scoring import send_events


async def _until(what: str, check: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.3)


async def test_a_rise_to_first_place_reaches_the_group_robot(
    running_worker: Process, api_url: str, prefix: str, topics: Topics, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'api.db'}"
    ledger = sink(prefix, tmp_path, database).start()
    robot = Robot().start()
    notifier = Process(
        [sys.executable, "-m", "services.notify"],
        isolated_env(prefix, CAMPAIGNS_DATABASE_URL=database, CAMPAIGNS_NOTIFY_POLL_SECONDS="0.5"),
        tmp_path / "notify.log",
        ready_text="notify: ready",
    )
    organiser = {"Authorization": f"Bearer {credentials_for(api_url).organiser_key}"}
    try:
        await publish_over_http(api_url, "feb_account_opening")
        await send_events(
            topics,
            [
                *member("cm-a", "张伟", "sb-east"),
                *member("cm-b", "王芳", "sb-east"),
                *(basic(f"b{i}", "cm-b") for i in range(3)),
                basic("a0", "cm-a"),
            ],
        )
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
            path = f"/api/competitions/{OPENING}/notifications"
            refused = await client.put(
                path, headers=organiser, json={"top_n": 3, "kinds": ["rank", "fireworks"]}
            )
            assert refused.status_code == 422, refused.text
            answer = await client.put(
                path, headers=organiser, json={"webhook_url": robot.url, "top_n": 3, "kinds": ["rank"]}
            )
            assert answer.status_code == 200, answer.text
            shown = answer.json()
            assert shown["webhook"].endswith("key=test…6789") and "robot-key" not in answer.text
            screen = await client.get(path, params={"token": display_token(api_url, "sb-east")})
            assert screen.status_code == 403

            # the ledger has both managers before the notifier's first look (its baseline)
            async def ledger_has(n: int) -> bool:
                got = await client.get(
                    f"/api/competitions/{OPENING}/leaderboard",
                    params={"as_of": "2026-03-01T00:00:00+08:00"},
                    headers=organiser,
                )
                return got.status_code == 200 and len(got.json()["rows"]) == n

            deadline = time.monotonic() + 90
            while not await ledger_has(2):
                assert time.monotonic() < deadline, "the sink never stored both managers"
                await asyncio.sleep(0.5)
            notifier.start()
            await asyncio.sleep(2)  # a few ticks: the baseline, no message
            assert robot.received == []

            await send_events(topics, [basic(f"a{i}", "cm-a") for i in range(1, 4)])  # 张伟 40 > 王芳 30
            await _until("the robot got the news", lambda: len(robot.received) >= 1)
            await asyncio.sleep(2)  # and nothing more comes
            assert len(robot.received) == 1
            body = robot.received[0].body
            assert body["msgtype"] == "markdown"
            content = body["markdown"]["content"]
            assert "**cm-a** 从第 2 名升至第 **1** 名（40.00 分）" in content, content
            assert len(robot.received[0].tags) == 1
            counts = (await client.get(path, headers=organiser)).json()["outbox"]
            assert counts == {"sent": 1, "waiting": 0, "digests_failing": 0}
            assert "test-robot-key" not in notifier.output(), "the webhook's key in the notifier's log"
    finally:
        notifier.stop()
        robot.stop()
        ledger.stop()
