"""A console adjustment request becomes points.adjusted events the shared validator accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import PointsAdjusted, parse_event
from services.adjustments import AdjustmentRequest, events_for

NOW = datetime(2026, 3, 5, 2, 12, tzinfo=UTC)


def parsed(events: list[dict[str, Any]]) -> list[PointsAdjusted]:
    out = []
    for e in events:
        event = parse_event(json.dumps(e, ensure_ascii=False), now=NOW)
        assert isinstance(event, PointsAdjusted)
        out.append(event)
    return out


def test_a_split_is_two_events_that_sum_to_zero_and_name_each_other() -> None:
    request = AdjustmentRequest.model_validate(
        {
            "competition_id": "feb-account-opening",
            "split": {"from_cm_id": "cm-1", "to_cm_id": "cm-2", "points": "7.5"},
            "note": "共同营销",
            "request_id": "r42",
        }
    )
    group, events = events_for(request, "user:zhang", NOW)
    a, b = parsed(events)
    assert group == "adjgrp-r42" and a.data.group_id == b.data.group_id == group
    assert (a.data.cm_id, a.data.points, a.data.related_cm_id) == ("cm-1", Decimal("-7.50"), "cm-2")
    assert (b.data.cm_id, b.data.points, b.data.related_cm_id) == ("cm-2", Decimal("7.50"), "cm-1")
    assert a.data.reason_code == b.data.reason_code == "split_credit"
    assert a.source == "console" and a.data.adjusted_by == "user:zhang"
    assert [a.event_id, b.event_id] == ["adj-r42-1", "adj-r42-2"]
    assert events_for(request, "user:zhang", NOW)[1] == events  # a retry sends the same events


def test_one_manager_with_a_reason() -> None:
    request = AdjustmentRequest.model_validate(
        {"competition_id": "c", "cm_id": "cm-1", "points": "-3", "reason_code": "data_fix", "note": "重复"}
    )
    group, events = events_for(request, "console", NOW)
    (event,) = parsed(events)
    assert event.data.points == Decimal(-3) and event.data.group_id == group
    assert event.data.related_cm_id is None
    assert events_for(request, "console", NOW)[0] != group  # no request id: a fresh group each time


@pytest.mark.parametrize(
    "body",
    [
        {"competition_id": "c", "cm_id": "cm-1", "points": "0", "reason_code": "other", "note": "x"},
        {"competition_id": "c", "cm_id": "cm-1", "points": "1", "note": "x"},  # no reason
        {"competition_id": "c", "cm_id": "cm-1", "reason_code": "other", "note": "x"},  # no points
        {"competition_id": "c", "split": {"from_cm_id": "a", "to_cm_id": "a", "points": 1}, "note": "x"},
        {"competition_id": "c", "split": {"from_cm_id": "a", "to_cm_id": "b", "points": -1}, "note": "x"},
        {
            "competition_id": "c",
            "split": {"from_cm_id": "a", "to_cm_id": "b", "points": 1},
            "cm_id": "a",
            "note": "x",
        },
        {"competition_id": "c", "cm_id": "cm 1", "points": "1", "reason_code": "other", "note": "x"},
        {"competition_id": "c", "cm_id": "cm-1", "points": "1.001", "reason_code": "other", "note": "x"},
        {"competition_id": "c", "cm_id": "cm-1", "points": "1", "reason_code": "bonus", "note": "x"},
        {"competition_id": "c", "cm_id": "cm-1", "points": "1", "reason_code": "other", "note": ""},
        {
            "competition_id": "c",
            "cm_id": "cm-1",
            "points": "1",
            "reason_code": "other",
            "note": "x",
            "extra": 1,
        },
    ],
)
def test_bad_requests_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AdjustmentRequest.model_validate(body)
