"""Small builders for the awards tests: competitions with awards, ledger rows, an org."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from schemas.events import OrgChanged
from services.awards.gate import Gate
from services.readmodel.org import OrgDirectory
from services.store import Store
from streams.core.ledger import make_entry
from streams.core.rules import Competition, parse_competition

# The month-end layer alone (ledger rows written straight to SQL): no pipeline positions to wait
# for. Parked records are still checked.
NO_STREAMS = Gate.positions_unchecked()


def competition(**changes: Any) -> Competition:
    """A published Feb-Mar 2025 opening contest, monthly awards, grace 3 days."""
    body: dict[str, Any] = {
        "id": "open-2025",
        "name": "「多开户、多开基本户」竞赛",
        "version": 1,
        "status": "published",
        "effective_from": "2025-02-01T00:00:00+08:00",
        "window": {"start": "2025-02-01", "end": "2025-03-31"},
        "grace_days": 3,
        "rules": [{"kind": "account_opening", "points": {"basic": 10, "general": 4}}],
        "rankings": ["customer_manager", "sub_branch_per_head"],
        "awards": {
            "period": "month",
            "ties": "share_rank",
            "prizes": [
                {
                    "kind": "rank",
                    "name": "月度开户奖",
                    "tiers": [{"title": "一等奖", "amount": 500}, {"title": "二等奖", "amount": 300}],
                },
                {
                    "kind": "team",
                    "name": "最佳支行（人均）",
                    "tiers": [{"title": "最佳支行", "amount": 1000}],
                },
            ],
        },
    }
    body.update(changes)
    return parse_competition(body)


def at(text: str) -> datetime:
    """'2025-02-10 09:00' in Shanghai."""
    return datetime.fromisoformat(text.replace(" ", "T") + "+08:00")


def entry(
    event_id: str,
    cm_id: str,
    occurred: str,
    points: str,
    *,
    recorded: str,
    sub_branch: str | None = "SB1",
    team: str | None = None,
    late: bool = False,
    competition_id: str = "open-2025",
    component: str = "opening",
) -> dict[str, Any]:
    e = make_entry(
        competition_id=competition_id,
        rule_version=1,
        event_id=event_id,
        cm_id=cm_id,
        sub_branch_id=sub_branch,
        team_id=team,
        occurred_at=at(occurred),
        points=Decimal(points),
        component=component,
        reason=f"{component} {points}",
        late=late,
    )
    return {**asdict(e), "recorded_at": at(recorded)}


def add(store: Store, *rows: dict[str, Any]) -> None:
    assert store.add_ledger_entries(list(rows)) == len(rows)


def org(*moves: tuple[str, str, str, str, str | None]) -> OrgDirectory:
    """(cm_id, action, unit_kind, unit_id, effective_from) -> a directory, named '<cm_id> 名'."""
    directory = OrgDirectory()
    for i, (cm_id, action, kind, unit_id, effective) in enumerate(moves):
        directory.add(
            OrgChanged.model_validate(
                {
                    "event_id": f"org-{i}",
                    "type": "org.changed",
                    "schema_version": 1,
                    "occurred_at": "2024-12-31T09:00:00+08:00",
                    "source": "test",
                    "data": {
                        "cm_id": cm_id,
                        "cm_name": f"{cm_id} 名",
                        "action": action,
                        "unit_kind": kind,
                        "unit_id": unit_id,
                        "unit_name": f"{unit_id} 支行" if kind == "sub_branch" else f"{unit_id} 团队",
                        "effective_from": effective or "2025-01-01",
                    },
                }
            )
        )
    return directory


def day(text: str) -> date:
    return date.fromisoformat(text)
