"""What a preview can fail with; plain exceptions, so they cross the process pool intact."""

from __future__ import annotations


class PreviewError(Exception):
    """Base of the preview's refusals."""


class HistoryUnavailable(PreviewError):
    """Kafka could not be read: nothing was previewed, try again."""


class PreviewBusy(PreviewError):
    """Previews already running or waiting on this API process: try again shortly."""


class PreviewFailed(PreviewError):
    """The preview process died (out of memory, killed); it is restarted for the next one."""
