"""The sink's own readiness, from when its heartbeat last reached the database."""

from __future__ import annotations

from services.sink.health import readiness


def test_a_sink_that_never_stored_a_beat_is_not_ready_and_says_why() -> None:
    body = readiness(None, "database unavailable", now=100.0, stale_seconds=30.0)
    assert body == {"ready": False, "problem": "no heartbeat stored yet: database unavailable"}


def test_a_recent_beat_is_ready() -> None:
    assert readiness(90.0, "", now=100.0, stale_seconds=30.0) == {"ready": True, "age_seconds": 10.0}


def test_a_stale_beat_is_not_ready() -> None:
    body = readiness(50.0, "connection refused", now=100.0, stale_seconds=30.0)
    assert body["ready"] is False
    assert body["problem"] == "no heartbeat stored for 50 s: connection refused"
