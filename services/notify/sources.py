"""Where news comes from, per kind, read from SQL: rank changes in the top N (the board from the
ledger, services/history) and approved award runs. Badges and challenges (issue 18 items 1-2)
plug in by adding a function to SOURCES: (store, config row, now) -> notices, and the top N
state to keep with them (or None)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.history.moments import LedgerHistory
from services.history.places import rank_totals
from services.notify import outbox
from services.notify.messages import (
    Notice,
    Standing,
    award_notice,
    badge_notices,
    challenge_notices,
    rank_notices,
)
from services.store import Store
from streams.core.rules import DEFAULT_TIE_BREAK

Found = tuple[list[Notice], tuple[str, list[list[object]]] | None]
Source = Callable[[Store, dict[str, Any], datetime], Found]

_histories: dict[int, LedgerHistory] = {}


def _history(store: Store) -> LedgerHistory:
    found = _histories.get(id(store))
    if found is None:
        found = _histories[id(store)] = LedgerHistory(store)
    return found


def ranks(store: Store, cfg: dict[str, Any], now: datetime) -> Found:
    cid, top_n = cfg["competition_id"], cfg["top_n"]
    definition = outbox.competition(store, cid) or {}
    name = definition.get("name", cid)
    tie_break = definition.get("tie_break") or list(DEFAULT_TIE_BREAK)
    board = rank_totals(_history(store).totals_at(cid, now), "customer_manager", tie_break)
    top = [Standing(p.unit_id, p.rank, p.points, p.reached_us) for p in board[:top_n]]
    notices = rank_notices(cid, name, outbox.previous_top(store, cid), top, top_n)
    return notices, (cid, [[s.unit_id, s.rank] for s in top])


def awards(store: Store, cfg: dict[str, Any], now: datetime) -> Found:
    cid = cfg["competition_id"]
    definition = outbox.competition(store, cid) or {}
    name = definition.get("name", cid)
    out = []
    for run in outbox.approved_runs(store, cid, cfg["enabled_since"]):
        people = run["result"].get("people", [])
        winners = sum(1 for p in people if p.get("awards"))
        amount = str(Decimal(str(run["result"].get("amount", "0"))))
        out.append(award_notice(cid, name, run["id"], run["period"], winners, amount))
    return out, None


def badges(store: Store, cfg: dict[str, Any], now: datetime) -> Found:
    """Badges awarded since the robot was enabled: one notice per award entry."""
    cid = cfg["competition_id"]
    name = (outbox.competition(store, cid) or {}).get("name", cid)
    return badge_notices(cid, name, outbox.rewards(store, cid, cfg["enabled_since"])), None


def challenges(store: Store, cfg: dict[str, Any], now: datetime) -> Found:
    """Each challenge's winners as the ledger has them (a winner announced once, by key)."""
    cid = cfg["competition_id"]
    definition = outbox.competition(store, cid) or {}
    name = definition.get("name", cid)
    winners = {str(c["id"]): int(c.get("winners", 3)) for c in definition.get("challenges") or []}
    if not winners:
        return [], None
    return challenge_notices(cid, name, outbox.rewards(store, cid), winners), None


SOURCES: dict[str, Source] = {"rank": ranks, "award": awards, "badge": badges, "challenge": challenges}


def news(store: Store, cfg: dict[str, Any], now: datetime) -> int:
    """Find each configured kind's news and keep it (with its state) in the outbox; how many new."""
    added = 0
    for kind in cfg["kinds"]:
        source = SOURCES.get(kind)
        if source is None:
            continue  # a kind this notifier does not know
        notices, state = source(store, cfg, now)
        added += outbox.record(store, notices, now, state)
    return added
