"""A late event through the whole pipeline (raw topic -> worker -> ledger topic -> the real sink ->
PostgreSQL): the frozen month stays as it was and the next month shows the adjustment.

The contest runs from the first day of last month to the end of next month; last month is frozen,
then one more of last month's openings arrives: it is recorded after the freeze, so it is carried
into this month."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas import SHANGHAI
from schemas.topics import Topics
from services.awards import freezing, runs
from services.awards.gate import Gate
from services.awards.positions import Groups, pipeline_lags
from services.store import Store
from streams.core.rules import parse_competition
from tests.integration.awards.builders import org
from tests.support.events import joined, opened
from tests.support.kafka import BOOTSTRAP
from tests.support.processes import Process, sink
from tests.support.scoring import publish, send_events


def _months(today: date, grace_days: int) -> tuple[date, date, date]:
    """Last month, this month and the window's end, placed from `today` so that on any calendar day
    last month's cutoff (its end plus the grace days) has passed and the window is still open.

    The freeze is asked for at the real time, so the months must follow the real date; anchoring
    them `grace_days + 2` days back keeps the test valid on the 1st of a month and across Shanghai
    midnight, where "last month" taken from today would still be inside its grace days."""
    anchor = today - timedelta(days=grace_days + 2)
    this_month = anchor.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    after_next = (this_month + timedelta(days=62)).replace(day=1)
    return last_month, this_month, after_next - timedelta(days=1)


def _contest(start: date, end: date) -> Any:
    return parse_competition(
        {
            "id": "late-pipeline",
            "name": "迟到数据测试",
            "version": 1,
            "status": "published",
            "effective_from": f"{start.isoformat()}T00:00:00+08:00",
            "window": {"start": start.isoformat(), "end": end.isoformat()},
            "rules": [{"kind": "account_opening", "points": {"basic": 10, "general": 4}}],
            "awards": {
                "prizes": [{"kind": "rank", "name": "月度奖", "tiers": [{"title": "第一名", "amount": 100}]}]
            },
        }
    )


def _opening(event_id: str, cm_id: str, day: date, account_type: str) -> dict[str, Any]:
    event = opened(event_id, cm_id, account_type=account_type)
    event["occurred_at"] = f"{day.isoformat()}T10:00:00+08:00"
    return event


def _wait_totals(store: Store, cid: str, expected: dict[str, str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    got: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            got = {cm: f"{p:.2f}" for cm, p in store.totals(cid).items()}
        except Exception:  # the sink has not created its tables yet
            got = {}
        if got == expected:
            return
        time.sleep(0.5)
    raise AssertionError(f"ledger totals {got} never became {expected}")


async def test_late_event_after_the_freeze_is_next_months_adjustment(
    topics: Topics, running_worker: Process, prefix: str, pg_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)  # read once: every date below is placed from it
    grace = _contest(date(2026, 1, 1), date(2026, 1, 31)).grace_days
    last_month, this_month, end = _months(now.astimezone(SHANGHAI).date(), grace)
    comp = _contest(last_month, end)
    await publish(topics, [comp])
    writer = sink(prefix, tmp_path, pg_url).start()
    store = Store.from_url(pg_url)
    try:
        await send_events(
            topics,
            [
                joined("cm-1", "SB1"),
                joined("cm-2", "SB2"),
                _opening("o-1", "cm-1", last_month + timedelta(days=9), "basic"),
                _opening("o-2", "cm-1", last_month + timedelta(days=10), "basic"),
                _opening("o-3", "cm-2", last_month + timedelta(days=11), "general"),
            ],
        )
        await asyncio.to_thread(_wait_totals, store, comp.id, {"cm-1": "20.00", "cm-2": "4.00"})
        runs.ensure_schema(store)

        period = f"{last_month:%Y-%m}"
        _, chain = runs.resolve([comp], comp.id, period)
        assert now >= chain[-1].cutoff
        groups = Groups.of(f"{prefix}app", f"{prefix}app-sink")
        gate = Gate(await pipeline_lags(BOOTSTRAP, topics, groups, wait=30.0))
        frozen = runs.close_due(store, comp, chain, datetime.now(UTC), gate=gate)
        assert runs.per_manager(frozen) == [
            {
                "cm_id": "cm-1",
                "points": "20.00",
                "adjustment": "0.00",
                "adjustment_from": [],
                "total": "20.00",
            },
            {"cm_id": "cm-2", "points": "4.00", "adjustment": "0.00", "adjustment_from": [], "total": "4.00"},
        ]
        directory = org(
            ("cm-1", "join", "sub_branch", "SB1", None), ("cm-2", "join", "sub_branch", "SB2", None)
        )
        first = runs.run(store, [comp], comp.id, period, directory, gate=gate)

        # One more of last month's openings, sent after the freeze: stored by the real sink.
        await send_events(topics, [_opening("o-4", "cm-2", last_month + timedelta(days=19), "basic")])
        await asyncio.to_thread(_wait_totals, store, comp.id, {"cm-1": "20.00", "cm-2": "14.00"})

        stored = freezing.load(store, comp.id, period)
        assert stored is not None and stored.checksum() == frozen.checksum()
        assert runs.per_manager(stored) == runs.per_manager(frozen)
        again = runs.run(store, [comp], comp.id, period, directory, gate=gate)
        assert (again.created, again.run["checksum"]) == (False, first.run["checksum"])

        _, chain = runs.resolve([comp], comp.id, f"{this_month:%Y-%m}")
        snap, is_frozen = runs.results(store, comp, chain)
        assert not is_frozen
        assert runs.per_manager(snap) == [
            {
                "cm_id": "cm-2",
                "points": "0.00",
                "adjustment": "10.00",
                "adjustment_from": [period],
                "total": "10.00",
            }
        ]
    finally:
        store.close()
        writer.stop()
