"""The notifier's loop: find news, keep it in the outbox, pack what waits into digests, send.

Each tick (every CAMPAIGNS_NOTIFY_POLL_SECONDS):
1. for each enabled robot, the news of its kinds (services/notify/sources.py) goes into the outbox
   with the state it was derived from, in one transaction;
2. per robot, when its rate limit allows a POST: the oldest digest still due is sent; if none is,
   the messages waiting are packed into digests first (so a backlog goes out as one POST);
3. a send: `intent_at` committed, the POST, `sent_at` committed. A failure (network, HTTP status,
   the robot's errcode) schedules a retry with backoff; the digest's messages stay in it.

Fault points for the kill tests (streams/pipeline/fault.py): "notify.before_post" (the intent is
recorded, nothing sent) and "notify.after_post" (the robot answered ok, `sent_at` not written).
Run one notifier per database: two would each send the same digest.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.notify import outbox
from services.notify.digest import HEADER, RESENT, Item, pack, render, retry_delay
from services.notify.limiter import SlidingWindow
from services.notify.sources import news
from services.store import Store
from streams.pipeline import fault

log = logging.getLogger(__name__)
# A minute and a second: the robot counts by its own clock, and a POST's trip takes time.
WINDOW_SECONDS = 61.0
IN_DOUBT = "in doubt: "


@dataclass(frozen=True)
class Answer:
    ok: bool
    detail: str


Post = Callable[[str, dict[str, Any]], Awaitable[Answer]]


def http_post(timeout: float) -> tuple[Post, Callable[[], Awaitable[None]]]:
    """POST JSON with httpx; ok when HTTP 200 and the robot's `errcode` is 0."""
    client = httpx.AsyncClient(timeout=timeout)

    async def post(url: str, body: dict[str, Any]) -> Answer:
        response = await client.post(url, json=body)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        ok = response.status_code == 200 and errcode == 0
        message = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        return Answer(ok, f"HTTP {response.status_code} errcode {errcode} {message}")

    return post, client.aclose


def robot_of(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


class Notifier:
    def __init__(
        self,
        store: Store,
        post: Post,
        *,
        per_minute: int = 20,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._post = post
        self._per_minute = per_minute
        self._clock = clock
        self._limits: dict[str, SlidingWindow] = {}

    def _limit(self, robot: str, now: datetime) -> SlidingWindow:
        found = self._limits.get(robot)
        if found is None:
            found = self._limits[robot] = SlidingWindow(self._per_minute, WINDOW_SECONDS)
            since = now - timedelta(seconds=WINDOW_SECONDS)
            found.seed(at.timestamp() for at in outbox.recent_intents(self._store, robot, since))
        return found

    async def tick(self) -> int:
        """One round; returns how many POSTs it made."""
        posts = 0
        configs = [c for c in await asyncio.to_thread(outbox.configs, self._store) if c["enabled"]]
        for cfg in configs:
            try:
                await asyncio.to_thread(news, self._store, cfg, self._clock())
            except Exception:  # one competition's trouble must not stop the others' messages
                log.exception("notify: finding news for %s failed", cfg["competition_id"])
        for cfg in configs:
            posts += await self._send_one(cfg)
        return posts

    async def _send_one(self, cfg: dict[str, Any]) -> int:
        cid, url = cfg["competition_id"], cfg["webhook_url"]
        robot = robot_of(url)
        now = self._clock()
        limit = self._limit(robot, now)
        if limit.wait(now.timestamp()) > 0:
            return 0
        digest = await asyncio.to_thread(outbox.due, self._store, cid, now)
        if digest is None:
            if await asyncio.to_thread(outbox.unsent_digests, self._store, cid):
                return 0  # one is waiting for its retry time: keep the order
            waiting = await asyncio.to_thread(outbox.undigested, self._store, cid)
            if not waiting:
                return 0
            by_key = {key: i for i, key, _ in waiting}
            groups = pack([Item(key, text) for _, key, text in waiting])
            await asyncio.to_thread(
                outbox.make_digests,
                self._store,
                cid,
                [(render(g), [by_key[i.key] for i in g]) for g in groups],
                now,
            )
            digest = await asyncio.to_thread(outbox.due, self._store, cid, now)
            if digest is None:
                return 0
        # Cut off mid-send (no answer recorded), or timed out: the robot may have it already.
        error = digest["last_error"]
        in_doubt = digest["intent_at"] is not None and (error is None or error.startswith(IN_DOUBT))
        content = digest["content"]
        if in_doubt and not content.startswith(HEADER + RESENT):
            content = HEADER + RESENT + content[len(HEADER) :]
        limit.take(now.timestamp())
        await asyncio.to_thread(outbox.intend, self._store, digest["id"], robot, now)
        fault.point("notify.before_post")
        try:
            answer = await self._post(url, {"msgtype": "markdown", "markdown": {"content": content}})
        except httpx.TimeoutException as exc:  # sent, perhaps: the retry says it may repeat
            answer = Answer(False, f"{IN_DOUBT}{type(exc).__name__}: {exc}")
        except Exception as exc:  # refused, unreachable: not sent; retry later
            answer = Answer(False, f"{type(exc).__name__}: {exc}")
        if answer.ok:
            fault.point("notify.after_post")
            await asyncio.to_thread(outbox.sent, self._store, digest["id"], self._clock())
            log.info("notify: sent digest %s of %s", digest["id"], cid)
        else:
            delay = retry_delay(digest["attempts"] + 1)
            retry_at = self._clock() + timedelta(seconds=delay)
            await asyncio.to_thread(outbox.failed, self._store, digest["id"], answer.detail, retry_at)
            log.warning(
                "notify: digest %s of %s failed (%s); retry in %.0f s",
                digest["id"],
                cid,
                answer.detail,
                delay,
            )
        return 1
