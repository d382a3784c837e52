"""Manual adjustments through the real scoring stream: mixed with random event streams, the
stream's standings equal the core run in batch, and each adjustment is one ledger entry."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.topics import Topics
from tests.support.kafka import read_all
from tests.support.processes import Process
from tests.support.random_events import event_streams
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events

COMPETITIONS = published_templates()
TARGETS = [c.id for c in COMPETITIONS] + ["not-published"]
CODES = ["split_credit", "department_correction", "data_fix", "other"]
_examples = itertools.count()


def adjustment(event_id: str, cm: str, competition: str, points: str, day: int, code: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "points.adjusted",
        "schema_version": 1,
        "occurred_at": f"2026-{2 if day <= 28 else 3:02d}-{(day - 1) % 28 + 1:02d}T16:00:00+08:00",
        "source": "console",
        "data": {
            "competition_id": competition,
            "cm_id": cm,
            "points": points,
            "reason_code": code,
            "note": f"测试调整 {event_id}",
            "adjusted_by": "user:test",
        },
    }


@st.composite
def adjustments(draw: st.DrawFn, tag: str, cms: int = 3) -> list[dict[str, Any]]:
    out = []
    for n in range(draw(st.integers(1, 8))):
        cm = f"{tag}-cm{draw(st.integers(0, cms - 1))}"
        cents = draw(st.integers(-5000, 5000).filter(bool))
        points = f"{cents / 100:.2f}"
        out.append(
            adjustment(
                f"{tag}-adj{n}",
                cm,
                draw(st.sampled_from(TARGETS)),
                points,
                draw(st.integers(1, 40)),
                draw(st.sampled_from(CODES)),
            )
        )
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=event_streams(tag="h", cms=3, max_events=30), extra=adjustments(tag="h"), seed=st.randoms())
async def test_adjustments_in_random_streams_give_the_batch_standings(
    running_worker: Process,
    topics: Topics,
    data: list[dict[str, Any]],
    extra: list[dict[str, Any]],
    seed: Any,
) -> None:
    tag = f"x{next(_examples)}"
    mixed = data + extra + extra[:2]  # the first two sent twice: counted once
    seed.shuffle(mixed)
    events = json.loads(json.dumps(mixed).replace('"h-', f'"{tag}-'))
    await publish(topics, COMPETITIONS)
    await send_events(topics, events)

    expected = expected_standings(events, COMPETITIONS)
    got = await converge(topics, expected, timeout=120)
    ledger = [json.loads(r.value or b"") for r in await read_all(topics.ledger)]
    booked = {e["event_id"] for e in ledger if e["component"] == "adjustment"}
    counted = {
        e["event_id"].replace("h-", f"{tag}-")
        for e in extra
        if e["data"]["competition_id"] != "not-published"
    }
    assert counted <= booked
    for e in ledger:
        if e["event_id"] in counted:
            assert e["reason"].startswith("人工调整[") and e["competition_id"] != "not-published"
    assert all(v is not None for v in got.values())
