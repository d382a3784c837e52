"""Manual adjustments from the organisers' console: the request, the points.adjusted events it
becomes (a split is two), and the adjustment entries of the SQL ledger."""

from services.adjustments.ledger import adjustment_entries
from services.adjustments.request import AdjustmentRequest, Split, events_for

__all__ = ["AdjustmentRequest", "Split", "adjustment_entries", "events_for"]
