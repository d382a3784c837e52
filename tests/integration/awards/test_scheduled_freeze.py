"""The scheduled freeze (services/awards/closing.py freeze_due) on the real broker and database,
with an injected clock: each awards period is frozen once its cutoff has passed, in order, through
the same gate as a freeze by hand (here: a parked record of March holds March), and every
scoring partition is told (freeze control records on the validated topic)."""

from __future__ import annotations

from pathlib import Path

from schemas.control import FREEZE, HEADER, FreezeNotice
from schemas.topics import Topics
from services.awards import closing, runs
from services.publisher import Publisher
from services.settings import ServiceSettings
from services.sink.records import parked_row
from services.store import Store
from streams.admin import ensure_topics
from tests.integration.awards.builders import add, at, competition, entry
from tests.support.kafka import BOOTSTRAP, read_all

CONTEST = competition()  # February and March 2025, monthly, grace 3 days


async def test_due_periods_are_frozen_in_order_through_the_gate(
    topics: Topics, prefix: str, pg_url: str, tmp_path: Path
) -> None:
    # No stream runs here: the positions are not checked, parked records are.
    settings = ServiceSettings(kafka_bootstrap=BOOTSTRAP, topic_prefix=prefix, freeze_gate=False)
    await ensure_topics(BOOTSTRAP, topics, 2)
    store = Store.from_url(pg_url)
    store.create_schema()
    runs.ensure_schema(store)
    add(
        store,
        entry("a1", "cm-1", "2025-02-10 09:00", "20.00", recorded="2025-02-10 09:01"),
        entry("b1", "cm-2", "2025-03-12 09:00", "14.00", recorded="2025-03-12 09:01"),
    )
    lost = b'{"competition_id": "open-2025", "occurred_at": "2025-03-20T09:00:00+08:00"}'
    store.park_record(**parked_row(topics.ledger, 0, 3, b"cm-2", lost, "StoreDataError: refused", 4096))
    publisher = Publisher(BOOTSTRAP, topics)
    await publisher.start()
    competitions = [(CONTEST, [CONTEST])]
    try:
        early = await closing.freeze_due(settings, store, publisher, competitions, at("2025-03-03 23:00"))
        assert early == []  # February's cutoff is the end of 03-03

        april = await closing.freeze_due(settings, store, publisher, competitions, at("2025-04-05 09:00"))
        assert [(a.period, a.frozen) for a in april] == [("2025-02", True), ("2025-03", False)]
        assert "1 parked records may belong to this period" in (april[1].reason or "")
        assert runs.is_frozen(store, CONTEST.id, "2025-02") and not runs.is_frozen(
            store, CONTEST.id, "2025-03"
        )

        again = await closing.freeze_due(settings, store, publisher, competitions, at("2025-04-05 10:00"))
        assert [(a.period, a.frozen) for a in again] == [("2025-03", False)]  # tried again, still held
    finally:
        await publisher.stop()
        store.close()

    notices = [r for r in await read_all(topics.validated) if r.headers.get(HEADER) == FREEZE]
    assert sorted({r.partition for r in notices}) == [0, 1]  # every partition is told
    assert {FreezeNotice.decode(r.value or b"").period for r in notices} == {"2025-02"}
