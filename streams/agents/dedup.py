"""Drops an event id seen before, and records each drop; the first copy goes on, keyed by manager.

An org.changed event also goes to the compacted org topic, which the services read as data.

The table remembers *where* the first copy sits (its offset in the accepted topic), not just
that it was seen. Killed after that write but before the send left the process, the worker reads
the same message again on restart: same offset, so it is sent again rather than taken for a
duplicate. Scoring drops the rare double by event id.
"""

from __future__ import annotations

import json

from schemas.routing import org_key
from streams.app import accepted_topic, app, duplicates_topic, org_topic, validated_topic

# Keyed by event id like its source topic, so one partition owns each id. Restored from its
# changelog after a restart, so a duplicate that arrives across a restart is still caught.
# Value: offset of the first copy + 1 (0 = never seen).
first_copy = app.Table("first-copy-offset", key_type=str, value_type=int, default=int)
copies = app.Table("duplicate-copies", key_type=str, value_type=int, default=int)


@app.agent(accepted_topic)
async def dedup(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        message = event.message
        event_id = (message.key or b"").decode()
        value: bytes = message.value or b""
        first = first_copy[event_id]
        if first and first != message.offset + 1:
            copies[event_id] += 1
            record = {"event_id": event_id, "copies": copies[event_id] + 1, "offset": message.offset}
            await duplicates_topic.send(key=message.key, value=json.dumps(record).encode())
            continue
        first_copy[event_id] = message.offset + 1
        canonical = json.loads(value)
        # Scoring still gets org events on the manager's own partition, in order with their events.
        await validated_topic.send(key=canonical["data"]["cm_id"].encode(), value=value)
        if (key := org_key(canonical)) is not None:
            await org_topic.send(key=key.encode(), value=value)
