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


async def _dead_letter(message: Any, reason: str, detail: str) -> None:
    log.error("score: dead letter %s@%s/%s: %s", message.topic, message.partition, message.offset, detail)
    letter = DeadLetter(
        reason, detail, message.value or b"", message.topic, message.partition, message.offset
    )
    await dead_letter_topic.send(key=message.key, value=letter.raw, headers=letter.headers())


# Decoded states by manager, beside the blob they were decoded from: decoding on every event
# would cost as much as scoring it. The table stays the truth; a blob that differs (another
# worker owned the partition meanwhile, or a restart) is decoded afresh.
_decoded: dict[str, tuple[bytes, ParticipantState]] = {}


def _load(cm_id: str) -> ParticipantState:
    blob = states.get(cm_id)
    if not blob:
        return ParticipantState(cm_id)
    cached = _decoded.get(cm_id)
    if cached is not None and cached[0] == blob:
        return cached[1]
    return decode(blob)[0]


def _store(cm_id: str, state: ParticipantState, partition: int) -> None:
    blob = encode(state, partition)
    states[cm_id] = blob
    _decoded[cm_id] = (blob, state)


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
        await _publish(cm_id, entries, state, everything=True)
        _store(cm_id, state, partition)


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
            parsed = read_canonical(message.value)
            # A repeat (a redelivery after a crash) re-sends every standing: the crash may have
            # eaten them.
            repeat = state.seen(parsed.event_id)
            entries = apply(state, parsed, rules.catalog, now=datetime.now(UTC))
        except (Rejection, CoreError) as exc:
            # Cannot happen for an event the validator passed; if it does, park it, don't crash-loop.
            _decoded.pop(cm_id, None)  # the cached state may be half-changed
            await _dead_letter(message, "scoring_failed", str(exc))
            continue
        await _publish(cm_id, entries, state, everything=repeat)
        if not repeat:
            _store(cm_id, state, message.partition)
        await asyncio.sleep(0)
