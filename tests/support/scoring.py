"""Publishing rules and reading standings back, for tests that drive the real scoring stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from schemas.records import RULES_KEY, unpack
from schemas.topics import Topics
from schemas.validate import read_canonical
from services.publisher import Publisher
from streams.core.engine import score_batch
from streams.core.engine import standings as standings_of
from streams.core.rules import Competition
from streams.core.state import ParticipantState
from streams.core.templates import load_template
from tests.support.kafka import BOOTSTRAP, Record, produce, read_all

TEMPLATES = [
    "feb_account_opening",
    "deposit_peak_season",
    "payroll_drive",
    "little_banker",
    "badges_and_sprints",
]


def published_templates() -> list[Competition]:
    return [load_template(name).model_copy(update={"status": "published"}) for name in TEMPLATES]


async def publish(topics: Topics, competitions: list[Competition]) -> None:
    publisher = Publisher(BOOTSTRAP, topics)
    await publisher.start()
    try:
        for comp in competitions:
            await publisher.competition(comp)
    finally:
        await publisher.stop()


async def send_events(topics: Topics, events: list[dict[str, Any]]) -> None:
    await produce(
        topics.raw,
        [(e["data"]["cm_id"].encode(), json.dumps(e, ensure_ascii=False).encode()) for e in events],
    )


def expected_standings(events: list[dict[str, Any]], competitions: list[Competition]) -> dict[str, Any]:
    """The core run in batch over the same events: what the stream must converge to."""
    parsed = [read_canonical(json.dumps(e).encode()) for e in events]
    return {f"{cid}|{cm}": s.to_dict() for (cid, cm), s in score_batch(parsed, competitions).items()}


def latest(records: list[Record]) -> dict[str, Any]:
    """The compacted view of the standings topic: newest value per key (order within a key)."""
    out: dict[str, Any] = {}
    for r in records:
        if r.key is not None and r.value is not None:
            out[r.key.decode()] = json.loads(r.value)
    return out


def held_badges(entries: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Per "competition|cm": the badge instances the ledger holds (awards minus revokes, each entry
    once by id, as the idempotent sink stores them)."""
    net: dict[tuple[str, str], int] = {}
    for e in {e["entry_id"]: e for e in entries}.values():
        if e["component"] in ("badge", "challenge"):
            kind, instance, _ = e["event_id"].split(":")
            prefix = "challenge:" if e["component"] == "challenge" else ""
            key = (f"{e['competition_id']}|{e['cm_id']}", prefix + instance)
            net[key] = net.get(key, 0) + (-1 if kind.endswith("-revoke") else 1)
    assert all(n in (0, 1) for n in net.values()), net
    out: dict[str, set[str]] = {}
    for (who, instance), n in net.items():
        if n:
            out.setdefault(who, set()).add(instance)
    return out


def shown_badges(standings: dict[str, Any]) -> dict[str, set[str]]:
    return {k: {b["id"] for b in s["badges"]} for k, s in standings.items() if s.get("badges")}


async def stream_standings(topics: Topics) -> dict[str, Any]:
    return latest(await read_all(topics.standings))


async def stored_standings(topics: Topics) -> dict[str, Any]:
    """The standings the stored states (score.state) hold."""
    return state_standings(await read_all(topics.scoring_state))


async def converge(
    topics: Topics,
    expected: dict[str, Any],
    timeout: float = 60.0,
    read: Callable[[Topics], Awaitable[dict[str, Any]]] = stream_standings,
) -> dict[str, Any]:
    """Wait until the stream's standings for these keys (or what `read` gives, e.g. the stored
    states' `stored_standings`) equal the batch result; return them."""
    deadline = time.monotonic() + timeout
    got: dict[str, Any] = {}
    while time.monotonic() < deadline:
        everything = await read(topics)
        got = {k: everything.get(k) for k in expected}
        if got == expected:
            return got
        await asyncio.sleep(1.0)
    differing = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    raise AssertionError(
        f"stream never matched batch for {len(differing)} keys, e.g. {next(iter(differing.items()))}"
    )


def state_standings(records: list[Record]) -> dict[str, Any]:
    """competition|cm -> standing, as the newest stored state of each manager holds it."""
    newest: dict[bytes, bytes] = {}
    for r in records:
        if r.key is not None and r.key != RULES_KEY:
            if r.value is None:
                newest.pop(r.key, None)
            else:
                newest[r.key] = r.value
    out: dict[str, Any] = {}
    for blob in newest.values():
        state = ParticipantState.from_dict(unpack(blob))
        for standing in standings_of(state):
            out[f"{standing.competition_id}|{state.cm_id}"] = standing.to_dict()
    return out
