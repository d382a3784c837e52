"""The relay: completes publishing's outbox (services/store/outbox.py) from the API process.

Started with the API (so a fan-out that an earlier process left half done is finished at once),
woken after each publish or close, and polling every `fanout_poll_seconds` besides (another API
replica's rows, a broker back after an outage). Each pending row, oldest first: the version
record, then every partition's control record, then the row is marked done. Rows are never
skipped: one that does not get through is retried, with a growing pause, before any later one,
so a close never reaches a partition before its publish.

A crash anywhere in there leaves the row pending and the next relay sends it again, which the
workers absorb (the version record replaces itself on the compacted topic; a partition that has
pinned the version skips the repeated control record).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from schemas.control import Rescore
from services.publisher import Publisher, PublishError
from services.store import StoreError
from services.store.outbox import Outbox
from streams.pipeline import fault

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 30.0


class Relay:
    def __init__(self, outbox: Outbox, publisher: Publisher, poll_seconds: float) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._done = asyncio.Condition()
        self._finished: set[int] = set()  # rows this relay completed (answers `wait` at once)
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.sent = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="publish relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def wait(self, fanout_id: int, timeout: float) -> bool:
        """True once this relay has completed the row within `timeout` seconds (False: still
        pending here, or completed by another replica's relay: ask the store)."""
        self.wake()
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that meets a
        # result, and a relay or request that missed its cancellation would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._done:
                await self._done.wait_for(lambda: fanout_id in self._finished)
        return fanout_id in self._finished

    # -- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                complete = await self._pass()
            except Exception as exc:
                # Kafka or the database away (PublishError, StoreError), or anything else: the
                # relay must outlive it, or publishes would stay pending until a restart.
                failures += 1
                self.last_error = str(exc) or type(exc).__name__
                pause = min(MAX_PAUSE_SECONDS, 0.5 * 2**failures)
                expected = isinstance(exc, (StoreError, PublishError))
                log.log(
                    logging.WARNING if expected else logging.ERROR,
                    "relay: fan-out not complete (%s); again in %.1f s",
                    self.last_error,
                    pause,
                    exc_info=not expected,
                )
                await asyncio.sleep(pause)
                continue
            failures = 0
            self.last_error = None
            if not complete:
                continue  # more rows than one pass takes
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()

    async def _pass(self) -> bool:
        """Send what is pending, in order; True when nothing was left over."""
        turn = await asyncio.to_thread(self._outbox.take_turn)
        if turn is None:
            return True  # another replica's relay is sending; it will see our rows too
        try:
            rows = await asyncio.to_thread(self._outbox.pending)
            for row in rows:
                await self._send(row)
            return len(rows) < 100
        finally:
            # Shielded: a stop that cancels the pass here would otherwise cancel the release
            # before its thread starts, and the turn would stay held until the process exits.
            await asyncio.shield(asyncio.to_thread(turn.release))

    async def _send(self, row: dict[str, Any]) -> None:
        cid, version, status = row["competition_id"], row["version"], row["status"]
        try:
            await self._publisher.version_record(cid, version, status, row["record"].encode())
            fault.point("api.version_sent")
            await self._publisher.control_records(Rescore(cid, version, status))
        except PublishError as exc:
            with contextlib.suppress(StoreError):
                await asyncio.to_thread(self._outbox.failed, row["id"], str(exc))
            raise
        await asyncio.to_thread(self._outbox.done, [row["id"]], at=datetime.now(UTC))
        self.sent += 1
        log.info(
            "relay: %s v%d %s announced to every partition (fan-out %d)", cid, version, status, row["id"]
        )
        async with self._done:
            self._finished.add(row["id"])
            self._done.notify_all()
