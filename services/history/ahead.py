"""The history built ahead of the questions, as the API runs it: once the read model knows the
competitions, each one's ledger is read into memory (`LedgerHistory.prepare`), and every `every`
seconds each is brought up to date with what the sink wrote since. A question then finds its
competition held and at most a few seconds of arrivals to put in place; one that comes before
(an API that just started) prepares its competition itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from services.history.moments import LedgerHistory
from services.store import StoreError

log = logging.getLogger(__name__)

EVERY_SECONDS = 15.0


async def keep_ahead(
    history: LedgerHistory,
    ready: Callable[[], bool],
    competitions: Callable[[], Iterable[str]],
    every: float = EVERY_SECONDS,
) -> None:
    while True:
        if ready():
            for competition_id in competitions():
                try:
                    await asyncio.to_thread(history.prepare, competition_id)
                except StoreError as exc:  # the database is down: the next round tries again
                    log.warning("history: cannot bring %s up to date: %s", competition_id, exc)
        await asyncio.sleep(every)
