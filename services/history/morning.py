"""The 晨会 (morning meeting) report of one sub-branch, from two boards: the close of the day
before yesterday and yesterday's close. Plain data in, plain data out; no I/O.

For each of the sub-branch's managers (where the org placed them yesterday): rank and points at
yesterday's close, the places and points gained during yesterday; the most who climbed and fell;
progress against the competition's targets (its 达标门槛 minimum and its 达标奖 threshold); who is
closest to the next rank. Ranks are the whole board's, as the filtered live board shows them.
And the badges the sub-branch's managers earned during yesterday (event time), as the standings
hold them now (a badge taken back since is not listed); a challenge reached is listed as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from schemas import SHANGHAI
from services.history.places import Chase, Move, Place, chasing, movers, moves
from streams.core.award_rules import ThresholdPrize
from streams.core.rules import Competition

MOVERS = 5
CLOSEST = 5


@dataclass(frozen=True)
class Target:
    label: str
    points: Decimal


def targets_of(comp: Competition) -> list[Target]:
    """What a manager's points are measured against: the minimum_total modifier, the threshold prizes."""
    out = []
    minimum = comp.minimum_total()
    if minimum is not None:
        out.append(Target("达标门槛", minimum.points))
    if comp.awards is not None:
        for prize in comp.awards.prizes:
            if isinstance(prize, ThresholdPrize):
                out.append(Target(prize.name, prize.min_points))
    return sorted(out, key=lambda t: (t.points, t.label))


@dataclass(frozen=True)
class Line:
    cm_id: str
    rank: int
    points: Decimal
    gained: Decimal
    change: int | None  # places gained yesterday; None: first on the board yesterday
    reached: tuple[str, ...]  # labels of the targets met


@dataclass(frozen=True)
class NewBadge:
    cm_id: str
    name: str  # the badge's (or the challenge's) name
    kind: str  # milestone / threshold / streak / challenge
    at: datetime


@dataclass(frozen=True)
class Morning:
    competition_id: str
    sub_branch_id: str
    day: date
    board_size: int
    lines: list[Line]
    up: list[Move]
    down: list[Move]
    closest: list[Chase]
    targets: list[Target]
    met: dict[str, int]  # target label -> managers who meet it
    total: Decimal
    gained: Decimal
    badges: list[NewBadge]


def morning(
    comp: Competition,
    sub_branch_id: str,
    day: date,
    before: Sequence[Place],
    after: Sequence[Place],
    members: Mapping[str, str | None],
    earned: Sequence[NewBadge] = (),
) -> Morning:
    """`before` and `after`: the manager boards at the two closes; `members`: manager -> their
    sub-branch yesterday (the report keeps those in `sub_branch_id`); `earned`: badges held now,
    of any day (the report keeps this sub-branch's, earned during `day` in Shanghai)."""
    ours = {cm for cm, sb in members.items() if sb == sub_branch_id}
    start = datetime.combine(day, time(0), SHANGHAI)
    badges = sorted(
        (b for b in earned if b.cm_id in ours and start <= b.at < start + timedelta(days=1)),
        key=lambda b: (b.at, b.cm_id, b.name),
    )
    found = moves(before, after, among=ours)
    up, down = movers(found, MOVERS)
    targets = targets_of(comp)
    lines = [
        Line(
            m.unit_id,
            m.rank,
            m.points,
            m.gained,
            m.change,
            tuple(t.label for t in targets if m.points >= t.points),
        )
        for m in found
    ]
    met = {t.label: sum(1 for line in lines if t.label in line.reached) for t in targets}
    return Morning(
        competition_id=comp.id,
        sub_branch_id=sub_branch_id,
        day=day,
        board_size=len(after),
        lines=lines,
        up=up,
        down=down,
        closest=chasing(after, among=ours)[:CLOSEST],
        targets=targets,
        met=met,
        total=sum((line.points for line in lines), Decimal(0)),
        gained=sum((line.gained for line in lines), Decimal(0)),
        badges=badges,
    )
