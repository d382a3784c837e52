"""Verify mode (month-end awards): re-score from the raw history with the pure core, list every
difference from the streamed ledger in SQL. `python -m services.verify --competition X`."""

from services.verify.compare import EntryDifference, Report, TotalDifference
from services.verify.service import Period, VerifyError, verify, verify_blocking

__all__ = [
    "EntryDifference",
    "Period",
    "Report",
    "TotalDifference",
    "VerifyError",
    "verify",
    "verify_blocking",
]
