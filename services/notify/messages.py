"""What the robot announces, as plain data: a `Notice` has a key that is deterministic from what it
announces (the same news found again after a restart has the same key, and the outbox keeps one
row per key), a kind, and a line of markdown. No I/O.

Kinds: "rank" (a rise in, or into, the top N), "award" (an approved award run), "badge" (a badge
awarded: streams/core/badges.py), "challenge" (a challenge's winners, in the order they reached
its goal).
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


@dataclass(frozen=True)
class Reward:
    """A badge or challenge entry of the ledger (0 points: streams/core/badges.py)."""

    entry_id: str
    cm_id: str
    component: str  # "badge" or "challenge"
    badge: str  # the badge's or challenge's id
    name: str
    award: bool  # False: a revoke
    round: int  # award n, then its revoke n, then award n + 1 ...
    occurred_us: int  # when earned (event time), µs since the epoch


def badge_notices(
    competition_id: str,
    competition_name: str,
    rewards: Sequence[Reward],
    names: Mapping[str, str] | None = None,
) -> list[Notice]:
    """One notice per badge awarded, keyed by its ledger entry (written once, so announced once);
    a badge taken back is not news for the group."""
    out = []
    for r in rewards:
        if r.component != "badge" or not r.award:
            continue
        who = (names or {}).get(r.cm_id, r.cm_id)
        out.append(
            Notice(
                key=f"badge:{competition_id}:{r.entry_id}",
                competition_id=competition_id,
                kind="badge",
                text=f"🏅 {competition_name}：**{who}** 获得徽章「{r.name}」",
            )
        )
    return out


def challenge_notices(
    competition_id: str,
    competition_name: str,
    rewards: Sequence[Reward],
    winners: Mapping[str, int],
    names: Mapping[str, str] | None = None,
) -> list[Notice]:
    """The winners of each challenge (`winners`: challenge id -> how many win), in the order the
    ledger's entries say each reached the goal (event time, then id), once per winner and
    challenge. `rewards`: every challenge entry of the competition so far (awards and revokes)."""
    latest: dict[tuple[str, str], Reward] = {}  # the last award or revoke of each (challenge, manager)
    for r in rewards:
        if r.component != "challenge":
            continue
        key = (r.badge, r.cm_id)
        last = latest.get(key)
        if last is None or (r.round, r.award is False) > (last.round, last.award is False):
            latest[key] = r
    held = {key: r for key, r in latest.items() if r.award}
    out = []
    for challenge, places in sorted(winners.items()):
        reached = sorted(
            (r for (c, _), r in held.items() if c == challenge), key=lambda r: (r.occurred_us, r.cm_id)
        )
        for place, r in enumerate(reached[:places], start=1):
            who = (names or {}).get(r.cm_id, r.cm_id)
            out.append(
                Notice(
                    key=f"challenge:{competition_id}:{challenge}:{r.cm_id}",
                    competition_id=competition_id,
                    kind="challenge",
                    text=f"🏆 {competition_name}：**{who}** 第 {place} 位达成挑战「{r.name}」",
                )
            )
    return out
