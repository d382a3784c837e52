"""Tiny builders for events and competitions in the compact notation the examples use.

An event is {"id", "type", "at": "YYYY-MM-DD HH:MM" (Asia/Shanghai), "data": {...}}; the envelope's
schema_version is 1 and its source "example". {"repeat": n, ...} stands for n events, "{i}" = 1..n.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from schemas.envelope import SHANGHAI, Envelope
from schemas.registry import model_for
from streams.core import Competition, parse_competition
from streams.core.lateness import Arrival, Freezes, FrozenPeriod

EXAMPLES = Path(__file__).resolve().parent / "examples"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def event(type_: str, event_id: str, when: str, **data: Any) -> Envelope:
    model = model_for(type_, 1)
    assert model is not None, type_
    return model.model_validate(
        {
            "event_id": event_id,
            "type": type_,
            "schema_version": 1,
            "occurred_at": at(when).isoformat(),
            "source": "example",
            "data": data,
        }
    )


def expand(compact: dict[str, Any]) -> Envelope:
    return event(compact["type"], compact["id"], compact["at"], **compact["data"])


def load_example(name: str) -> dict[str, Any]:
    """An example file: {"competition": {...} or "competitions": [...], "events": [...], ...}."""
    obj: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return obj


def competitions_of(example: dict[str, Any]) -> list[Competition]:
    raw = example.get("competitions") or [example["competition"]]
    return [parse_competition(c) for c in raw]


def _fill(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(i))
    if isinstance(value, dict):
        return {k: _fill(v, i) for k, v in value.items()}
    return value


def events_of(example: dict[str, Any]) -> list[Envelope]:
    """Expand the compact events; {"repeat": n, ...} stands for n events with {i} = 1..n."""
    out: list[Envelope] = []
    for raw in example["events"]:
        if "repeat" in raw:
            body = {k: v for k, v in raw.items() if k != "repeat"}
            out += [expand(_fill(body, i)) for i in range(1, raw["repeat"] + 1)]
        else:
            out.append(expand(raw))
    return out


def join(event_id: str, when: str, cm: str, kind: str, unit: str, effective: str) -> Envelope:
    return event(
        "org.changed",
        event_id,
        when,
        cm_id=cm,
        action="join",
        unit_kind=kind,
        unit_id=unit,
        effective_from=effective,
    )


def frozen(competition_id: str, period: str, frozen_at: str, owns_from: str | None = None,
           owns_until: str | None = None) -> Freezes:  # fmt: skip
    """The freezes a partition holds after reading one freeze record (times as `at` reads them)."""
    freezes = Freezes()
    freezes.add(
        competition_id,
        FrozenPeriod(
            period,
            at(owns_from) if owns_from else None,
            at(owns_until) if owns_until else None,
            at(frozen_at),
        ),
    )
    return freezes


def arriving(when: str, freezes: Freezes | None = None) -> Arrival:
    """An event that reached the platform at `when`, on a partition that read `freezes`."""
    return Arrival(at(when), freezes or Freezes())
