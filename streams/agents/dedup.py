"""Drops an event id seen before, and records each drop; the first copy goes on, keyed by manager."""

from __future__ import annotations

import json

from streams.app import accepted_topic, app, duplicates_topic, validated_topic

# Keyed by event id like its source topic, so one partition owns each id. Restored from its
# changelog after a restart, so a duplicate that arrives across a restart is still caught.
seen = app.Table("seen-event-ids", key_type=str, value_type=int, default=int)


@app.agent(accepted_topic)
async def dedup(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        event_id = (message.key or b"").decode()
        value: bytes = message.value or b""
        if seen[event_id]:
            seen[event_id] += 1
            record = {"event_id": event_id, "copies": seen[event_id], "offset": message.offset}
            await duplicates_topic.send(key=message.key, value=json.dumps(record).encode())
            continue
        seen[event_id] = 1
        cm_id = json.loads(value)["data"]["cm_id"]
        await validated_topic.send(key=cm_id.encode(), value=value)
