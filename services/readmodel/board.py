"""The read model's memory, with no I/O: the newest standing per key, the known competitions,
the org directory (names, headcounts), and a revision that grows on every change (what a push
channel will resume from).

Ranking itself is the core's (`streams.core.ranking`); this only picks the standings to rank.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pydantic import ValidationError

from schemas.errors import Rejection
from schemas.events import OrgChanged
from schemas.validate import read_canonical
from schemas.wire_json import load_json
from services.readmodel.errors import RankingNotOffered, UnknownCompetition
from services.readmodel.org import OrgDirectory
from streams.core.calendar import day_of
from streams.core.catalog import Catalog
from streams.core.errors import CoreError
from streams.core.ranking import RankedRow, rank, scoring_headcounts
from streams.core.rules import Competition, RankingKind
from streams.core.standing import Standing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Leaderboard:
    competition: Competition
    ranking: RankingKind
    revision: int
    rows: list[RankedRow]
    names: dict[str, str] = field(default_factory=dict)  # managers' display names, by cm id

    def name_of(self, row: RankedRow) -> str:
        """What a screen shows for the row: the manager's name, else the unit's id."""
        return self.names.get(row.unit_id, row.unit_id)


class Board:
    def __init__(self) -> None:
        self._standings: dict[str, dict[str, Standing]] = {}  # competition id -> cm id -> standing
        self._versions: dict[tuple[str, int], Competition] = {}
        self._catalog = Catalog([])
        self.org = OrgDirectory()
        self.revision = 0
        self.invalid = 0  # records ignored because they could not be read (poison)

    # -- writes -----------------------------------------------------------------------------

    def put(self, key: bytes | str | None, value: bytes | None) -> bool:
        """One record of the standings topic (key "competition_id|cm_id"; None = tombstone).

        Returns whether anything changed: the worker re-sends unchanged snapshots, and those
        must not wake every screen."""
        name = key.decode() if isinstance(key, bytes) else key
        cid, sep, cm_id = (name or "").partition("|")
        if not sep or not cid or not cm_id:
            log.error("readmodel: ignoring standings record with key %r", name)
            return self._ignored()
        held = self._standings.get(cid, {})
        if value is None:
            if held.pop(cm_id, None) is None:
                return False
            if not held:
                self._standings.pop(cid, None)
            return self._bump()
        try:
            standing = Standing.from_dict(load_json(value))
        except (Rejection, ValidationError) as exc:
            log.error("readmodel: ignoring invalid standing %s: %s", name, exc)
            return self._ignored()
        if held.get(cm_id) == standing:
            return False
        self._standings.setdefault(cid, {})[cm_id] = standing
        return self._bump()

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
        return self._bump()

    def put_org(self, key: bytes | str | None, value: bytes | None) -> bool:
        """One record of the org topic (key "cm_id|unit_kind|effective_from|unit_id", the value a
        canonical org.changed event; None = tombstone). Returns whether anything changed."""
        name = key.decode() if isinstance(key, bytes) else key
        if not name:
            log.error("readmodel: ignoring org record without a key")
            return self._ignored()
        if value is None:
            return self.org.put(name, None) and self._bump()
        try:
            event = read_canonical(value)
        except Rejection as exc:
            log.error("readmodel: ignoring invalid org record %s: %s", name, exc)
            return self._ignored()
        if not isinstance(event, OrgChanged):
            log.error("readmodel: ignoring %s record on the org topic (key %s)", event.type, name)
            return self._ignored()
        return self.org.put(name, event) and self._bump()

    def _ignored(self) -> bool:
        self.invalid += 1
        return False

    def _bump(self) -> bool:
        self.revision += 1
        return True

    # -- reads ------------------------------------------------------------------------------

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
        return self._standings.get(competition_id, {}).get(cm_id)

    def standings(self, competition_id: str) -> list[Standing]:
        return list(self._standings.get(competition_id, {}).values())

    def leaderboard(
        self, competition_id: str, ranking: RankingKind, *, on: date | None = None
    ) -> Leaderboard:
        """The ranked board; per-head figures divide by the org's headcount on day `on` (default
        today in Shanghai), or by the managers who scored there when the org names nobody."""
        comp = self.competition(competition_id)
        if ranking not in comp.rankings:
            raise RankingNotOffered(competition_id, ranking, list(comp.rankings))
        standings = self.standings(competition_id)
        headcounts = None
        if ranking == "sub_branch_per_head":
            day = on if on is not None else day_of(datetime.now(UTC))
            headcounts = scoring_headcounts(standings) | self.org.headcounts(day)
        rows = rank(standings, ranking, headcounts, tie_break=comp.tie_break)
        names: dict[str, str] = {}
        if ranking == "customer_manager":
            names = {r.unit_id: n for r in rows if (n := self.org.name(r.unit_id)) is not None}
        return Leaderboard(comp, ranking, self.revision, rows, names)
