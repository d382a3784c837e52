"""Validated events in; ledger entries and standings out, per customer manager.

Crash safety without transactions: the ledger entries an event causes are acknowledged by the
broker *before* the manager's state is written, and the state write is acknowledged too
(streams/state_store.py). Killed in between, the event is read again, the state without it yields
the same entries with the same ids, and the sink keeps one copy. Killed after the state write, the
state remembers the event id and the repeat yields nothing new. Standings are whole snapshots,
re-sent when they change (all of them on a repeat), so the newest always wins.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

from schemas.control import HEADER, Rescore
from schemas.dead_letters import DeadLetter
from schemas.errors import Rejection
from schemas.validate import read_canonical
from streams.app import (
    app,
    competitions_topic,
    dead_letter_topic,
    ledger_topic,
    settings,
    standings_topic,
    state_topic,
    validated_topic,
)
from streams.core.engine import apply, rescore, standings
from streams.core.errors import CoreError
from streams.core.ledger import LedgerEntry
from streams.core.state import ParticipantState
from streams.rules_feed import RulesFeed
from streams.state_store import StateStore

log = logging.getLogger(__name__)

rules = RulesFeed(settings.kafka_bootstrap, competitions_topic.get_topic_name())
store = StateStore(settings.kafka_bootstrap, state_topic)


@app.on_partitions_revoked.connect
async def _forget_states(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
    store.forget()


@app.task  # type: ignore[untyped-decorator]
async def follow_rules() -> None:
    await rules.run()


# What this process last published per manager and competition. Snapshots that did not change
# are not re-sent; after a restart the map is empty, so everything is re-sent once.
_published: dict[str, dict[str, dict[str, Any]]] = {}


async def _publish(cm_id: str, entries: list[LedgerEntry], state: ParticipantState, everything: bool) -> None:
    """Ledger entries first, acknowledged; then each standing that changed (all if `everything`)."""
    key = cm_id.encode()
    acks = [
        await ledger_topic.send(key=key, value=json.dumps(e.to_dict(), ensure_ascii=False).encode())
        for e in entries
    ]
    for ack in acks:
        await ack  # durable before the state that remembers them is written
    sent = _published.setdefault(cm_id, {})
    for standing in standings(state):
        body = standing.to_dict()
        if not everything and sent.get(standing.competition_id) == body:
            continue
        sent[standing.competition_id] = body
        await standings_topic.send(
            key=f"{standing.competition_id}|{cm_id}".encode(),
            value=json.dumps(body, ensure_ascii=False).encode(),
        )


async def _dead_letter(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes, reason: str, detail: str
) -> None:
    log.error("score: dead letter %s@%s/%s: %s", topic, partition, offset, detail)
    letter = DeadLetter(reason, detail, value, topic, partition, offset)
    await dead_letter_topic.send(key=key, value=letter.raw, headers=letter.headers())


async def _rescore_partition(partition: int, offset: int, order: Rescore) -> None:
    if not await rules.wait_for(order.competition_id, order.version, order.status):
        log.error(
            "score: version %s v%s never arrived; re-scoring with what is known",
            order.competition_id,
            order.version,
        )
    now = datetime.now(UTC)
    for cm_id in sorted(await store.partition(partition)):
        state = await store.load(cm_id, partition)
        entries = rescore(state, rules.catalog, now=now)
        await _publish(cm_id, entries, state, everything=True)
        await store.save(cm_id, partition, state, offset)


async def _handle(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes, headers: dict[str, bytes]
) -> None:
    """One validated record: a re-score order, or an event to score."""
    if HEADER in headers:
        await _rescore_partition(partition, offset, Rescore.decode(value))
        return
    cm_id = (key or b"").decode()
    state = await store.load(cm_id, partition)
    try:
        parsed = read_canonical(value)
        # A repeat (a redelivery after a crash) re-sends every standing: the crash may have
        # eaten them.
        repeat = state.seen(parsed.event_id)
        entries = apply(state, parsed, rules.catalog, now=datetime.now(UTC))
    except (Rejection, CoreError) as exc:
        # Cannot happen for an event the validator passed; if it does, park it, don't crash-loop.
        store.drop_cached(cm_id)  # the cached state may be half-changed
        await _dead_letter(topic, partition, offset, key, value, "scoring_failed", str(exc))
        return
    await _publish(cm_id, entries, state, everything=repeat)
    if not repeat:
        await store.save(cm_id, partition, state, offset)


@app.agent(validated_topic)
async def score(stream):  # type: ignore[no-untyped-def]
    await rules.ready.wait()
    async for event in stream.events():
        message = event.message
        if message.partition not in store.caught_up:
            # First record of this partition since (re)assignment: apply whatever lies between
            # the stored states and the offset faust resumed at.
            missed = await store.missed(message.topic, message.partition, message.offset)
            if missed:
                log.warning(
                    "score: partition %s resumed at %s; replaying %d earlier records first",
                    message.partition,
                    message.offset,
                    len(missed),
                )
            for offset, key, value, headers in missed:
                await _handle(message.topic, message.partition, offset, key, value, headers)
            store.caught_up.add(message.partition)
        headers = dict(message.headers or ())
        await _handle(message.topic, message.partition, message.offset, message.key, message.value, headers)
        await asyncio.sleep(0)
