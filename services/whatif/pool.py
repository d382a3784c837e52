"""Where previews run: in processes of their own, one preview at a time per API process.

A preview parses and scores up to a year of events: seconds to a minute of CPU. In a thread it
would hold the GIL against the event loop that serves every board and stream; in processes the
API stays responsive and the preview's memory (a partition of raw history at a time) is theirs.
The validated topic's partitions are shared out among `processes` preview processes (a manager's
events all live in one partition), and their standings are ranked and compared here. The
processes are spawned (not forked: the API runs aiokafka's threads) on first use and kept for the
next preview. At most `max_waiting` requests queue behind the running one; beyond that the API
answers 429 at once.

The API's shutdown closes the pool (services/api/app.py): uvicorn ends a SIGTERMed process by
raising the signal again, so no atexit hook runs, and processes left waiting for work would
outlive it (with multiprocessing's resource tracker), reparented to PID 1. A process also asks
Linux to end it when the API dies without a shutdown (SIGKILL).
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import multiprocessing
import signal
import sys
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
                max_workers=self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_end_with_parent,
            )
            atexit.register(self.close)
        return self._executor

    def close(self, timeout: float = 5.0) -> None:
        """Ends the preview processes now: a preview still running is dropped (its request gets
        an error; the API is stopping anyway). Safe to call twice."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # Read before shutdown, which forgets them; a private attribute, but the only handle on
        # the processes: shutdown() alone lets a running preview finish, up to a minute.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)


def _end_with_parent() -> None:
    """In each preview process: SIGTERM when the API process dies, however it dies (Linux's
    PR_SET_PDEATHSIG; elsewhere nothing)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
