"""Last month's events for the demo's award contest, sent once at start (a backfill).

Deterministic (seeded by the month, ids named after it): a demo started again the same month
sends the same events with the same ids, which dedup drops, so last month's points do not grow
with each start and nothing turns up late after its freeze.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time

from schemas import SHANGHAI
from services.demo.feed import Feed
from services.demo.roster import Manager

EVENTS = 240  # about ten openings a manager: a spread board, and a few over the threshold


def backfill(staff: list[Manager], start: date, end: date, count: int = EVENTS) -> list[tuple[str, bytes]]:
    """`count` valid records for the raw topic, occurring at even steps over the days start..end."""
    month = start.strftime("%Y%m")
    feed = Feed(random.Random(f"backfill-{month}"), staff, f"bf{month}", bad_every=0)
    first = datetime.combine(start, time(9), SHANGHAI)
    span = datetime.combine(end, time(18), SHANGHAI) - first
    return [feed.next(first + span * i / count) for i in range(count)]
