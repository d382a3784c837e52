"""The demo's org: twelve customer managers in three sub-branches and two teams.

Ids are ASCII; the Chinese names travel in `cm_name` and `unit_name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

SUB_BRANCHES = {"sb-chengdong": "城东支行", "sb-chengxi": "城西支行", "sb-gaoxin": "高新区支行"}
TEAMS = {"team-xianfeng": "先锋团队", "team-qihang": "启航团队"}
_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐强", "孙丽"]


@dataclass(frozen=True)
class Manager:
    cm_id: str
    name: str
    sub_branch_id: str
    team_id: str


def managers() -> list[Manager]:
    sub_branches = list(SUB_BRANCHES)
    teams = list(TEAMS)
    return [
        Manager(f"cm-{101 + i}", name, sub_branches[i % len(sub_branches)], teams[i % len(teams)])
        for i, name in enumerate(_NAMES)
    ]


def org_events(staff: list[Manager], since: date, now: datetime, run_id: str) -> list[dict[str, Any]]:
    """Joins effective from `since`: every manager into a sub-branch and a team."""
    out: list[dict[str, Any]] = []
    for m in staff:
        for kind, unit in (("sub_branch", m.sub_branch_id), ("team", m.team_id)):
            out.append(
                {
                    "event_id": f"demo-{run_id}-org-{m.cm_id}-{kind}",
                    "type": "org.changed",
                    "schema_version": 1,
                    "occurred_at": now.isoformat(timespec="seconds"),
                    "source": "demo",
                    "data": {
                        "cm_id": m.cm_id,
                        "cm_name": m.name,
                        "action": "join",
                        "unit_kind": kind,
                        "unit_id": unit,
                        "unit_name": (SUB_BRANCHES | TEAMS)[unit],
                        "effective_from": since.isoformat(),
                    },
                }
            )
    return out
