"""The publish relay without a broker or a database: pending fan-outs are sent oldest first, the
version record before the control records, a row that does not get through is retried before any
later one (never skipped), and a relay without the turn sends nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.control import Rescore
from services.api.readiness import _fanout
from services.api.relay import Relay
from services.publisher import PublishError
from services.settings import ServiceSettings
from services.store import StoreUnavailable


class FakeTurn:
    def __init__(self, box: FakeOutbox) -> None:
        self.box = box

    def release(self) -> None:
        self.box.turns_released += 1


class FakeOutbox:
    def __init__(self, rows: list[dict[str, Any]], turn: bool = True) -> None:
        self.rows = rows
        self.turn = turn
        self.turns_released = 0
        self.failures: list[tuple[int, str]] = []

    def take_turn(self) -> FakeTurn | None:
        return FakeTurn(self) if self.turn else None

    def pending(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("done_at") is None]

    def done(self, ids: list[int], *, at: datetime) -> None:
        for r in self.rows:
            if r["id"] in ids:
                r["done_at"] = at

    def failed(self, fanout_id: int, error: str) -> None:
        self.failures.append((fanout_id, error))


class FakePublisher:
    def __init__(self, refuse: int = 0) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.refuse = refuse  # refuse this many control-record sends first

    async def version_record(self, cid: str, version: int, status: str, value: bytes) -> None:
        self.sent.append(("version", (cid, version, status)))

    async def control_records(self, order: Rescore) -> None:
        if self.refuse:
            self.refuse -= 1
            raise PublishError("Kafka refused the re-score request: timed out")
        self.sent.append(("control", (order.competition_id, order.version, order.status)))


def row(fanout_id: int, version: int, status: str) -> dict[str, Any]:
    return {"id": fanout_id, "competition_id": "c1", "version": version, "status": status, "record": "{}"}


async def test_pending_fan_outs_go_out_oldest_first_and_are_marked_done() -> None:
    box = FakeOutbox([row(1, 1, "published"), row(2, 1, "closed"), row(3, 2, "published")])
    publisher = FakePublisher()
    relay = Relay(box, publisher, poll_seconds=30)  # type: ignore[arg-type]
    relay.start()
    try:
        assert await relay.wait(3, timeout=5)
    finally:
        await relay.stop()
    assert publisher.sent == [
        ("version", ("c1", 1, "published")),
        ("control", ("c1", 1, "published")),
        ("version", ("c1", 1, "closed")),
        ("control", ("c1", 1, "closed")),
        ("version", ("c1", 2, "published")),
        ("control", ("c1", 2, "published")),
    ]
    assert box.pending() == []
    # The turn is given back in the pass's `finally`, in a thread that runs even when the stop
    # cancelled the pass there.
    for _ in range(100):
        if box.turns_released:
            break
        await asyncio.sleep(0.01)
    assert box.turns_released >= 1


async def test_a_row_that_does_not_get_through_is_retried_before_any_later_one() -> None:
    box = FakeOutbox([row(1, 1, "published"), row(2, 1, "closed")])
    publisher = FakePublisher(refuse=2)
    relay = Relay(box, publisher, poll_seconds=30)  # type: ignore[arg-type]
    relay.start()
    try:
        assert await relay.wait(2, timeout=10)
    finally:
        await relay.stop()
    controls = [what for kind, what in publisher.sent if kind == "control"]
    assert controls == [("c1", 1, "published"), ("c1", 1, "closed")]
    # The version record went out on every attempt: sending it again is harmless.
    assert [what for kind, what in publisher.sent if kind == "version"][:3] == [("c1", 1, "published")] * 3
    assert [fid for fid, _ in box.failures] == [1, 1]


async def test_without_the_turn_nothing_is_sent_and_a_waiter_is_told_so() -> None:
    box = FakeOutbox([row(1, 1, "published")], turn=False)
    publisher = FakePublisher()
    relay = Relay(box, publisher, poll_seconds=30)  # type: ignore[arg-type]
    relay.start()
    try:
        assert not await relay.wait(1, timeout=0.3)
    finally:
        await relay.stop()
    assert publisher.sent == [] and box.pending() != []


class Backlog:
    def __init__(self, result: Any) -> None:
        self.result = result

    def backlog(self) -> Any:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_readiness_names_a_fan_out_pending_too_long() -> None:
    settings = ServiceSettings(fanout_stale_seconds=60, ready_check_seconds=0.5)
    now = datetime.now(UTC)
    fine = await _fanout(Backlog((0, None, None)), settings)  # type: ignore[arg-type]
    assert fine == {"ok": True, "pending": 0}
    young = await _fanout(Backlog((1, now - timedelta(seconds=5), None)), settings)  # type: ignore[arg-type]
    assert young["ok"] and young["pending"] == 1
    stuck = await _fanout(
        Backlog((2, now - timedelta(seconds=90), "Kafka refused the message: timed out")),  # type: ignore[arg-type]
        settings,
    )
    assert not stuck["ok"]
    assert "2 published or closed version(s)" in stuck["error"] and "timed out" in stuck["error"]
    down = await _fanout(Backlog(StoreUnavailable("connection refused")), settings)  # type: ignore[arg-type]
    assert not down["ok"] and "connection refused" in down["error"]


def test_a_relay_built_outside_a_loop_answers_inside_one() -> None:
    # The relay's waiters are asyncio primitives made in __init__: building one outside a running
    # loop must not bind them to another loop.
    relay = Relay(FakeOutbox([]), FakePublisher(), poll_seconds=1)  # type: ignore[arg-type]
    assert asyncio.run(relay.wait(1, timeout=0.01)) is False
