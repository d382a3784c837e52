"""What /readyz checks, each check on its own and bounded in time (docs/operations.md):

- broker: Kafka answers a metadata request now;
- read_model: caught up with the competitions, standings and org topics as they were at start-up,
  and every follower still running; records it had to skip are counted (`poisoned`);
- sink: the ledger sink's heartbeat row in the SQL database is fresh. The sink writes it from its
  loop, so a sink that is down, stuck or cut off from the database stops beating. Records it
  parked are counted (`parked_total`). With CAMPAIGNS_EXPECT_SINK=false the check only reports;
- fanout: no version change has waited longer than `fanout_stale_seconds` for the relay to tell
  every scoring partition (services/api/relay.py); the body gives how many wait, since when, and
  the last reason the oldest did not get through.

Poison counts never make the API unready on their own: a parked record has been dealt with, and
the consumers go on. They are there for an operator to look at.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from services.publisher import Publisher, PublishError
from services.readmodel import ReadModel
from services.settings import ServiceSettings
from services.store import Store, StoreError
from services.store.outbox import Outbox


async def readiness(
    settings: ServiceSettings,
    publisher: Publisher,
    read_model: ReadModel,
    store: Store,
    outbox: Outbox | None = None,
) -> tuple[bool, dict[str, Any]]:
    broker, sink = await asyncio.gather(_broker(publisher, settings), _sink(store, settings))
    checks = {"broker": broker, "read_model": read_model.health(), "sink": sink}
    if outbox is not None:
        checks["fanout"] = await _fanout(outbox, settings)
    ready = all(check["ok"] for check in checks.values())
    return ready, {"status": "ready" if ready else "not ready", "checks": checks}


async def _broker(publisher: Publisher, settings: ServiceSettings) -> dict[str, Any]:
    try:
        brokers = await publisher.ping(settings.ready_check_seconds)
    except PublishError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "brokers": brokers}


def _sink_rows(store: Store, name: str) -> tuple[dict[str, Any] | None, int]:
    return store.heartbeat(name), store.parked_count()


async def _sink(store: Store, settings: ServiceSettings) -> dict[str, Any]:
    expected = settings.expect_sink
    try:
        beat, parked = await asyncio.wait_for(
            asyncio.to_thread(_sink_rows, store, settings.sink_name), settings.ready_check_seconds
        )
    except TimeoutError:
        return {"ok": not expected, "expected": expected, "error": "the database did not answer in time"}
    except StoreError as exc:
        # Also what a database the sink never ran against says: its tables do not exist yet.
        return {"ok": not expected, "expected": expected, "error": f"no sink heartbeat readable: {exc}"}
    if beat is None:
        return {"ok": not expected, "expected": expected, "error": "the sink has never written a heartbeat"}
    age = (datetime.now(UTC) - beat["beat_at"]).total_seconds()
    fresh = age <= settings.sink_stale_seconds
    body: dict[str, Any] = {
        "ok": fresh or not expected,
        "expected": expected,
        "last_beat": beat["beat_at"].isoformat(),
        "age_seconds": round(age, 1),
        "positions": beat["positions"],
        "written_since_start": beat["written"],
        "parked_since_start": beat["parked"],
        "parked_total": parked,
    }
    if not fresh:
        body["error"] = f"no heartbeat for {age:.0f} s (stale after {settings.sink_stale_seconds:g} s)"
    return body


async def _fanout(outbox: Outbox, settings: ServiceSettings) -> dict[str, Any]:
    try:
        count, oldest, last_error = await asyncio.wait_for(
            asyncio.to_thread(outbox.backlog), settings.ready_check_seconds
        )
    except TimeoutError:
        return {"ok": False, "error": "the database did not answer in time"}
    except StoreError as exc:
        return {"ok": False, "error": f"the outbox is not readable: {exc}"}
    if oldest is None:
        return {"ok": True, "pending": 0}
    age = (datetime.now(UTC) - oldest).total_seconds()
    body: dict[str, Any] = {
        "ok": age <= settings.fanout_stale_seconds,
        "pending": count,
        "oldest_age_seconds": round(age, 1),
        "last_error": last_error,
    }
    if not body["ok"]:
        body["error"] = (
            f"{count} published or closed version(s) not yet announced to every scoring partition, "
            f"the oldest for {age:.0f} s" + (f" (last attempt: {last_error})" if last_error else "")
        )
    return body
