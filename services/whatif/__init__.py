"""What-if preview: a draft competition scored over the real history beside its published
version, in a process of its own, never touching live standings (docs/what-if-and-adjustments.md)."""

from services.whatif.errors import HistoryUnavailable, PreviewBusy, PreviewError, PreviewFailed
from services.whatif.pool import PreviewPool
from services.whatif.run import PreviewJob, finish, preview, score_part

__all__ = [
    "HistoryUnavailable",
    "PreviewBusy",
    "PreviewError",
    "PreviewFailed",
    "PreviewJob",
    "PreviewPool",
    "finish",
    "preview",
    "score_part",
]
