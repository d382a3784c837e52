"""What an organiser asks for, and the events that carry it. Pure (unit-tested).

    {"competition_id", "cm_id", "points", "reason_code", "note", "related_cm_id"?}   one manager
    {"competition_id", "split": {"from_cm_id", "to_cm_id", "points"}, "reason_code"?, "note"}

A split moves `points` (> 0) of one manager's credit to another: two events, -x and +x, each
naming the other manager, sharing one group id, so the two sides always sum to zero. Ids derive
from `request_id` when the client sends one: a retry after a failure sends the same events again,
and the stream counts them once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.envelope import SHANGHAI
from schemas.vocabulary import AdjustmentReason

SOURCE = "console"
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Points = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]


class Split(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    from_cm_id: Ident
    to_cm_id: Ident
    points: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]

    @model_validator(mode="after")
    def _two_managers(self) -> Split:
        if self.from_cm_id == self.to_cm_id:
            raise ValueError("a split needs two different managers")
        return self


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    competition_id: Ident
    reason_code: AdjustmentReason | None = None  # a split defaults to split_credit
    note: str = Field(min_length=1, max_length=200)
    cm_id: Ident | None = None
    points: Points | None = None
    related_cm_id: Ident | None = None
    split: Split | None = None
    request_id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> AdjustmentRequest:
        if self.split is not None:
            if self.cm_id is not None or self.points is not None or self.related_cm_id is not None:
                raise ValueError("give either split, or cm_id and points, not both")
        elif self.cm_id is None or self.points is None:
            raise ValueError("give cm_id and points (or a split)")
        elif not self.points:
            raise ValueError("an adjustment of 0 points changes nothing")
        if self.reason_code is None and self.split is None:
            raise ValueError("reason_code is required")
        return self

    @property
    def code(self) -> AdjustmentReason:
        return self.reason_code or AdjustmentReason.SPLIT_CREDIT


def events_for(request: AdjustmentRequest, actor: str, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """(group id, the wire events) for one request."""
    stem = request.request_id or uuid.uuid4().hex[:20]
    group = f"adjgrp-{stem}"
    moment = now.astimezone(SHANGHAI).isoformat()
    sides: list[tuple[str, Decimal, str | None]]
    if request.split is not None:
        s = request.split
        sides = [(s.from_cm_id, -s.points, s.to_cm_id), (s.to_cm_id, s.points, s.from_cm_id)]
    else:
        assert request.cm_id is not None and request.points is not None
        sides = [(request.cm_id, request.points, request.related_cm_id)]
    events = []
    for n, (cm_id, points, related) in enumerate(sides, start=1):
        data: dict[str, Any] = {
            "competition_id": request.competition_id,
            "cm_id": cm_id,
            "points": str(points),
            "reason_code": request.code.value,
            "note": request.note,
            "adjusted_by": actor,
            "group_id": group,
        }
        if related is not None:
            data["related_cm_id"] = related
        events.append(
            {
                "event_id": f"adj-{stem}-{n}",
                "type": "points.adjusted",
                "schema_version": 1,
                "occurred_at": moment,
                "source": SOURCE,
                "data": data,
            }
        )
    return group, events
