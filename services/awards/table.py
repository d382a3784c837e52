"""The award table of one frozen period: who ranks where, who is eligible, who wins what. Pure.

Inputs are the period's frozen figures (per manager and per unit, aggregated in SQL) and the
org facts the caller looked up; the output is plain data that the run stores, checksums and
renders. Same inputs, same table, byte for byte once canonicalised (`canonical`).

Points ranked = the period's own points + its adjustment (late entries of earlier periods).

Ties (a prize's `ties`, else `awards.ties`):
- share_rank: managers equal on points share a rank (1, 2, 2, 4) and each takes that rank's place,
  even past the last place (top 3 with ranks 1, 2, 3, 3 pays four people).
- split: a group tied at rank r holds places r .. r+k-1; the amounts of those places that exist
  are pooled and split equally, down to the cent; leftover cents go one each to the group's
  first members by id. The title is that of place r.
- tie_break: order by the competition's tie_break keys (points_desc; first_reached = the earlier
  latest own entry of the period); managers equal on every key then share_rank.
Unit prizes rank on points (or per head) only, ties shared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from streams.core.award_rules import (
    Awards,
    HonourPrize,
    RankPrize,
    TeamPrize,
    ThresholdPrize,
    Tier,
    TiesPolicy,
)
from streams.core.points import CENT, ZERO, q

ADJUSTMENT_LABEL = "调整（上期迟到数据）"


@dataclass(frozen=True)
class Candidate:
    """One manager's frozen figures for the period, with the org facts the award needs."""

    cm_id: str
    points: Decimal  # own entries of the period
    adjustment: Decimal = ZERO  # late entries of earlier periods, carried into this one
    events: int = 0
    last_at: datetime | None = None  # the latest own entry: first_reached
    in_post: bool = True  # in a (participating) sub-branch every day of the period
    name: str | None = None
    sub_branch_id: str | None = None  # on the period's last day
    team_id: str | None = None

    @property
    def total(self) -> Decimal:
        return self.points + self.adjustment


@dataclass(frozen=True)
class UnitScore:
    """A team's or sub-branch's points in the period (event-time membership), with its headcount."""

    unit_id: str
    points: Decimal
    adjustment: Decimal = ZERO
    headcount: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Award:
    prize: str
    title: str
    amount: Decimal


@dataclass(kw_only=True)
class _Awarded:
    """What a line of the table wins, and the remarks printed beside it."""

    awards: list[Award] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((a.amount for a in self.awards), ZERO)


@dataclass
class PersonLine(_Awarded):
    rank: int | None
    cm_id: str
    name: str | None
    sub_branch_id: str | None
    team_id: str | None
    points: Decimal
    adjustment: Decimal
    total: Decimal
    events: int
    eligible: bool


@dataclass
class UnitLine(_Awarded):
    ranking: str
    rank: int | None
    unit_id: str
    name: str | None
    points: Decimal  # the value ranked (per head for sub_branch_per_head)
    total: Decimal
    adjustment: Decimal
    headcount: int | None


@dataclass
class AwardTable:
    competition_id: str
    period: str
    regular: bool
    people: list[PersonLine]
    units: list[UnitLine]

    @property
    def amount(self) -> Decimal:
        return sum((p.amount for p in self.people), ZERO) + sum((u.amount for u in self.units), ZERO)


# -- ranking ------------------------------------------------------------------------------------


def _key(c: Candidate, policy: TiesPolicy, tie_break: Sequence[str]) -> tuple[Any, ...]:
    if policy != "tie_break":
        return (-c.total,)
    key: list[Any] = []
    for tb in tie_break:
        if tb == "points_desc":
            key.append(-c.total)
        elif tb == "first_reached":
            key.append((c.last_at is None, c.last_at.timestamp() if c.last_at else 0.0))
    return tuple(key) or (-c.total,)


def ranked(
    people: Iterable[Candidate], policy: TiesPolicy, tie_break: Sequence[str]
) -> list[tuple[int, Candidate]]:
    """Competition ranking (1, 2, 2, 4): equal keys share a rank, listed by id within it."""
    keyed = sorted(((_key(c, policy, tie_break), c.cm_id, c) for c in people), key=lambda k: (k[0], k[1]))
    out: list[tuple[int, Candidate]] = []
    previous: tuple[Any, ...] | None = None
    for position, (key, _, c) in enumerate(keyed, start=1):
        out.append((out[-1][0] if out and key == previous else position, c))
        previous = key
    return out


def _groups(rows: list[tuple[int, str]]) -> list[list[int]]:
    """Indexes of rows grouped by shared rank, in order."""
    groups: list[list[int]] = []
    for i, (rank, _) in enumerate(rows):
        if groups and rows[groups[-1][0]][0] == rank:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def place_awards(
    rows: list[tuple[int, str]], places: list[Tier], policy: TiesPolicy, prize: str
) -> dict[int, Award]:
    """Awards by row index for rows (rank, id) already in rank order."""
    out: dict[int, Award] = {}
    for group in _groups(rows):
        rank = rows[group[0]][0]
        if rank > len(places):
            break
        tier = places[rank - 1]
        if policy != "split" or len(group) == 1:
            for i in group:
                out[i] = Award(prize, tier.title, q(tier.amount))
            continue
        held = places[rank - 1 : rank - 1 + len(group)]
        pool = sum((t.amount for t in held), ZERO)
        share = (pool / len(group)).quantize(CENT, rounding=ROUND_DOWN)
        left = int((pool - share * len(group)) / CENT)
        for n, i in enumerate(sorted(group, key=lambda i: rows[i][1])):
            out[i] = Award(prize, tier.title, q(share + (CENT if n < left else ZERO)))
    return out


# -- the table ----------------------------------------------------------------------------------


def _ineligible(c: Candidate, awards: Awards) -> list[str]:
    why = []
    if awards.eligibility.in_post and not c.in_post:
        why.append("不符合资格：期内未全程在岗")
    if c.events < awards.eligibility.min_events:
        why.append(f"不符合资格：计分事件 {c.events} 笔，少于 {awards.eligibility.min_events} 笔")
    return why


def _unit_lines(ranking: str, units: Sequence[UnitScore]) -> list[UnitLine]:
    """Units ranked on points (per head: divided by the headcount; a unit without one is unranked)."""
    lines = []
    for u in units:
        total = u.points + u.adjustment
        value = total
        remarks = []
        if ranking == "sub_branch_per_head":
            if u.headcount:
                value = q(total / u.headcount)
            else:
                remarks.append("无在岗人数，不参与人均排名")
        lines.append(
            UnitLine(
                ranking, None, u.unit_id, u.name, value, total, u.adjustment, u.headcount, remarks=remarks
            )
        )
    ranked_lines = [line for line in lines if not line.remarks]
    ranked_lines.sort(key=lambda line: (-line.points, line.unit_id))
    for (rank, _), line in zip(
        _reranked([(x.points, x.unit_id) for x in ranked_lines]), ranked_lines, strict=True
    ):
        line.rank = rank
    return ranked_lines + sorted((x for x in lines if x.remarks), key=lambda x: x.unit_id)


def award_table(
    competition_id: str,
    period: str,
    awards: Awards | None,
    tie_break: Sequence[str],
    people: Iterable[Candidate],
    units: Mapping[str, Sequence[UnitScore]] | None = None,
    *,
    regular: bool = True,
) -> AwardTable:
    """The table for one period. `units` maps a unit ranking (team, sub_branch_total,
    sub_branch_per_head) to its units; only rankings a team prize names are ranked.
    An adjustment period (`regular=False`) or a competition without awards pays nothing."""
    people = list(people)
    units = units or {}
    prizes = list(awards.prizes) if awards is not None and regular else []
    base_policy: TiesPolicy = awards.ties if awards is not None else "share_rank"
    why = {c.cm_id: _ineligible(c, awards) if awards is not None else [] for c in people}
    eligible = [c for c in people if not why[c.cm_id]]

    order = ranked(eligible, base_policy, tie_break)
    rank_of = {c.cm_id: r for r, c in order}
    won: dict[str, list[Award]] = {c.cm_id: [] for c in people}
    for prize in prizes:
        if isinstance(prize, RankPrize | HonourPrize):
            policy = awards.ties_of(prize) if awards is not None else base_policy
            prize_order = ranked(eligible, policy, tie_break)
            rows = [(r, c.cm_id) for r, c in prize_order]
            for i, award in place_awards(rows, prize.places(), policy, prize.name).items():
                won[rows[i][1]].append(award)
        elif isinstance(prize, ThresholdPrize):
            for c in eligible:
                if c.total >= prize.min_points:
                    won[c.cm_id].append(Award(prize.name, prize.title, q(prize.amount)))

    person_lines = []
    for c in sorted(people, key=lambda c: (c.cm_id not in rank_of, rank_of.get(c.cm_id, 0), c.cm_id)):
        remarks = list(why[c.cm_id])
        if c.adjustment:
            remarks.append(f"含{ADJUSTMENT_LABEL} {c.adjustment:+}")
        person_lines.append(
            PersonLine(
                rank=rank_of.get(c.cm_id),
                cm_id=c.cm_id,
                name=c.name,
                sub_branch_id=c.sub_branch_id,
                team_id=c.team_id,
                points=c.points,
                adjustment=c.adjustment,
                total=c.total,
                events=c.events,
                eligible=not why[c.cm_id],
                awards=won[c.cm_id],
                remarks=remarks,
            )
        )

    team_prizes = [p for p in prizes if isinstance(p, TeamPrize)]
    unit_lines: list[UnitLine] = []
    for ranking in sorted({p.ranking for p in team_prizes}):
        lines = _unit_lines(ranking, units.get(ranking, ()))
        for prize in (p for p in team_prizes if p.ranking == ranking):
            competing = [
                i
                for i, x in enumerate(lines)
                if x.rank is not None and (x.headcount or 0) >= prize.min_headcount
            ]
            for i, line in enumerate(lines):
                if line.rank is not None and i not in competing:
                    line.remarks.append(
                        f"{prize.name}：人数 {line.headcount or 0} 少于 {prize.min_headcount}"
                    )
            rows = _reranked([(lines[i].points, lines[i].unit_id) for i in competing])
            policy = awards.ties_of(prize) if awards is not None else base_policy
            # Units carry no tie-break figures of their own: a tie is shared.
            policy = "share_rank" if policy == "tie_break" else policy
            for j, award in place_awards(rows, prize.places(), policy, prize.name).items():
                lines[competing[j]].awards.append(award)
        unit_lines.extend(lines)
    return AwardTable(competition_id, period, regular, person_lines, unit_lines)


def _reranked(values: list[tuple[Decimal, str]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for position, (value, uid) in enumerate(values, start=1):
        same = out and values[position - 2][0] == value
        out.append((out[-1][0] if same else position, uid))
    return out


# -- canonical form -----------------------------------------------------------------------------


def to_plain(table: AwardTable) -> dict[str, Any]:
    """JSON-ready: Decimals as strings with two places, datetimes never appear."""

    def award(a: Award) -> dict[str, str]:
        return {"prize": a.prize, "title": a.title, "amount": f"{a.amount:.2f}"}

    def money(value: Decimal) -> str:
        return f"{value:.2f}"

    people = [
        {
            "rank": p.rank,
            "cm_id": p.cm_id,
            "name": p.name,
            "sub_branch_id": p.sub_branch_id,
            "team_id": p.team_id,
            "points": money(p.points),
            "adjustment": money(p.adjustment),
            "total": money(p.total),
            "events": p.events,
            "eligible": p.eligible,
            "awards": [award(a) for a in p.awards],
            "amount": money(p.amount),
            "remarks": list(p.remarks),
        }
        for p in table.people
    ]
    units = [
        {
            "ranking": u.ranking,
            "rank": u.rank,
            "unit_id": u.unit_id,
            "name": u.name,
            "points": money(u.points),
            "total": money(u.total),
            "adjustment": money(u.adjustment),
            "headcount": u.headcount,
            "awards": [award(a) for a in u.awards],
            "amount": money(u.amount),
            "remarks": list(u.remarks),
        }
        for u in table.units
    ]
    return {
        "competition_id": table.competition_id,
        "period": table.period,
        "regular": table.regular,
        "people": people,
        "units": units,
        "amount": money(table.amount),
    }


def canonical(value: Any) -> bytes:
    """The one byte form checksums are taken of: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def checksum(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()
