"""Closing the what-if pool ends its processes at once, even one busy with a preview: the API's
shutdown relies on it (uvicorn's exit runs no atexit hook), or they outlive the API."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from services.whatif import PreviewPool


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _spawned(pool: PreviewPool, n: int) -> tuple[ProcessPoolExecutor, set[int]]:
    executor = pool._pool()
    pids = {f.result(timeout=60) for f in [executor.submit(os.getpid) for _ in range(n * 4)]}
    return executor, pids


def test_close_ends_idle_and_busy_preview_processes() -> None:
    pool = PreviewPool(processes=2)
    executor, pids = _spawned(pool, 2)
    assert pids and all(_alive(pid) for pid in pids)
    busy = executor.submit(time.sleep, 120)  # a preview that would run for two minutes
    time.sleep(0.5)

    began = time.monotonic()
    pool.close()
    assert time.monotonic() - began < 10
    assert not [pid for pid in pids if _alive(pid)]
    assert isinstance(busy.exception(timeout=10), BrokenProcessPool)
    pool.close()  # twice is fine


def test_a_closed_pool_starts_new_processes_for_the_next_preview() -> None:
    pool = PreviewPool(processes=1)
    _, first = _spawned(pool, 1)
    pool.close()
    _, second = _spawned(pool, 1)
    try:
        assert first.isdisjoint(second)
    finally:
        pool.close()
