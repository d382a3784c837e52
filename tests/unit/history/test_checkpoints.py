"""The in-memory timeline (services/history/checkpoints.py) against a plain sum: whatever order
the entries come in (in time order as a build reads them, then back-dated, on the grid, before
everything), the totals at any instant are those of the entries at or before it."""

from __future__ import annotations

import random

import pytest

from services.history.checkpoints import ABSENT, ORIGIN_US, Key, Timeline

HOUR = 3_600_000_000
STEP = 3 * HOUR


def plain(entries: list[tuple[int, Key, int]], at: int) -> dict[Key, tuple[int, int]]:
    out: dict[Key, tuple[int, int]] = {}
    for t, key, points in entries:
        if t <= at:
            held = out.get(key)
            out[key] = (points, t) if held is None else (held[0] + points, max(held[1], t))
    return out


def held(timeline: Timeline, at: int) -> dict[Key, tuple[int, int]] | None:
    found = timeline.totals(at)
    if found is None:
        return None
    keys = timeline.keys.keys
    return {keys[k]: (s, r) for k, (s, r) in enumerate(zip(*found, strict=True)) if r != ABSENT}


def test_built_then_patched_equals_a_plain_sum() -> None:
    rng = random.Random(14)
    start = ORIGIN_US + 20_000 * 24 * HOUR  # a Shanghai midnight

    def one() -> tuple[int, Key, int]:
        at = start + (STEP * rng.randrange(40) if rng.random() < 0.2 else rng.randrange(120 * HOUR))
        return at, (f"cm{rng.randrange(8)}", f"sb{rng.randrange(2)}", None), rng.choice([400, 1000, -400])

    built = sorted((one() for _ in range(300)), key=lambda e: e[0])
    timeline = Timeline(STEP, keep=1000)
    timeline.add_all((t, *key, p) for t, key, p in built)
    later = [one() for _ in range(60)] + [(start - 50 * HOUR, ("cm-early", "sb0", None), 700)]
    for t, key, p in later:
        timeline.insert(t, key, p)
    everything = built + later
    instants = [start + STEP * i + d for i in range(-20, 45) for d in (-1, 0, 1)]
    instants += [rng.randrange(start - 60 * HOUR, start + 130 * HOUR) for _ in range(100)]
    for at in instants:
        assert held(timeline, at) == plain(everything, at), at
    assert all(s.start == timeline.grid(s.start) for s in timeline.spans)
    assert timeline.entries() == len(everything)


def test_the_step_divides_a_day() -> None:
    with pytest.raises(ValueError, match="divide a day"):
        Timeline(7 * HOUR, keep=10)
