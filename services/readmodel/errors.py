"""What the read model refuses to answer; the routes turn these into HTTP statuses.

ReadModelError
├── UnknownCompetition   no published or closed version of this competition is known (404)
└── RankingNotOffered    the competition does not publish that leaderboard (422)
"""

from __future__ import annotations


class ReadModelError(Exception):
    """Base of the read model's own errors."""


class UnknownCompetition(ReadModelError):
    def __init__(self, competition_id: str) -> None:
        super().__init__(f"unknown competition {competition_id!r}")
        self.competition_id = competition_id


class RankingNotOffered(ReadModelError):
    def __init__(self, competition_id: str, ranking: str, offered: list[str]) -> None:
        super().__init__(
            f"competition {competition_id!r} has no {ranking!r} leaderboard; it offers {', '.join(offered)}"
        )
        self.ranking = ranking
        self.offered = offered
