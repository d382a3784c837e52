"""The API replica's in-memory read model of standings and competitions (see model.py)."""

from services.readmodel.board import Board, Leaderboard
from services.readmodel.errors import RankingNotOffered, ReadModelError, UnknownCompetition
from services.readmodel.model import ReadModel

__all__ = ["Board", "Leaderboard", "RankingNotOffered", "ReadModel", "ReadModelError", "UnknownCompetition"]
