"""The API SIGKILLed and restarted while a board is open: a page keeps polling one leaderboard
through the restart, and every board (each competition, each ranking it offers) must come back
with the same standings as before. Then an event through the restarted API's HTTP door must
show on the board (the recovery time)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.faults.dbs import sqlite_url
from tests.faults.harness import (
    COMPETITIONS,
    PROBE_COMPETITION,
    Scenario,
    board,
    board_points,
    standing_points,
    wire,
)
from tests.support.auth import api_auth
from tests.support.ports import free_port
from tests.support.random_events import seeded
from tests.support.scoring import expected_standings

NAME = "api-restart"
EVENTS = 2000
BOARDS = [(comp.id, ranking) for comp in COMPETITIONS for ranking in comp.rankings]


@dataclass
class OpenPage:
    """A page polling one board every 0.25 s, as the leaderboard page does."""

    client: httpx.AsyncClient
    rows_before: Any
    answers: list[tuple[float, str]] = field(default_factory=list)  # (time, same|partial|<status>|down)

    async def run(self) -> None:
        while True:
            try:
                status, rows = await board(self.client, PROBE_COMPETITION, "customer_manager")
                kind = str(status) if rows is None else "same" if rows == self.rows_before else "different"
            except httpx.HTTPError:
                kind = "down"
            self.answers.append((time.monotonic(), kind))
            await asyncio.sleep(0.25)

    def after(self, t: float) -> list[tuple[float, str]]:
        return [(at, kind) for at, kind in self.answers if at >= t]


async def all_boards(client: httpx.AsyncClient) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for cid, ranking in BOARDS:
        try:
            out[(cid, ranking)] = (await board(client, cid, ranking))[1]
        except httpx.HTTPError:
            out[(cid, ranking)] = None
    return out


async def run(sc: Scenario) -> None:
    url = sqlite_url(sc.dir)
    port = free_port()
    await sc.prepare()
    await sc.start("worker", sc.worker())
    await sc.start("sink", sc.sink(url))
    api = sc.api(port, url)
    await sc.start("api", api)

    await sc.send_events(seeded(seed=sc.seed, count=EVENTS, cms=12, tag="ap"))
    expected = expected_standings(sc.accepted, COMPETITIONS)
    if await sc.converge(expected, 90) is None:
        sc.fail("the standings never matched the batch result before the restart")

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=10, auth=api_auth(f"http://127.0.0.1:{port}")
    ) as client:
        # Before: every customer-manager board shows the standings, /readyz is 200 (the read
        # model has caught up with standings, rules and org) and two looks a second apart agree.
        before: dict[tuple[str, str], Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            before = await all_boards(client)
            shown = {
                cid: board_points(before[(cid, "customer_manager")] or [])
                for cid in {c.id for c in COMPETITIONS}
            }
            ready = (await client.get("/readyz")).status_code == 200
            await asyncio.sleep(1.0)
            if (
                ready
                and all(shown[cid] == standing_points(expected, cid) for cid in shown)
                and await all_boards(client) == before
            ):
                break
        else:
            sc.fail("the API's boards never showed the standings (and /readyz 200) before the restart")

        page = OpenPage(client, before[(PROBE_COMPETITION, "customer_manager")])
        polling = asyncio.create_task(page.run())
        try:
            await asyncio.sleep(2.0)
            sc.kill("api")
            killed_at = time.monotonic()
            took = await sc.start("api", api)
            sc.log(
                f"API SIGKILLed, serving again in {time.monotonic() - killed_at:.1f} s (start {took:.1f} s)"
            )
            after: dict[tuple[str, str], Any] = {}
            same_at: float | None = None
            while time.monotonic() - killed_at < 90:
                after = await all_boards(client)
                if after == before:
                    same_at = time.monotonic()
                    break
                await asyncio.sleep(0.25)
            await asyncio.sleep(1.0)
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)

        if same_at is None:
            differ = [
                f"{cid}/{ranking}" for (cid, ranking), rows in after.items() if rows != before[(cid, ranking)]
            ]
            sc.fail(
                f"{len(differ)} of {len(BOARDS)} boards differ 90 s after the kill: {', '.join(differ[:4])}"
            )
        else:
            sc.note(
                f"all {len(BOARDS)} boards identical to before {same_at - killed_at:.1f} s after the SIGKILL"
            )
        seen = page.after(killed_at)
        kinds = [kind for _, kind in seen]
        first_same = next((at for at, kind in seen if kind == "same"), None)
        sc.note(
            f"the open page polled {len(seen)} times after the kill: {kinds.count('down')} refused, "
            f"{sum(k not in ('same', 'different', 'down') for k in kinds)} non-200 answers, "
            f"{kinds.count('different')} boards unlike the one before (read model catching up)"
            + (f"; first identical board {first_same - killed_at:.1f} s after the kill" if first_same else "")
        )
        last_kind = seen[-1][1] if seen else "none"
        if last_kind != "same":
            sc.fail(f"the open page's last answer was {last_kind!r}, not the board it showed before")

        # Recovery: an event through the restarted API's door, until its standing is on the board.
        probe = sc.new_probe()
        cm = probe.key.split("|", 1)[1]
        sent_at = time.monotonic()
        response = await client.post("/ingest/events", content=wire(probe.event))
        sc.outcome.sent += 1
        if response.status_code != 202:
            sc.fail(
                f"the restarted API answered {response.status_code} to a valid event: {response.text[:200]}"
            )
        else:
            sc.accepted.append(probe.event)
            want = Decimal(probe.standing["points"])
            while time.monotonic() - sent_at < 60:
                _, rows = await board(client, PROBE_COMPETITION, "customer_manager")
                if rows is not None and board_points(rows).get(cm) == want:
                    sc.outcome.recovery_s = time.monotonic() - sent_at
                    break
                await asyncio.sleep(0.1)
            else:
                sc.fail("an event sent through the restarted API never showed on its board within 60 s")
    await sc.verify(url)
