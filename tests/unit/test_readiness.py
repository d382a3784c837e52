"""/readyz's judgement without a broker or a database: each check fails for its own reason and
names it, and poison counts alone never make the API unready."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import Topics
from services.api.readiness import readiness
from services.publisher import PublishError
from services.readmodel import ReadModel
from services.settings import ServiceSettings
from services.store import StoreUnavailable

SETTINGS = ServiceSettings(app_id="app", sink_stale_seconds=30, ready_check_seconds=0.5)


class FakePublisher:
    def __init__(self, up: bool = True) -> None:
        self.up = up

    async def ping(self, timeout: float) -> int:
        if not self.up:
            raise PublishError("Kafka did not answer: timed out")
        return 1


class FakeReadModel:
    def __init__(self, ok: bool = True, poisoned: int = 0) -> None:
        self.ok = ok
        self.poisoned = poisoned

    def health(self) -> dict[str, Any]:
        stopped = {} if self.ok else {"readmodel-standings": "RecursionError: maximum recursion depth"}
        return {"ok": self.ok, "stopped": stopped, "poisoned": self.poisoned}


class FakeStore:
    def __init__(self, beat_age: float | None = 1.0, parked: int = 0, error: Exception | None = None) -> None:
        self.beat_age = beat_age
        self.parked = parked
        self.error = error
        self.asked: list[str] = []

    def heartbeat(self, name: str) -> dict[str, Any] | None:
        self.asked.append(name)
        if self.error is not None:
            raise self.error
        if self.beat_age is None:
            return None
        at = datetime.now(UTC) - timedelta(seconds=self.beat_age)
        return {"beat_at": at, "positions": {"score.ledger/0": 12}, "written": 12, "parked": self.parked}

    def parked_count(self) -> int:
        return self.parked


async def judge(
    publisher: FakePublisher | None = None,
    read_model: FakeReadModel | None = None,
    store: FakeStore | None = None,
    settings: ServiceSettings = SETTINGS,
) -> tuple[bool, dict[str, Any]]:
    return await readiness(
        settings,
        publisher or FakePublisher(),  # type: ignore[arg-type]
        read_model or FakeReadModel(),  # type: ignore[arg-type]
        store or FakeStore(),  # type: ignore[arg-type]
    )


async def test_all_well_is_ready_and_names_every_check() -> None:
    store = FakeStore(parked=3)
    ready, body = await judge(store=store, read_model=FakeReadModel(poisoned=2))
    assert ready and body["status"] == "ready"
    assert set(body["checks"]) == {"broker", "read_model", "sink"}
    assert body["checks"]["sink"]["parked_total"] == 3  # poison is reported, not fatal
    assert body["checks"]["read_model"]["poisoned"] == 2
    assert store.asked == ["app-sink"]


@pytest.mark.parametrize(
    ("case", "failing", "says"),
    [
        ({"publisher": FakePublisher(up=False)}, "broker", "Kafka did not answer"),
        ({"read_model": FakeReadModel(ok=False)}, "read_model", "RecursionError"),
        ({"store": FakeStore(beat_age=None)}, "sink", "never written a heartbeat"),
        ({"store": FakeStore(beat_age=45.0)}, "sink", "no heartbeat for 45 s (stale after 30 s)"),
        ({"store": FakeStore(error=StoreUnavailable("connection refused"))}, "sink", "connection refused"),
    ],
)
async def test_each_failure_makes_it_unready_and_is_named(
    case: dict[str, Any], failing: str, says: str
) -> None:
    ready, body = await judge(**case)
    assert not ready and body["status"] == "not ready"
    assert [name for name, check in body["checks"].items() if not check["ok"]] == [failing]
    assert says in str(body["checks"][failing])


async def test_a_database_that_hangs_is_a_failed_check_not_a_hung_endpoint() -> None:
    class Hanging(FakeStore):
        def heartbeat(self, name: str) -> dict[str, Any] | None:
            import time

            time.sleep(1.2)
            return None

    started = asyncio.get_running_loop().time()
    ready, body = await judge(store=Hanging())
    assert not ready and "did not answer in time" in body["checks"]["sink"]["error"]
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_without_an_expected_sink_its_absence_only_reports() -> None:
    relaxed = SETTINGS.model_copy(update={"expect_sink": False})
    ready, body = await judge(store=FakeStore(beat_age=None), settings=relaxed)
    assert ready
    assert body["checks"]["sink"]["expected"] is False


async def test_a_read_model_that_never_started_or_whose_follower_died_is_not_healthy() -> None:
    model = ReadModel("127.0.0.1:1", Topics("unit."))
    assert model.health()["ok"] is False
    assert model.health()["stopped"] == {"readmodel": "not started"}

    async def dies() -> None:
        raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")

    task = asyncio.create_task(dies(), name="readmodel-standings")
    await asyncio.gather(task, return_exceptions=True)
    model._tasks = [task]
    health = model.health()
    assert health["ok"] is False
    assert health["stopped"] == {
        "readmodel-standings": "RecursionError: maximum recursion depth exceeded while decoding a JSON array"
    }


async def test_the_operations_doc_covers_every_check() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    _, body = await judge()
    assert all(f"| `{name}`" in doc for name in body["checks"])
    assert all(f"`{name}`" in doc for name in ("caught_up", "stopped", "poisoned", "parked_total"))
