"""The pure scoring core: state + event + rules -> ledger entries. No Kafka, SQL or HTTP here.

The same functions serve the stream, the what-if preview, the rebuild after a rule change and
the month-end verification, so all four agree by construction. The state holds aggregates and
bounded indexes, never events: what it cannot apply exactly raises NeedsRebuild, and `rebuild`
re-scores from the manager's history. See docs/competitions.md.
"""

from streams.core.catalog import Catalog
from streams.core.engine import apply, rebuild, rescore, score_batch, standings
from streams.core.errors import CoreError, NeedsRebuild, RankError, RuleError, StateError
from streams.core.ledger import LedgerEntry, entry_id
from streams.core.ranking import RankedRow, rank, scoring_headcounts
from streams.core.rules import Competition, competition_json_schema, parse_competition
from streams.core.standing import ScorecardFigures, Standing, UnitPoints
from streams.core.state import ParticipantState
from streams.core.templates import load_template, template_names

__all__ = [
    "Catalog",
    "Competition",
    "CoreError",
    "LedgerEntry",
    "NeedsRebuild",
    "ParticipantState",
    "RankError",
    "RankedRow",
    "RuleError",
    "ScorecardFigures",
    "Standing",
    "StateError",
    "UnitPoints",
    "apply",
    "competition_json_schema",
    "entry_id",
    "load_template",
    "parse_competition",
    "rank",
    "rebuild",
    "rescore",
    "score_batch",
    "scoring_headcounts",
    "standings",
    "template_names",
]
