"""`python -m services.demo`: publish the demo competitions and org, then feed events until SIGTERM.

Prints "demo: feeding" once the competitions and the org are stored and events start to flow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
import sys
import uuid
from contextlib import suppress
from datetime import date, datetime

from schemas import SHANGHAI
from services.demo.backfill import backfill
from services.demo.competitions import LAST_MONTH_ID, demo_competitions, last_month
from services.demo.feed import Feed
from services.demo.roster import SUB_BRANCHES, managers, org_events
from services.publisher import Publisher, PublishError
from services.settings import ServiceSettings
from services.store import Store, StoreError
from services.store.competition_records import CompetitionRecords
from streams.admin import BrokerUnavailable, ensure_topics
from streams.core.rules import Competition

log = logging.getLogger("services.demo")


async def run(settings: ServiceSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.partitions, settings.replication)
    publisher = Publisher(settings.kafka_bootstrap, settings.topics)
    await publisher.start()
    try:
        run_id = uuid.uuid4().hex[:8]
        now = datetime.now(SHANGHAI)
        records = CompetitionRecords(_store(settings))
        for comp in demo_competitions(now.date()):
            await publisher.competition(comp)
            _record(records, comp)
            log.info("demo: published %s v%d %s (%s..%s)", comp.id, comp.version, comp.name,
                     comp.window.start, comp.window.end)  # fmt: skip
        staff = managers()
        start, end = last_month(now.date())
        # In post since January of last month's year: in post all last month, eligible for its awards.
        joins = org_events(staff, date(start.year, 1, 1), now, run_id)
        await publisher.raw([(e["data"]["cm_id"], _json(e)) for e in joins])
        log.info("demo: %d managers in %s", len(staff), "、".join(SUB_BRANCHES.values()))
        past = backfill(staff, start, end)
        await publisher.raw(past)
        log.info("demo: backfilled %d events of %s..%s for %s", len(past), start, end, LAST_MONTH_ID)

        rng = random.Random(settings.demo_seed)
        feed = Feed(rng, staff, run_id, settings.demo_bad_every)
        print("demo: feeding", flush=True)
        sent = 0
        while not stop.is_set():
            await publisher.raw([feed.next(datetime.now(SHANGHAI))])
            sent += 1
            if sent % 100 == 0:
                log.info("demo: %d records sent (run %s)", sent, run_id)
            pause = rng.expovariate(settings.demo_rate)  # Poisson arrivals, `demo_rate` per second
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
        log.info("demo: stopping after %d records", sent)
    finally:
        await publisher.stop()


def _store(settings: ServiceSettings) -> Store:
    store = Store.from_url(settings.database_url)
    try:
        store.create_schema()
    except StoreError as exc:
        log.warning("demo: the database is not usable, competitions are not recorded in SQL: %s", exc)
    return store


def _record(records: CompetitionRecords, comp: Competition) -> None:
    """The console reads competitions from SQL: the demo's go there too (a repeat is a no-op;
    a demo restarted on another day publishes re-dated rules, which the record refuses: logged)."""
    try:
        records.publish(comp.model_dump(mode="json"), actor="demo")
    except StoreError as exc:
        log.warning("demo: %s v%d not recorded in SQL: %s", comp.id, comp.version, exc)


def _json(event: dict[str, object]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        asyncio.run(run(ServiceSettings()))
    except (BrokerUnavailable, PublishError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
