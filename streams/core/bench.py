"""Throughput of the scoring core alone: `python -m streams.core.bench [events] [--caps]`.

Synthetic February openings for 50 customer managers in 5 sub-branches, applied one by one
through `apply` (the stream's path), timed without event construction.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta

from schemas.envelope import SHANGHAI
from schemas.events import AccountOpened, OrgChanged
from streams.core.catalog import Catalog
from streams.core.engine import apply
from streams.core.rules import parse_competition
from streams.core.state import ParticipantState


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(next((a for a in args if a.isdigit()), "50000"))
    caps = {"daily_cap": 300, "contest_cap": 5000, "clawback_days": 7} if "--caps" in args else {}
    comp = parse_competition(
        {
            "id": "bench",
            "name": "bench",
            "version": 1,
            "status": "published",
            "effective_from": "2025-02-01T00:00:00+08:00",
            "window": {"start": "2025-02-01", "end": "2025-02-28"},
            "rules": [
                {
                    "kind": "account_opening",
                    "points": {"basic": 10, "general": 4},
                    "segment_bonus": {"non_credit": 2},
                    "new_firm_bonus": 3,
                    **caps,
                }
            ],
        }
    )
    catalog = Catalog([comp])
    cms = 50
    rnd = random.Random(1)
    start = datetime(2025, 2, 1, tzinfo=SHANGHAI)
    states = {f"cm{i}": ParticipantState(f"cm{i}") for i in range(cms)}
    for i in range(cms):
        join = {"cm_id": f"cm{i}", "action": "join", "unit_kind": "sub_branch", "unit_id": f"SB{i % 5}"}
        apply(
            states[f"cm{i}"],
            OrgChanged.model_validate(
                {
                    "event_id": f"o{i}",
                    "type": "org.changed",
                    "schema_version": 1,
                    "occurred_at": "2025-01-01T00:00:00+08:00",
                    "source": "bench",
                    "data": {**join, "effective_from": "2025-01-01"},
                }
            ),
            catalog,
        )
    events = [
        AccountOpened.model_validate(
            {
                "event_id": f"e{i}",
                "type": "account.opened",
                "schema_version": 1,
                "occurred_at": (start + timedelta(seconds=rnd.randrange(28 * 86400))).isoformat(),
                "source": "bench",
                "data": {
                    "account_id": f"A{i}",
                    "customer_id": f"C{i}",
                    "cm_id": f"cm{i % cms}",
                    "account_type": rnd.choice(["basic", "general"]),
                    "segment": "non_credit",
                    "new_firm": rnd.random() < 0.3,
                },
            }
        )
        for i in range(n)
    ]
    began = time.perf_counter()
    entries = sum(len(apply(states[e.data.cm_id], e, catalog)) for e in events)
    took = time.perf_counter() - began
    label = "with caps and clawback" if caps else "simple opening rule"
    print(f"core alone, {label}: {n} events in {took:.2f} s = {n / took:,.0f} events/s ({entries} entries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
