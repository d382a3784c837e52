"""Validated events in; ledger entries and standings out, per customer manager.

Crash safety without transactions: the ledger entries an event causes are acknowledged by the
broker *before* the manager's state is written. Killed in between, the event is read again, the
state without it yields the same entries with the same ids, and the sink keeps one copy. Killed
after the state write, the state remembers the event id and the repeat yields nothing new.
Standings are whole snapshots, re-sent after every record, so the newest always wins.
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
    validated_topic,
)
from streams.core.engine import apply, rescore, standings
from streams.core.errors import CoreError
from streams.core.ledger import LedgerEntry
from streams.core.state import ParticipantState
from streams.rules_feed import RulesFeed
from streams.state_codec import decode, encode

log = logging.getLogger(__name__)

rules = RulesFeed(settings.kafka_bootstrap, competitions_topic.get_topic_name())
states = app.Table("participant-state", key_type=str, value_type=bytes, default=None)


@app.task  # type: ignore[untyped-decorator]
async def follow_rules() -> None:
    await rules.run()


async def _publish(cm_id: str, entries: list[LedgerEntry], state: ParticipantState) -> None:
    key = cm_id.encode()
    acks = [
        await ledger_topic.send(key=key, value=json.dumps(e.to_dict(), ensure_ascii=False).encode())
        for e in entries
    ]
    for ack in acks:
        await ack  # durable before the state that remembers them is written
    for standing in standings(state):
        await standings_topic.send(
            key=f"{standing.competition_id}|{cm_id}".encode(),
            value=json.dumps(standing.to_dict(), ensure_ascii=False).encode(),
        )


async def _dead_letter(message: Any, reason: str, detail: str) -> None:
    log.error("score: dead letter %s@%s/%s: %s", message.topic, message.partition, message.offset, detail)
    letter = DeadLetter(
        reason, detail, message.value or b"", message.topic, message.partition, message.offset
    )
    await dead_letter_topic.send(key=message.key, value=letter.raw, headers=letter.headers())


def _load(cm_id: str) -> ParticipantState:
    blob = states.get(cm_id)
    return decode(blob)[0] if blob else ParticipantState(cm_id)


async def _rescore_partition(partition: int, order: Rescore) -> None:
    if not await rules.wait_for(order.competition_id, order.version, order.status):
        log.error(
            "score: version %s v%s never arrived; re-scoring with what is known",
            order.competition_id,
            order.version,
        )
    now = datetime.now(UTC)
    for cm_id, blob in list(states.items()):
        if not blob:
            continue
        state, owner = decode(blob)
        if owner != partition:
            continue  # a standby copy, or another partition's manager
        entries = rescore(state, rules.catalog, now=now)
        await _publish(cm_id, entries, state)
        states[cm_id] = encode(state, partition)


@app.agent(validated_topic)
async def score(stream):  # type: ignore[no-untyped-def]
    await rules.ready.wait()
    async for event in stream.events():
        message = event.message
        headers = dict(message.headers or ())
        if HEADER in headers:
            await _rescore_partition(message.partition, Rescore.decode(message.value))
            continue
        cm_id = (message.key or b"").decode()
        state = _load(cm_id)
        try:
            entries = apply(state, read_canonical(message.value), rules.catalog, now=datetime.now(UTC))
        except (Rejection, CoreError) as exc:
            # Cannot happen for an event the validator passed; if it does, park it, don't crash-loop.
            await _dead_letter(message, "scoring_failed", str(exc))
            continue
        await _publish(cm_id, entries, state)
        states[cm_id] = encode(state, message.partition)
        await asyncio.sleep(0)
