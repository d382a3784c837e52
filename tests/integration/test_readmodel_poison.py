"""The API's read model on the real broker: records it cannot read, on any of the topics it
follows, are counted and skipped, and every follower keeps running."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from schemas.control import competition_key
from schemas.topics import Topics
from services.readmodel import ReadModel
from streams.admin import ensure_topics
from streams.core.templates import load_template
from tests.support.kafka import BOOTSTRAP, produce
from tests.support.records import standing

CID = "feb-account-opening"
DEEP = b"[" * 200_000  # RecursionError in a naive json.loads


async def until(model: ReadModel, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for `condition`; fail at once if a follower of the read model has stopped."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert not model.stopped(), model.stopped()
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_poison_on_every_followed_topic_is_counted_and_skipped(topics: Topics) -> None:
    await ensure_topics(BOOTSTRAP, topics, 4)
    comp = load_template("feb_account_opening").model_copy(update={"status": "published"})
    await produce(topics.competitions, [(b"bad:1:published", DEEP), (b"\xff\xfe", b"{}")])
    await produce(
        topics.competitions,
        [(competition_key(comp.id, comp.version, comp.status), comp.model_dump_json().encode())],
    )
    await produce(
        topics.standings,
        [
            (f"{CID}|cm-bad".encode(), DEEP),
            (b"\xff|\xfe", b"{}"),
            (f"{CID}|cm-1".encode(), standing("cm-1", "3")),
        ],
    )
    await produce(topics.org, [(b"cm-x|sub_branch|2026-01-01|sb-1", DEEP)])

    model = ReadModel(BOOTSTRAP, topics)
    await model.start()
    try:
        await until(model, lambda: model.ready)
        await until(model, lambda: model.standing(CID, "cm-1") is not None)
        assert model.poisoned == 5  # two competitions records, two standings, one org record
        # Following on: more poison, then a good record, which still arrives.
        await produce(
            topics.standings,
            [(f"{CID}|cm-bad".encode(), b"\x00" * 10), (f"{CID}|cm-2".encode(), standing("cm-2", "5"))],
        )
        await until(model, lambda: model.standing(CID, "cm-2") is not None)
        health = model.health()
    finally:
        await model.stop()

    assert health["ok"] is True
    assert health["stopped"] == {}
    assert health["caught_up"] == {"competitions": True, "standings": True, "org": True}
    assert health["poisoned"] == 6
