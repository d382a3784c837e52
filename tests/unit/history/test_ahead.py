"""What the API holds ahead of the questions (services/history/ahead.py): the competitions running
or ended lately, the latest first, within the history's bound; prepared once the read model is
ready, again each round, and a database outage only waits for the next round."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from services.history.ahead import keep_ahead, worth_holding
from services.history.moments import LedgerHistory
from services.store import StoreUnavailable
from streams.core.rules import Competition, Window
from streams.core.templates import load_template


def contest(cid: str, start: str, end: str, status: str = "published", grace: int = 3) -> Competition:
    return load_template("feb_account_opening").model_copy(
        update={
            "id": cid,
            "status": status,
            "grace_days": grace,
            "window": Window(start=date.fromisoformat(start), end=date.fromisoformat(end)),
        }
    )


def test_running_and_lately_ended_competitions_are_held_latest_first() -> None:
    found = [
        contest("old", "2026-01-01", "2026-01-31"),  # ended 31 Jan + 3 days grace: over 62 days ago
        contest("lately", "2026-08-01", "2026-08-31"),  # 2 Sep + 62 days = 3 Nov: still held on 2 Nov
        contest("running", "2026-10-01", "2026-12-31"),
        contest("draft", "2026-10-01", "2026-12-31", status="draft"),
        contest("next", "2026-12-01", "2026-12-31"),
    ]
    assert worth_holding(found, date(2026, 11, 2), limit=10) == ["running", "next", "lately"]
    assert worth_holding(found, date(2026, 11, 5), limit=10) == ["running", "next"]
    assert worth_holding(found, date(2026, 11, 2), limit=2) == ["running", "next"]


class Recording:
    def __init__(self, fail: set[str]) -> None:
        self.prepared: list[str] = []
        self.fail = fail

    def prepare(self, competition_id: str) -> None:
        self.prepared.append(competition_id)
        if competition_id in self.fail:
            raise StoreUnavailable("the database is down")


async def test_prepared_once_ready_and_again_each_round(caplog: pytest.LogCaptureFixture) -> None:
    history = Recording(fail={"b"})
    ready = asyncio.Event()
    task = asyncio.create_task(
        keep_ahead(history, ready.is_set, lambda: ["a", "b"], every=0.01)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.05)
    assert history.prepared == []  # the read model does not know the competitions yet
    ready.set()
    for _ in range(200):
        if history.prepared.count("a") >= 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert history.prepared.count("a") >= 2 and history.prepared.count("b") >= 2
    assert "cannot bring b up to date" in caplog.text


def test_the_bound_is_the_history_capacity() -> None:
    store: Any = object()  # never read: only the bound is asked
    assert LedgerHistory(store, competitions=3).capacity == 3
