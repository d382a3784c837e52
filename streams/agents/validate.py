"""Raw messages in; canonical events (keyed by event id) or dead letters with their reason out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from schemas import Rejection, parse_event
from schemas.dead_letters import DeadLetter
from streams.app import accepted_topic, app, dead_letter_topic, raw_topic, settings

log = logging.getLogger(__name__)
limits = settings.limits


@app.agent(raw_topic)
async def validate(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        raw: bytes = message.value or b""
        try:
            parsed = parse_event(raw, now=datetime.now(UTC), limits=limits)
        except Rejection as rejection:
            letter = DeadLetter(
                reason=str(rejection.reason),
                detail=rejection.detail,
                raw=raw,
                source_topic=message.topic,
                source_partition=message.partition,
                source_offset=message.offset,
            )
            log.warning(
                "dead letter %s@%s/%s: %s", message.topic, message.partition, message.offset, rejection
            )
            await dead_letter_topic.send(key=message.key, value=raw, headers=letter.headers())
            continue
        await accepted_topic.send(key=parsed.event_id.encode(), value=parsed.model_dump_json().encode())
