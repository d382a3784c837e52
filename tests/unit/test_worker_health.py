"""The worker's readiness: what makes it say "not ready", and why."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from streams.health import readiness


def _loop(
    stage: str, running: bool = True, partitions: list[int] | None = None, error: str | None = None
) -> Any:
    status = {
        "stage": stage,
        "running": running,
        "partitions": [0, 1] if partitions is None else partitions,
        "last_error": error,
    }
    return SimpleNamespace(
        stage=SimpleNamespace(parked=2 if stage == "validate" else 0), status=lambda: dict(status)
    )


def _worker(*loops: Any, rules_ready: bool = True) -> Any:
    ready = asyncio.Event()
    if rules_ready:
        ready.set()
    return SimpleNamespace(rules=SimpleNamespace(ready=ready), loops=list(loops))


def test_ready_when_rules_caught_up_and_every_stage_runs_with_partitions() -> None:
    body = readiness(_worker(_loop("validate"), _loop("dedup"), _loop("score")))
    assert body["ready"] and body["problems"] == []
    assert [s["parked"] for s in body["stages"]] == [2, 0, 0]  # parked records alone never block


def test_a_dead_stage_a_stage_without_partitions_and_unready_rules_are_each_named() -> None:
    body = readiness(
        _worker(
            _loop("validate"),
            _loop("dedup", running=False, error="KafkaConnectionError: refused"),
            _loop("score", partitions=[]),
            rules_ready=False,
        )
    )
    assert not body["ready"]
    assert body["problems"] == [
        "rules feed has not caught up",
        "dedup is not running: KafkaConnectionError: refused",
        "score has no partitions",
    ]


def test_a_partition_held_at_a_control_record_says_what_it_waits_for() -> None:
    held = _loop("score")
    status = held.status()
    status["holds"] = {"3": "waiting for competition feb-opening version 2 (published)"}
    held.status = lambda: dict(status)
    body = readiness(_worker(_loop("validate"), _loop("dedup"), held))
    assert not body["ready"]
    assert body["problems"] == [
        "score partition 3 is waiting for competition feb-opening version 2 (published)"
    ]
