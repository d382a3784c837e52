"""Compact JSON forms for the state: instants as epoch microseconds (exact, and short once
compressed), units as [sub_branch, team]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.envelope import SHANGHAI

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Exact, unlike timestamp(): floats cannot order two instants a microsecond apart reliably."""
    return (moment - EPOCH) // ONE_US


def moment_of(us: int) -> datetime:
    return (EPOCH + timedelta(microseconds=us)).astimezone(SHANGHAI)
