"""The history built ahead of the questions, as the API runs it: once the read model knows the
competitions, the ledger of each that is running or ended lately (`worth_holding`) is read into
memory (`LedgerHistory.prepare`), and every `every` seconds each is brought up to date with what
the sink wrote since. A question then finds its competition held and at most a few seconds of
arrivals to put in place; one that comes before (an API that just started), or about an older
competition, prepares its competition itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from services.history.moments import LedgerHistory
from services.store import StoreError
from streams.core.rules import Competition

log = logging.getLogger(__name__)

EVERY_SECONDS = 15.0
LATELY = timedelta(days=62)  # an ended competition's boards are still asked about (晨会, audits)


def worth_holding(competitions: Iterable[Competition], today: date, limit: int) -> list[str]:
    """Published competitions not ended more than LATELY ago (grace days included), the latest
    ending first, at most `limit` (the history's bound: more would push each other out)."""
    recent = [
        c
        for c in competitions
        if c.status != "draft" and c.window.end + timedelta(days=c.grace_days) + LATELY >= today
    ]
    recent.sort(key=lambda c: (c.window.end, c.id), reverse=True)
    return [c.id for c in recent[:limit]]


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
