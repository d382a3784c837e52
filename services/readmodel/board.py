"""The read model's memory, with no I/O: the newest standing per key, the known competitions,
the org directory (names, headcounts), each competition's boards kept ranked as standings arrive
(`ranked.RankedIndex`), and a revision that grows on every change (what push and ETags follow).

Ranking is the core's (`streams.core.ranking`): the index orders rows by the core's own sort key,
and `leaderboard` equals `rank` over the same standings.

Days are Asia/Shanghai days of an injectable clock:
- the board day of a competition is today while it runs and its last day once it has ended:
  per-head boards divide by the org's headcount on that day, and a manager is listed under the
  sub-branch and team the org has them in on that day (docs/boards.md);
- rank_change compares a row's rank now with its rank at the start of today: the standings as
  they were when the day began are kept aside (`baseline`), from the records' own Kafka
  timestamps during the start-up replay, and by copying the current standings when the clock
  crosses midnight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import ValidationError

from schemas.errors import Rejection
from schemas.events import OrgChanged
from schemas.validate import read_canonical
from services.readmodel.errors import RankingNotOffered, UnknownCompetition
from services.readmodel.org import OrgDirectory
from services.readmodel.progress import Progress, progress_of
from services.readmodel.ranked import Group, RankedIndex, Row
from services.record_json import read_record
from streams.core.calendar import day_of, start_of
from streams.core.catalog import Catalog
from streams.core.errors import CoreError
from streams.core.org import NOWHERE, Unit
from streams.core.points import ZERO
from streams.core.ranking import RankedRow, rank, scoring_headcounts
from streams.core.rules import Competition, RankingKind
from streams.core.standing import Standing

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
StandingRecord = tuple[bytes | str | None, bytes | None, datetime | None]  # key, value, Kafka timestamp
OnError = Callable[[int, Exception], None]


def _now() -> datetime:
    return datetime.now(UTC)


def _before(at: datetime | None, moment: datetime) -> bool:
    return at is not None and at < moment


@dataclass(frozen=True)
class Leaderboard:
    """A whole board, as `rank` returns it (kept for callers that want every row)."""

    competition: Competition
    ranking: RankingKind
    revision: int
    rows: list[RankedRow]
    names: dict[str, str] = field(default_factory=dict)  # display names by unit id (named ones)

    def name_of(self, row: RankedRow) -> str:
        """What a screen shows for the row: the manager's or unit's name, else its id."""
        return self.names.get(row.unit_id, row.unit_id)


@dataclass(frozen=True)
class BoardRow:
    row: RankedRow
    name: str
    rank_change: int | None  # positive: moved up since the start of the day; None: new today
    sub_branch_id: str | None
    sub_branch_name: str | None
    team_id: str | None
    team_name: str | None
    progress: list[Progress]


@dataclass(frozen=True)
class BoardPage:
    competition: Competition
    ranking: RankingKind
    revision: int
    headcount_day: date  # the board day: whose org (headcounts, units) the board shows
    count: int  # rows matching the filters
    rows: list[BoardRow]


@dataclass(frozen=True)
class Around:
    competition: Competition
    ranking: RankingKind
    revision: int
    count: int
    row: BoardRow
    above: list[BoardRow]
    below: list[BoardRow]


class _Contest:
    """One competition's standings, its boards, and its standings as the day began."""

    def __init__(self) -> None:
        self.standings: dict[str, Standing] = {}
        self.baseline: dict[str, Standing] = {}
        self.baseline_revision = 0
        self.indexes: dict[RankingKind, RankedIndex] = {}
        self.groups_for: tuple[date, int] | None = None  # (day, org revision) the groups were set for
        self.base_ranks: dict[RankingKind, tuple[tuple[object, ...], dict[str, int]]] = {}
        self.progress: dict[str, tuple[Standing | None, Competition, list[Progress]]] = {}
        # A competition with participants ranks only who takes part (_takes_part): the managers
        # on its boards, and what they were judged against: (board day, org revision, participants).
        # None: everyone is ranked (no participants filter, or the competition is not known yet).
        self.shown: set[str] | None = None
        self.shown_for: tuple[object, ...] | None = None
        self.shown_day: date | None = None

    def listed(self, cm_id: str) -> bool:
        return self.shown is None or cm_id in self.shown


class Board:
    def __init__(self, clock: Clock | None = None) -> None:
        self._contests: dict[str, _Contest] = {}
        self._versions: dict[tuple[str, int], Competition] = {}
        self._catalog = Catalog([])
        self.org = OrgDirectory()
        self.revision = 0
        self.invalid = 0  # records ignored because they could not be read (poison)
        self._clock = clock or _now
        self._day = day_of(self._clock())
        self._org_revision = 0
        self._headcounts: dict[date, dict[str, int]] = {}  # per day, until the org changes
        self._unit_names: dict[str, str] | None = None
        self._changed: dict[str, int] = {}  # competition id -> revision of its last change
        self._all_changed = 0  # revision of the last change that concerns every competition

    # -- writes -----------------------------------------------------------------------------

    def put(self, key: bytes | str | None, value: bytes | None, at: datetime | None = None) -> bool:
        """One record of the standings topic (key "competition_id|cm_id"; None = tombstone),
        `at` its Kafka timestamp (None: now).

        Returns whether anything changed: the worker re-sends unchanged snapshots, and those
        must not wake every screen."""
        self._roll()
        read = self._read(key, value)
        return read is not None and self._apply(*read, at)

    def put_latest(self, records: Sequence[StandingRecord], on_error: OnError | None = None) -> bool:
        """A batch of standings records (key, value, Kafka timestamp), in topic order; the same
        boards as `put` of each in turn, for less work. A record that raises (rather than being
        ignored as unreadable) is given to `on_error` with its place in `records` and passed
        over, like one that cannot be read; without `on_error` the exception propagates.

        A standing replaces its key's previous one whole (the topic is compacted by key), so only
        each key's last record is put, with two exceptions that keep `put`'s outcome: when the last
        cannot be read, the one before it is tried (as if the last had not come); and when the
        last was written today, the key's last record from before today began is put first (how
        the board stood at the start of the day). A record passed over is not read, so one that
        could not have been read is not counted as poison either. Returns whether anything changed."""
        self._roll()
        day_began = start_of(self._day)
        by_key: dict[bytes | str | None, list[int]] = {}
        for i, (key, _, _) in enumerate(records):
            by_key.setdefault(key, []).append(i)
        changed = False

        def apply(place: int, read: tuple[str, str, Standing | None]) -> bool:
            try:
                return self._apply(*read, records[place][2])
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(place, exc)
                return False

        for places in by_key.values():
            last = self._last_readable(records, places, on_error)
            if last is None:
                continue
            at = records[last[0]][2]
            if at is None or at >= day_began:
                earlier = [i for i in places[: places.index(last[0])] if _before(records[i][2], day_began)]
                began = self._last_readable(records, earlier, on_error)
                if began is not None:
                    changed = apply(*began) or changed
            changed = apply(*last) or changed
        return changed

    def _last_readable(
        self, records: Sequence[StandingRecord], places: list[int], on_error: OnError | None
    ) -> tuple[int, tuple[str, str, Standing | None]] | None:
        for place in reversed(places):
            key, value, _ = records[place]
            try:
                read = self._read(key, value)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(place, exc)
                continue
            if read is not None:
                return place, read
        return None

    def _read(self, key: bytes | str | None, value: bytes | None) -> tuple[str, str, Standing | None] | None:
        """(competition id, cm id, standing or None for a tombstone); None, counted, if unreadable."""
        name = key.decode() if isinstance(key, bytes) else key
        cid, sep, cm_id = (name or "").partition("|")
        if not sep or not cid or not cm_id:
            log.error("readmodel: ignoring standings record with key %r", name)
            self._ignored()
            return None
        standing: Standing | None = None
        if value is not None:
            try:
                standing = Standing.from_dict(read_record(value))
            except (Rejection, ValidationError) as exc:
                log.error("readmodel: ignoring invalid standing %s: %s", name, exc)
                self._ignored()
                return None
        return cid, cm_id, standing

    def _apply(self, cid: str, cm_id: str, standing: Standing | None, at: datetime | None) -> bool:
        contest = self._contests.get(cid)
        if contest is None:
            if standing is None:
                return False
            contest = self._contests[cid] = _Contest()
        changed = False
        if at is not None and at < start_of(self._day) and contest.baseline.get(cm_id) != standing:
            # Written before today began: also how the board stood at the start of the day.
            if standing is None:
                contest.baseline.pop(cm_id, None)
            else:
                contest.baseline[cm_id] = standing
            contest.baseline_revision += 1
            changed = True
        old = contest.standings.get(cm_id)
        if old != standing:
            if standing is None:
                del contest.standings[cm_id]
            else:
                contest.standings[cm_id] = standing
            was = old if contest.listed(cm_id) else None
            if contest.shown is not None and contest.shown_day is not None:
                contest.shown.discard(cm_id)
                if standing is not None and self._takes_part(cid, cm_id, standing, contest.shown_day):
                    contest.shown.add(cm_id)
            now = standing if contest.listed(cm_id) else None
            for index in contest.indexes.values():
                index.put(cm_id, was, now)
            manager_board = contest.indexes.get("customer_manager")
            if manager_board is not None and contest.groups_for is not None:
                manager_board.set_groups(cm_id, self._groups(cm_id, standing, contest.groups_for[0]))
            changed = True
        if not changed:
            return False
        self._bump()
        self._changed[cid] = self.revision
        return True

    def set_competitions(self, versions: list[Competition]) -> bool:
        """Replace the known competition versions (drafts included; they are never listed)."""
        by_key = {(c.id, c.version): c for c in versions}
        if by_key == self._versions:
            return False
        try:
            catalog = Catalog(by_key.values())
        except CoreError as exc:
            log.error("readmodel: keeping the previous competitions: %s", exc)
            return False
        self._versions, self._catalog = by_key, catalog
        self._bump()
        self._all_changed = self.revision
        return True

    def put_org(self, key: bytes | str | None, value: bytes | None) -> bool:
        """One record of the org topic (key "cm_id|unit_kind|effective_from|unit_id", the value a
        canonical org.changed event; None = tombstone). Returns whether anything changed."""
        name = key.decode() if isinstance(key, bytes) else key
        if not name:
            log.error("readmodel: ignoring org record without a key")
            return self._ignored()
        event: OrgChanged | None = None
        if value is not None:
            try:
                read = read_canonical(value)
            except Rejection as exc:
                log.error("readmodel: ignoring invalid org record %s: %s", name, exc)
                return self._ignored()
            if not isinstance(read, OrgChanged):
                log.error("readmodel: ignoring %s record on the org topic (key %s)", read.type, name)
                return self._ignored()
            event = read
        if not self.org.put(name, event):
            return False
        self._org_revision += 1
        self._headcounts.clear()
        self._unit_names = None
        # The manager may have moved: where their rows are listed (the groups) follows.
        cm_id = event.data.cm_id if event is not None else name.split("|", 1)[0]
        for contest in self._contests.values():
            manager_board = contest.indexes.get("customer_manager")
            if manager_board is not None and contest.groups_for is not None:
                day = contest.groups_for[0]
                manager_board.set_groups(cm_id, self._groups(cm_id, contest.standings.get(cm_id), day))
                contest.groups_for = (day, self._org_revision)
        self._bump()
        self._all_changed = self.revision
        return True

    def _ignored(self) -> bool:
        self.invalid += 1
        return False

    def _bump(self) -> bool:
        self.revision += 1
        return True

    def _roll(self) -> None:
        """Past midnight: the standings as they are now are how the new day began."""
        today = day_of(self._clock())
        if today == self._day:
            return
        self._day = today
        for contest in self._contests.values():
            contest.baseline = dict(contest.standings)
            contest.baseline_revision += 1

    # -- reads ------------------------------------------------------------------------------

    @property
    def today(self) -> date:
        self._roll()
        return self._day

    def competitions(self) -> list[Competition]:
        """The version that decides each published or closed competition (the one in force at
        the end of its window), the soonest to end first (the month's contests before the year's)."""
        finals = [self._catalog.final(cid) for cid in self._catalog.ids]
        return sorted(finals, key=lambda c: (c.window.end, c.window.start, c.id))

    def competition(self, competition_id: str) -> Competition:
        if competition_id not in self._catalog.ids:
            raise UnknownCompetition(competition_id)
        return self._catalog.final(competition_id)

    def version(self, competition_id: str, version: int) -> Competition | None:
        """A known version, drafts included."""
        return self._versions.get((competition_id, version))

    def standing(self, competition_id: str, cm_id: str) -> Standing | None:
        self.competition(competition_id)
        contest = self._contests.get(competition_id)
        return contest.standings.get(cm_id) if contest is not None else None

    def standings(self, competition_id: str) -> list[Standing]:
        contest = self._contests.get(competition_id)
        return list(contest.standings.values()) if contest is not None else []

    def changed(self, competition_id: str) -> int:
        """The revision of the last change that can alter this competition's boards."""
        return max(self._changed.get(competition_id, 0), self._all_changed)

    def board_day(self, comp: Competition) -> date:
        """Today while the competition runs (or before it starts), its last day once it has ended."""
        return min(self.today, comp.window.end)

    def headcounts(self, day: date) -> dict[str, int]:
        found = self._headcounts.get(day)
        if found is None:
            found = self._headcounts[day] = self.org.headcounts(day)
        return found

    def unit_names(self) -> dict[str, str]:
        if self._unit_names is None:
            self._unit_names = self.org.unit_names()
        return self._unit_names

    def home(self, cm_id: str, standing: Standing | None, day: date) -> Unit:
        """The manager's sub-branch and team on the day per the org, else where they scored most."""
        unit = self.org.unit_of(cm_id, day)
        if unit != NOWHERE or standing is None or not standing.units:
            return unit
        best = max(standing.units, key=lambda u: u.points)
        return Unit(best.sub_branch_id, best.team_id)

    def _takes_part(self, competition_id: str, cm_id: str, standing: Standing, day: date) -> bool:
        """Whether a manager belongs on a board of a competition with participants: points earned
        in a participating sub-branch, or a home (the org's, on the board day) in one. A manager
        of another sub-branch, whom the worker still reports at 0.00, does not."""
        try:
            participants = self.competition(competition_id).participants
        except UnknownCompetition:
            return True
        if not participants:
            return True
        if any(u.sub_branch_id in participants for u in standing.units):
            return True
        return self.home(cm_id, standing, day).sub_branch_id in participants

    def _members(self, comp: Competition, contest: _Contest, day: date) -> None:
        """Who the competition's boards rank, judged again when the day, the org or the
        participants change; the boards are then rebuilt from the standings."""
        key: tuple[object, ...] = (day, self._org_revision, tuple(comp.participants))
        if not comp.participants:
            key = ()
        if contest.shown_for == key:
            return
        contest.shown_for, contest.shown_day = key, day
        contest.shown = (
            {
                cm_id
                for cm_id, standing in contest.standings.items()
                if self._takes_part(comp.id, cm_id, standing, day)
            }
            if comp.participants
            else None
        )
        contest.indexes.clear()
        contest.base_ranks.clear()
        contest.groups_for = None

    def _groups(self, cm_id: str, standing: Standing | None, day: date) -> tuple[Group, ...]:
        sub_branch, team = self.home(cm_id, standing, day)
        groups: list[Group] = []
        if sub_branch is not None:
            groups.append(("sub_branch", sub_branch))
        if team is not None:
            groups.append(("team", team))
        return tuple(groups)

    def index(self, competition_id: str, ranking: RankingKind) -> tuple[Competition, _Contest, RankedIndex]:
        """The competition's board of that kind, built on first use, then kept up to date."""
        self._roll()
        comp = self.competition(competition_id)
        if ranking not in comp.rankings:
            raise RankingNotOffered(competition_id, ranking, list(comp.rankings))
        contest = self._contests.get(competition_id)
        if contest is None:
            contest = self._contests[competition_id] = _Contest()
        day = self.board_day(comp)
        self._members(comp, contest, day)
        tie_break = tuple(comp.tie_break)
        index = contest.indexes.get(ranking)
        if index is None or index.tie_break != tie_break:
            index = RankedIndex(ranking, tie_break)
            for cm_id, standing in contest.standings.items():
                if contest.listed(cm_id):
                    index.put(cm_id, None, standing)
            contest.indexes[ranking] = index
            if ranking == "customer_manager":
                contest.groups_for = None
        if ranking == "sub_branch_per_head":
            index.set_headcounts(self.headcounts(day))
        if ranking == "customer_manager" and contest.groups_for != (day, self._org_revision):
            for cm_id in index.units():
                index.set_groups(cm_id, self._groups(cm_id, contest.standings.get(cm_id), day))
            contest.groups_for = (day, self._org_revision)
        return comp, contest, index

    def leaderboard(
        self, competition_id: str, ranking: RankingKind, *, on: date | None = None
    ) -> Leaderboard:
        """The whole ranked board; per-head figures divide by the org's headcount on the board
        day (or on day `on`), or by the managers who scored there when the org names nobody."""
        comp, contest, index = self.index(competition_id, ranking)
        if on is not None and ranking == "sub_branch_per_head" and on != self.board_day(comp):
            standings = [s for cm_id, s in contest.standings.items() if contest.listed(cm_id)]
            heads = scoring_headcounts(standings) | self.org.headcounts(on)
            rows = rank(standings, ranking, heads, tie_break=comp.tie_break)
        else:
            rows = index.ranked_rows()
        return Leaderboard(
            comp, ranking, self.revision, rows, self._names(ranking, [r.unit_id for r in rows])
        )

    def _names(self, ranking: RankingKind, units: list[str]) -> dict[str, str]:
        if ranking == "customer_manager":
            return {u: n for u in units if (n := self.org.name(u)) is not None}
        names = self.unit_names()
        return {u: names[u] for u in units if u in names}

    def page(
        self,
        competition_id: str,
        ranking: RankingKind,
        *,
        offset: int = 0,
        limit: int = 50,
        sub_branch: str | None = None,
        team: str | None = None,
    ) -> BoardPage:
        """Rows offset..offset+limit-1 of the board, or of the rows in one sub-branch or team.
        Ranks stay the board's own: a filtered page shows where each row stands overall."""
        comp, contest, index = self.index(competition_id, ranking)
        picked: list[tuple[int, Row]]
        if ranking == "customer_manager" and (sub_branch or team):
            group: Group = ("sub_branch", sub_branch) if sub_branch else ("team", team or "")
            if sub_branch and team:
                day = self.board_day(comp)
                members = index.slice(0, index.count(group), group)
                matched = [
                    (r, row)
                    for r, row in members
                    if self.home(row.unit_id, contest.standings.get(row.unit_id), day).team_id == team
                ]
                count, picked = len(matched), matched[offset : offset + limit]
            else:
                count, picked = index.count(group), index.slice(offset, offset + limit, group)
        elif sub_branch or team:
            matched = [
                (r, row) for r, row in index.ordered() if self._in(contest, ranking, row, sub_branch, team)
            ]
            count, picked = len(matched), matched[offset : offset + limit]
        else:
            count, picked = len(index), index.slice(offset, offset + limit)
        rows = self._decorate(comp, contest, index, picked)
        return BoardPage(comp, ranking, self.revision, self.board_day(comp), count, rows)

    def around(self, competition_id: str, ranking: RankingKind, unit_id: str, size: int = 3) -> Around | None:
        """A row with up to `size` rows listed above and below it; None if it is not on the board."""
        comp, contest, index = self.index(competition_id, ranking)
        position = index.position_of(unit_id)
        if position is None:
            return None
        start = max(0, position - size)
        picked = index.slice(start, position + size + 1)
        rows = self._decorate(comp, contest, index, picked)
        mine = position - start
        return Around(comp, ranking, self.revision, len(index), rows[mine], rows[:mine], rows[mine + 1 :])

    def rank_of(self, competition_id: str, ranking: RankingKind, unit_id: str) -> tuple[int | None, int]:
        """(rank or None, rows on the board)."""
        _, _, index = self.index(competition_id, ranking)
        return index.rank_of(unit_id), len(index)

    def _in(
        self, contest: _Contest, ranking: RankingKind, row: Row, sub_branch: str | None, team: str | None
    ) -> bool:
        if ranking == "team":
            return (team is None or row.unit_id == team) and (
                sub_branch is None or self._team_sub_branch(contest, row) == sub_branch
            )
        return sub_branch is None or row.unit_id == sub_branch

    def _team_sub_branch(self, contest: _Contest, row: Row) -> str | None:
        """The sub-branch where the team's points were earned (most of them)."""
        per: dict[str, Decimal] = {}
        for cm_id in row.parts:
            standing = contest.standings.get(cm_id)
            for unit in standing.units if standing is not None else ():
                if unit.team_id == row.unit_id and unit.sub_branch_id is not None:
                    per[unit.sub_branch_id] = per.get(unit.sub_branch_id, ZERO) + unit.points
        if not per:
            return None
        return max(sorted(per), key=lambda sb: per[sb])

    def _base_ranks(self, comp: Competition, contest: _Contest, index: RankedIndex) -> dict[str, int]:
        """Ranks at the start of the day, on the same terms (tie-breaks, headcounts) as now."""
        ranking = index.ranking
        key = (contest.baseline_revision, index.tie_break, self._org_revision, self.board_day(comp))
        cached = contest.base_ranks.get(ranking)
        if cached is not None and cached[0] == key:
            return cached[1]
        base = RankedIndex(ranking, index.tie_break)
        if ranking == "sub_branch_per_head":
            base.set_headcounts(self.headcounts(self.board_day(comp)))
        for cm_id, standing in contest.baseline.items():
            if contest.listed(cm_id):
                base.put(cm_id, None, standing)
        ranks = base.ranks()
        contest.base_ranks[ranking] = (key, ranks)
        return ranks

    def _progress_of(
        self, comp: Competition, contest: _Contest, cm_id: str, standing: Standing | None
    ) -> list[Progress]:
        """progress_of, remembered until the standing or the competition's version changes."""
        held = contest.progress.get(cm_id)
        if held is not None and held[0] is standing and held[1] is comp:
            return held[2]
        found = progress_of(comp, standing)
        contest.progress[cm_id] = (standing, comp, found)
        return found

    def _decorate(
        self, comp: Competition, contest: _Contest, index: RankedIndex, picked: list[tuple[int, Row]]
    ) -> list[BoardRow]:
        ranking = index.ranking
        base = self._base_ranks(comp, contest, index)
        day = self.board_day(comp)
        unit_names = self.unit_names()
        out = []
        for r, row in picked:
            unit_id = row.unit_id
            before = base.get(unit_id)
            progress: list[Progress] = []
            if ranking == "customer_manager":
                standing = contest.standings.get(unit_id)
                name = self.org.name(unit_id) or unit_id
                sub_branch, team = self.home(unit_id, standing, day)
                progress = self._progress_of(comp, contest, unit_id, standing)
            elif ranking == "team":
                name = unit_names.get(unit_id, unit_id)
                sub_branch, team = self._team_sub_branch(contest, row), unit_id
            else:
                name = unit_names.get(unit_id, unit_id)
                sub_branch, team = unit_id, None
            out.append(
                BoardRow(
                    row=row.ranked(r, ranking),
                    name=name,
                    rank_change=None if before is None else before - r,
                    sub_branch_id=sub_branch,
                    sub_branch_name=unit_names.get(sub_branch, sub_branch) if sub_branch else None,
                    team_id=team,
                    team_name=unit_names.get(team, team) if team else None,
                    progress=progress,
                )
            )
        return out
