"""What the month-end layer raises; the API answers each with its own status.

AwardError
├── UnknownPeriod    the competition has no such period (422)
├── PeriodOpen       the period's cutoff (last day + grace_days) has not passed (409)
├── FreezeRefused    the period's data is not complete yet: a stage or the sink lags, or parked
│                    records wait (409, the reasons in the text; services/awards/gate.py)
├── RunNotFound      no award run with this id (404)
└── RunConflict      the run cannot change that way: approved already, or superseded (409)
"""

from __future__ import annotations


class AwardError(Exception):
    pass


class UnknownCompetition(AwardError):
    pass


class UnknownPeriod(AwardError):
    pass


class PeriodOpen(AwardError):
    pass


class FreezeRefused(AwardError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class RunNotFound(AwardError):
    pass


class RunConflict(AwardError):
    pass
