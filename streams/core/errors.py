"""What the scoring core raises.

CoreError
├── RuleError   a competition definition breaks the format (names the field path and why)
├── RankError   a ranking cannot be produced (e.g. a sub-branch without a headcount)
├── StateError  an event was handed to the wrong participant's state, or state JSON is corrupt
└── NeedsRebuild  the state cannot take this event exactly (a balance older than what it folded,
                  or rules changed since the state was built): rebuild it from the history
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error the scoring core raises on purpose."""


class RuleError(CoreError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class RankError(CoreError):
    pass


class StateError(CoreError):
    pass


class NeedsRebuild(CoreError):
    """Raised by `apply` before it changes anything: call `rebuild` with the manager's history."""
