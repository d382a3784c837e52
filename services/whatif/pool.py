"""Where previews run: in processes of their own, one preview at a time per API process.

A preview parses and scores up to a year of events: seconds to a minute of CPU. In a thread it
would hold the GIL against the event loop that serves every board and stream; in processes the
API stays responsive and the preview's memory (a partition of raw history at a time) is theirs.
The validated topic's partitions are shared out among `processes` preview processes (a manager's
events all live in one partition), and their standings are ranked and compared here. The
processes are spawned (not forked: the API runs aiokafka's threads) on first use and kept for the
next preview. At most `max_waiting` requests queue behind the running one; beyond that the API
answers 429 at once.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from aiokafka.errors import KafkaError

from schemas.topics import Topics
from services.whatif.errors import HistoryUnavailable, PreviewBusy, PreviewFailed
from services.whatif.run import Part, PreviewJob, finish, score_part
from streams.admin import BrokerUnavailable, partitions_of


class PreviewPool:
    def __init__(self, processes: int = 2, max_waiting: int = 1) -> None:
        self._processes = processes
        self._max_waiting = max_waiting
        self._executor: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()
        self._queued = 0  # requests holding or waiting for the lock

    async def run(self, job: PreviewJob) -> dict[str, Any]:
        if self._queued > self._max_waiting:
            raise PreviewBusy(f"{self._queued} previews are running or waiting; try again shortly")
        self._queued += 1
        try:
            async with self._lock:
                began = time.perf_counter()
                parts = await self._parts(job)
                # Ranking a few thousand standings: quick, but not on the event loop either.
                result = await asyncio.to_thread(finish, job, parts)
                result["timing_ms"]["total"] = round((time.perf_counter() - began) * 1000)
                return result
        finally:
            self._queued -= 1

    async def _parts(self, job: PreviewJob) -> list[Part]:
        try:
            partitions = await partitions_of(job.bootstrap, Topics(job.topic_prefix).validated)
        except (KafkaError, BrokerUnavailable) as exc:
            raise HistoryUnavailable(f"cannot reach Kafka: {exc}") from None
        shares = [partitions[i :: self._processes] for i in range(self._processes)]
        loop = asyncio.get_running_loop()
        pool = self._pool()
        try:
            return list(
                await asyncio.gather(
                    *(loop.run_in_executor(pool, score_part, job, share) for share in shares if share)
                )
            )
        except BrokenProcessPool:
            self.close()  # new processes for the next preview
            raise PreviewFailed("a preview process died; try again") from None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self._processes, mp_context=multiprocessing.get_context("spawn")
            )
            atexit.register(self.close)  # a preview still running when the API stops is dropped
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
