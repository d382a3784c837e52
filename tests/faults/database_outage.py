"""The ledger sink's PostgreSQL stopped for 30 s while the sink runs and events keep coming; then
started again. The sink must survive, lose no entry and catch up. The cluster is a private one
(tests/faults/dbs.py): the project's shared PostgreSQL serves other test runs meanwhile."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from tests.faults.dbs import PrivatePostgres
from tests.faults.harness import Scenario, engine_for, until
from tests.support.random_events import seeded

NAME = "database-outage"
OUTAGE_S = 30.0
EVENTS = 4000


def _stored(url: str) -> int:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one())
    except Exception:
        return 0
    finally:
        engine.dispose()


async def run(sc: Scenario) -> None:
    pg = PrivatePostgres(sc.dir / "pg")
    try:
        await asyncio.to_thread(pg.init)
        await asyncio.to_thread(pg.start)
        await _outage(sc, pg)
    finally:
        await asyncio.to_thread(pg.remove)


def _has_entries_of(url: str, event_id: str) -> bool:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM ledger_entries WHERE event_id = :e")
            return bool(conn.execute(query, {"e": event_id}).scalar_one())
    except Exception:
        return False
    finally:
        engine.dispose()


async def _outage(sc: Scenario, pg: PrivatePostgres) -> None:
    url = pg.url
    await sc.prepare()
    await sc.start("worker", sc.worker())
    sink = sc.sink(url, CAMPAIGNS_SINK_BATCH_SIZE="200")
    await sc.start("sink", sink)

    events = seeded(seed=sc.seed, count=EVENTS, cms=12, tag="db")
    streaming = asyncio.create_task(sc.stream(events, chunk=40, interval=0.5))  # ~50 s of events
    try:
        if await until(lambda: _stored(url) > 0, 60) is None:
            sc.fail("the sink stored nothing within 60 s, before any outage")
        before = await asyncio.to_thread(_stored, url)
        await asyncio.to_thread(pg.stop)
        down_at = time.monotonic()
        sc.log(f"PostgreSQL stopped with {before} ledger entries stored; down for {OUTAGE_S:.0f} s")
        await asyncio.sleep(OUTAGE_S)
        if sc.died("sink"):
            await sc.revive("sink", sink, "during the database outage")
        await asyncio.to_thread(pg.start)
        up_at = time.monotonic()
        sc.log(f"PostgreSQL back after {up_at - down_at:.1f} s")
        probe = await sc.send_probe()
        await streaming
    finally:
        streaming.cancel()

    sc.outcome.recovery_s = await sc.recovery(probe)
    in_sql = await until(lambda: _has_entries_of(url, probe.event["event_id"]), 120)
    if in_sql is not None:
        sc.note(
            f"the probe's ledger entry reached SQL {time.monotonic() - probe.sent_at:.1f} s after its send"
        )
    retried = sink.output().count("database unavailable")
    sc.note(f"the sink logged 'database unavailable' {retried} times during the outage")
    if retried == 0:
        sc.fail("the sink never noticed the outage (no 'database unavailable' in its log)")
    await sc.verify(url)
