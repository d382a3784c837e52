"""The SSE stream's order of messages, without Kafka or HTTP: a snapshot first, then each
`scored` message, a snapshot after a board change, pings when idle; resume after an id; a full
queue replaced by one fresh snapshot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

from schemas.topics import Topics
from services.api.sse import Scope, Snapshots, events
from services.readmodel import ReadModel
from streams.core.ledger import make_entry
from streams.core.templates import load_template

CID = "feb-account-opening"
SCOPE = Scope(CID, "customer_manager", None, 20, False)


def model() -> ReadModel:
    m = ReadModel("127.0.0.1:1", Topics("unit."), push_queue=3)
    m.board.set_competitions(
        [load_template("feb_account_opening").model_copy(update={"status": "published"})]
    )
    put(m, "cm-a", "10.00")
    return m


def put(m: ReadModel, cm: str, points: str) -> None:
    body = {"competition_id": CID, "cm_id": cm, "rule_version": 1, "points": points}
    body |= {"components": {"opening": points}, "units": [], "metrics": {}}
    m.board.put(f"{CID}|{cm}", json.dumps(body).encode())
    m._notify()


def score(m: ReadModel, event_id: str, cm: str = "cm-a") -> None:
    entry = make_entry(
        competition_id=CID,
        rule_version=1,
        event_id=event_id,
        cm_id=cm,
        sub_branch_id="sb-1",
        team_id=None,
        occurred_at=datetime(2026, 2, 3, 2, 0, tzinfo=UTC),
        points=Decimal("20.00"),
        component="opening",
        reason="开立基本户 20",
    )
    m.recent.take(json.dumps(entry.to_dict()).encode(), m.board, m.hub)


def parsed(chunk: bytes) -> list[tuple[str, str, dict[str, object] | None]]:
    """(id, event, data) per message in a chunk; ("", "ping", None) for a ping."""
    out: list[tuple[str, str, dict[str, object] | None]] = []
    for block in chunk.decode().split("\n\n"):
        if not block:
            continue
        if block.startswith(":"):
            out.append(("", "ping", None))
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        if "event" in fields:
            out.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
    return out


async def take(
    stream: AsyncIterator[bytes], timeout: float = 2.0
) -> list[tuple[str, str, dict[str, object] | None]]:
    return parsed(await asyncio.wait_for(anext(stream), timeout))


def stream(m: ReadModel, last_event_id: int | None = None, ping: float = 30.0) -> AsyncIterator[bytes]:
    return events(m, Snapshots(), SCOPE, last_event_id, ping_seconds=ping, snapshot_seconds=0)


async def test_snapshot_first_then_scored_then_a_snapshot_when_the_board_moves() -> None:
    m = model()
    s = stream(m)
    assert (await anext(s)).startswith(b"retry: ")
    ((_, event, data),) = await take(s)
    assert event == "snapshot" and data is not None and [r["id"] for r in data["rows"]] == ["cm-a"]  # type: ignore[union-attr, index]

    score(m, "e1")
    ((first_id, event, data),) = await take(s)
    assert (event, data and data["event_id"], data and data["label"]) == ("scored", "e1", "新开基本户")

    put(m, "cm-b", "30.00")
    ((snap_id, event, data),) = await take(s)
    assert event == "snapshot" and [r["id"] for r in data["rows"]] == ["cm-b", "cm-a"]  # type: ignore[index, union-attr]
    assert int(snap_id) == int(first_id)  # the last message sent before it
    await s.aclose()
    assert len(m.hub) == 0  # the client's subscription ends with its stream


async def test_an_idle_stream_pings() -> None:
    m = model()
    s = stream(m, ping=0.2)
    await anext(s), await take(s)
    assert await take(s) == [("", "ping", None)]
    await s.aclose()


async def test_resume_replays_the_missed_messages_then_a_snapshot() -> None:
    m = model()
    score(m, "e1")
    score(m, "e2")
    score(m, "e3")
    s = stream(m, last_event_id=m.hub.last_id - 2)
    await anext(s)
    missed = await take(s)
    assert [(e, d and d["event_id"]) for _, e, d in missed] == [("scored", "e2"), ("scored", "e3")]
    ((_, event, _),) = await take(s)
    assert event == "snapshot"
    await s.aclose()


async def test_a_full_queue_is_replaced_by_one_fresh_snapshot() -> None:
    m = model()
    s = stream(m)
    await anext(s), await take(s)
    for i in range(5):  # the queue holds 3: the 4th empties it, the 5th is queued again
        score(m, f"e{i}")
    frames = await take(s)
    assert [(e, d and d.get("event_id")) for _, e, d in frames] == [("scored", "e4")]
    ((_, event, _),) = await take(s)
    assert event == "snapshot" and m.hub.overflows == 1
    await s.aclose()
