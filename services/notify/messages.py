"""What the robot announces, as plain data: a `Notice` has a key that is deterministic from what it
announces (the same news found again after a restart has the same key, and the outbox keeps one
row per key), a kind, and a line of markdown. No I/O.

Kinds: "rank" (a rise in, or into, the top N), "award" (an approved award run); "badge" and
"challenge" are reserved for the core's badges and challenges (issue 18 items 1-2): a config may
already ask for them, and they are announced once a source for them is registered in
services/notify/sources.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

KINDS = ("rank", "award", "badge", "challenge")


@dataclass(frozen=True)
class Notice:
    key: str
    competition_id: str
    kind: str
    text: str  # one markdown line, without the key's tag


@dataclass(frozen=True)
class Standing:
    """A row of the top N as the rank messages compare it."""

    unit_id: str
    rank: int
    points: Decimal
    reached_us: int  # when the row reached its points: part of the key, so a new climb is new news


def rank_notices(
    competition_id: str,
    competition_name: str,
    previous: Mapping[str, int] | None,
    top: Sequence[Standing],
    top_n: int,
    names: Mapping[str, str] | None = None,
) -> list[Notice]:
    """A notice for each row of the new top N that ranks better than before (or was not in it).
    `previous` None (nothing compared before: the robot was just configured) announces nothing:
    the first look is a baseline, not N pieces of news."""
    if previous is None:
        return []
    out = []
    for row in top[:top_n]:
        before = previous.get(row.unit_id)
        if before is not None and row.rank >= before:
            continue
        name = (names or {}).get(row.unit_id, row.unit_id)
        if before is None:
            what = f"进入前 {top_n} 名，现居第 **{row.rank}** 名"
        else:
            what = f"从第 {before} 名升至第 **{row.rank}** 名"
        out.append(
            Notice(
                key=f"rank:{competition_id}:{row.unit_id}:{row.rank}:{row.reached_us}",
                competition_id=competition_id,
                kind="rank",
                text=f"🏅 {competition_name}：**{name}** {what}（{row.points} 分）",
            )
        )
    return out


def award_notice(
    competition_id: str, competition_name: str, run_id: int, period: str, winners: int, amount: str
) -> Notice:
    return Notice(
        key=f"award:{competition_id}:{run_id}",
        competition_id=competition_id,
        kind="award",
        text=f"🎉 {competition_name} {period} 获奖名单已审批：**{winners}** 人获奖，奖金合计 {amount} 元",
    )
