"""What-if preview over the real history: events through the real stream, then a draft with a
changed rule previewed beside the published version, with nothing written anywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from schemas.topics import Topics
from services.whatif.run import PreviewJob, preview
from streams.core import load_template, parse_competition
from tests.support.events import joined, opened
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.processes import Process
from tests.support.scoring import converge, expected_standings, publish, send_events

PUBLISHED = load_template("feb_account_opening").model_copy(update={"status": "published"})


def draft() -> dict[str, Any]:
    """v2: basic accounts pay 20 instead of 10, only SB1 takes part, on-site visits pay 3."""
    raw = PUBLISHED.model_dump(mode="json")
    raw.update(version=2, status="draft", participants=["SB1"])
    raw["rules"][0]["points"]["basic"] = 20
    raw["rules"].append({"kind": "visit", "points": {"on_site": 3}})
    return raw


def day(n: int) -> str:
    return f"2026-02-{n:02d}T10:00:00+08:00"


def history() -> list[dict[str, Any]]:
    plain = {"segment": "credit_offline", "channel": "walk_in"}
    events = [joined(cm, "SB1") for cm in ("cm-a", "cm-b", "cm-c", "cm-e")] + [joined("cm-d", "SB2")]
    events += [
        {**opened(f"a{n}", "cm-a", account_type="general", **plain), "occurred_at": day(n + 2)}
        for n in range(4)
    ]  # 4 x 4 = 16
    events.append({**opened("b1", "cm-b", **plain), "occurred_at": day(5)})  # basic: 10, draft 20
    events.append({**opened("c1", "cm-c", account_type="temporary", **plain), "occurred_at": day(6)})  # 1
    events.append({**opened("d1", "cm-d", account_type="general", **plain), "occurred_at": day(7)})  # 4, SB2
    events.append(
        {
            "event_id": "e-visit-1",
            "type": "customer.visited",
            "schema_version": 1,
            "occurred_at": day(8),
            "source": "test",
            "data": {"customer_id": "cust-e", "cm_id": "cm-e", "visitor_id": "cm-e", "channel": "on_site"},
        }
    )  # no visit rule published; the draft pays 3
    events.append(
        {
            "event_id": "adj-c-1",
            "type": "points.adjusted",
            "schema_version": 1,
            "occurred_at": "2026-03-02T09:00:00+08:00",
            "source": "console",
            "data": {
                "competition_id": PUBLISHED.id,
                "cm_id": "cm-c",
                "points": "5",
                "reason_code": "department_correction",
                "note": "部门更正",
                "adjusted_by": "user:test",
            },
        }
    )  # counts on both sides: 6
    return events


async def test_a_draft_previewed_over_the_stream_history(running_worker: Process, topics: Topics) -> None:
    events = history()
    await publish(topics, [PUBLISHED])
    await send_events(topics, events)
    await converge(topics, expected_standings(events, [PUBLISHED]), timeout=120)
    standings_before = [(r.key, r.value) for r in await read_all(topics.standings)]

    job = PreviewJob(BOOTSTRAP, topics.prefix, PUBLISHED.id, draft())
    result = await preview(job)

    rows = {r["id"]: r for r in result["rows"]}
    got = {
        cm: (
            r["change"],
            r["before"] and r["before"]["rank"],
            r["after"] and r["after"]["rank"],
            r["rank_delta"],
            Decimal(r["points_delta"]),
        )
        for cm, r in rows.items()
    }
    assert got == {
        "cm-b": ("up", 2, 1, 1, Decimal(10)),  # 10 -> 20: first
        "cm-a": ("down", 1, 2, -1, Decimal(0)),  # 16 either way, overtaken
        "cm-c": ("same", 3, 3, 0, Decimal(0)),  # 1 + 5 adjusted, both sides
        "cm-e": ("new", None, 4, None, Decimal(3)),  # the visit the draft pays for
        "cm-d": ("dropped", 4, None, None, Decimal(-4)),  # SB2 no longer takes part
    }
    assert [r["id"] for r in result["rows"]] == ["cm-b", "cm-a", "cm-c", "cm-e", "cm-d"]
    assert rows["cm-c"]["after"]["components"] == {"adjustment": "5.00", "opening": "1.00"}
    assert result["summary"] == {"up": 1, "down": 1, "same": 1, "new": 1, "dropped": 1}
    assert result["published_versions"] == [1] and result["draft"]["version"] == 2
    assert result["events_scored"] == len(events) and result["managers"] == 5
    assert result["events_read"] >= len(events) + 5  # the validated history and the org topic
    assert result["timing_ms"]["total"] >= result["timing_ms"]["score"] >= 0

    # The preview wrote nothing: the live standings are as they were.
    assert [(r.key, r.value) for r in await read_all(topics.standings)] == standings_before


async def test_a_preview_of_a_competition_never_published_shows_everyone_as_new(
    running_worker: Process, topics: Topics
) -> None:
    events = history()
    await publish(topics, [PUBLISHED])
    await send_events(topics, events)
    await converge(topics, expected_standings(events, [PUBLISHED]), timeout=120)
    fresh = draft()
    fresh.update(id="march-trial", version=1)
    parse_competition(fresh)
    result = await preview(PreviewJob(BOOTSTRAP, topics.prefix, "march-trial", fresh))
    assert result["published_versions"] == []
    assert {r["id"]: r["change"] for r in result["rows"]} == {
        "cm-a": "new",
        "cm-b": "new",
        "cm-c": "new",
        "cm-e": "new",
    }
    # the adjustment names the February contest, not this one
    assert result["rows"][0]["after"]["points"] == "20.00"
