"""Verify while the pipeline keeps scoring: a real worker and ledger sink, events sent all along.

Each verification's SQL read is held back until the ledger has grown by entries of events sent
after verify took its cut (and, the first time, until a rule change published after the cut has
re-scored into SQL): without the cut those entries were reported as differences. With it, the
first run finds nothing; the second, after one entry's points were changed, one deleted and one
forged in SQL before the cut, finds exactly those three. Without a pipeline to reach the cut,
verify stops after the wait it is given, saying who is behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import create_engine, func, select

from schemas.topics import Topics
from services.awards.positions import Groups
from services.store import Store
from services.store.tables import LedgerEntry as LedgerTable
from services.verify import verify
from services.verify.cut import PipelineBehind, take_cut
from streams.admin import ensure_topics
from streams.core.rules import Competition
from tests.support.events import joined
from tests.support.kafka import BOOTSTRAP, produce
from tests.support.processes import Process, sink
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events
from tests.support.tampering import tamper

CID = "feb-account-opening"
TAG = "vl"
CMS = 4
GROWTH = 40  # SQL entries written after verify started, before its SQL read may go on


def _second_version(first: Competition) -> Competition:
    """Basic accounts worth 12 from Feb 15: published after the cut, so the worker re-scores."""
    rule = first.rules[0].model_copy(update={"points": {**first.rules[0].points, "basic": Decimal(12)}})
    return first.model_copy(
        update={"version": 2, "effective_from": first.effective_from.replace(day=15), "rules": [rule]}
    )


class HeldStore:
    """The store verify reads, its ledger scan held until the stream has written more: entries
    of records after the cut are in SQL when verify reads it. `before_scan` runs first."""

    def __init__(self, store: Store, count: Any) -> None:
        self._store = store
        self._count = count
        self.before_scan: Any = None
        self.grown_from = 0

    def ledger_scan(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        # a generator, like the store's: verify reads it in a thread of its own
        if self.before_scan is not None:
            self.before_scan()
        deadline = time.monotonic() + 120
        while self._count() < self.grown_from + GROWTH:
            assert time.monotonic() < deadline, "the stream wrote nothing new during verify"
            time.sleep(0.2)
        yield from self._store.ledger_scan(*args, **kwargs)


async def _keep_sending(topics: Topics, events: list[dict[str, Any]], stop: asyncio.Event) -> int:
    """Events a few at a time until told to stop; how many were sent."""
    sent = 0
    while not stop.is_set() and sent < len(events):
        await send_events(topics, events[sent : sent + 5])
        sent += 5
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)
    return sent


async def test_verify_finds_no_difference_while_events_flow_and_still_finds_real_ones(
    running_worker: Process, prefix: str, topics: Topics, pg_url: str, tmp_path: Path
) -> None:
    first = published_templates()
    second = _second_version(next(c for c in first if c.id == CID))
    starts = [joined(f"{TAG}-cm{i}", f"sb-{i % 2}") for i in range(CMS)]
    events = seeded(11, 6000, CMS, TAG)
    warm, flowing = starts + events[:200], events[200:]
    random.Random(3).shuffle(flowing)
    await publish(topics, first)
    await send_events(topics, warm)
    await converge(topics, expected_standings(warm, first), timeout=120)

    store = Store.from_url(pg_url)
    store.create_schema()
    engine = create_engine(pg_url)
    table = LedgerTable.__table__

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    def rescored_v2() -> int:
        with engine.connect() as conn:
            query = select(func.count()).where(table.c.correction.is_not(None), table.c.rule_version == 2)
            return int(conn.execute(query.select_from(table)).scalar_one())

    held = HeldStore(store, count)
    groups = Groups.of(f"{prefix}app", f"{prefix}app-sink")
    writer = sink(prefix, tmp_path, pg_url).start()
    stop = asyncio.Event()
    sender = asyncio.create_task(_keep_sending(topics, flowing, stop))
    try:
        # -- while events flow and a rule change lands after the cut: no difference ---------------
        def publish_after_cut() -> None:
            asyncio.run(publish(topics, [second]))
            deadline = time.monotonic() + 120
            while not rescored_v2():
                assert time.monotonic() < deadline, "the rule change re-scored nothing into SQL"
                time.sleep(0.2)

        held.before_scan = publish_after_cut
        held.grown_from = count()
        clean = await verify(BOOTSTRAP, topics, cast(Store, held), [CID], groups=groups, wait=60)
        assert clean.ok, clean.to_dict()
        assert clean.after_cut > 0, clean.to_dict()  # entries after the cut were in SQL
        assert clean.expected_entries == clean.sql_entries > 0
        assert sum(clean.cut.values()) > 0 and clean.events > len(starts)
        # the re-score's entries were in SQL but are after the cut: none of them was expected
        assert rescored_v2() > 0

        # -- entries tampered with before the cut: exactly those ------------------------------------
        spoilt = tamper(engine, CID, (r for r in store.ledger_scan([CID]) if r["correction"] is None))
        held.before_scan = None
        held.grown_from = count()
        report = await verify(BOOTSTRAP, topics, cast(Store, held), [CID], groups=groups, wait=60)
        assert {(d.kind, d.entry_id) for d in report.entries} == spoilt.differences(), report.to_dict()
        assert report.after_cut > 0, report.to_dict()
        assert not sender.done(), "the events must still have been flowing"
    finally:
        stop.set()
        sent = await sender
        writer.stop()
        engine.dispose()
        store.close()
    assert sent < len(flowing), "the sender ran out of events before verify ended"


async def test_verify_stops_with_who_is_behind_when_the_pipeline_does_not_reach_the_cut(
    prefix: str, topics: Topics, pg_url: str
) -> None:
    """No worker, no sink: events in the validated topic that no score stage has read. Verify
    waits the time it is given, then says who is how far behind instead of comparing."""
    await ensure_topics(BOOTSTRAP, topics, partitions=2)
    await publish(topics, published_templates())
    events = [joined(f"{TAG}-cm{i}", f"sb-{i % 2}") for i in range(CMS)]
    await produce(topics.validated, [(e["data"]["cm_id"].encode(), json.dumps(e).encode()) for e in events])
    store = Store.from_url(pg_url)
    store.create_schema()
    began = time.monotonic()
    try:
        with pytest.raises(PipelineBehind) as caught:
            await verify(
                BOOTSTRAP, topics, store, [CID], groups=Groups.of(f"{prefix}app", f"{prefix}app-sink"), wait=2
            )
    finally:
        store.close()
    assert 2 <= time.monotonic() - began < 60
    message = str(caught.value)
    # the events and the publish's control records (and their transaction markers) are waited for
    ends = await take_cut(BOOTSTRAP, topics.validated)
    assert "within 2 s" in message and f"score is {sum(ends.values())} offsets behind" in message, message
    assert f"{topics.validated}[0] at nothing of {ends[0]}" in message, message
