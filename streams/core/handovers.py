"""Closings passed back to the manager who opened the account (after a transfer).

An opening's points stay with the manager who opened it, and a closing within the clawback days
takes them back, whichever manager the closing names. Records are keyed by manager, so a closing
reported under the new manager never reaches the opener's history by itself. A transfer into a
manager names each account's opener (`opened_by_cm_id`); this manager's state keeps those openers
and the closings reported under their name. When both are known, whichever arrived first, the
closing is passed on: a copy of it for the opener, with an id made from the closing's and the
opener's (`passed_id`), which the scoring stage writes to the validated topic in the same
transaction as the state that knows it. The copy is then part of the opener's history like any
event, so rebuilds, re-scores and verify see it; written twice (a replayed batch), it has the same
id and counts once. Whether it claws anything back is the opener's rules' business, not this one's.

Pure and rule-free: which copies exist depends on the events only, never on a competition.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from schemas.envelope import Envelope
from schemas.events import AccountClosed, AccountClosedData, CustomerTransferred
from schemas.vocabulary import CloseKind
from streams.core.compact import micros, moment_of

PASSED_SOURCE = "transfer-handover"  # the source of a passed copy: never passed on again
MAX_ID = 128


def passed_id(closing_id: str, opener: str) -> str:
    """The passed copy's event id: the same for the same closing and opener, wherever it is made."""
    candidate = f"{closing_id}:to:{opener}"
    if len(candidate) <= MAX_ID:
        return candidate
    digest = hashlib.sha256(f"{closing_id}|{opener}".encode()).hexdigest()[:32]
    return f"handover:{digest}:to:{opener}"[:MAX_ID]


class Handovers:
    """Per account: the openers named by transfers into this manager, and the closings reported
    under this manager's name (kept so a transfer arriving after its closing still passes it)."""

    def __init__(self) -> None:
        self.openers: dict[str, set[str]] = {}
        # account -> closing event id -> (occurred_at µs, customer_id, kind)
        self.closings: dict[str, dict[str, tuple[int, str, str]]] = {}

    def add(self, event: Envelope, cm_id: str) -> None:
        if isinstance(event, CustomerTransferred) and event.data.cm_id == cm_id:
            for account in event.data.accounts:
                opener = account.opened_by_cm_id
                if opener is not None and opener != cm_id:
                    self.openers.setdefault(account.account_id, set()).add(opener)
        elif isinstance(event, AccountClosed) and event.data.cm_id == cm_id and event.source != PASSED_SOURCE:
            d = event.data
            self.closings.setdefault(d.account_id, {})[event.event_id] = (
                micros(event.occurred_at),
                d.customer_id,
                d.kind.value,
            )

    def passed(self, event: Envelope, cm_id: str) -> list[AccountClosed]:
        """The copies this event completes (an event already added); [] for most events."""
        if isinstance(event, AccountClosed):
            accounts = [event.data.account_id]
        elif isinstance(event, CustomerTransferred) and event.data.cm_id == cm_id:
            accounts = [a.account_id for a in event.data.accounts]
        else:
            return []
        out = []
        for account in accounts:
            for opener in sorted(self.openers.get(account, ())):
                for closing_id, (us, customer, kind) in sorted(self.closings.get(account, {}).items()):
                    if isinstance(event, AccountClosed) and closing_id != event.event_id:
                        continue
                    out.append(_copy(closing_id, moment_of(us), account, customer, opener, kind))
        return out

    def to_list(self) -> list[Any]:
        return [
            [[a, sorted(cms)] for a, cms in sorted(self.openers.items())],
            [
                [a, eid, *mark]
                for a, closings in sorted(self.closings.items())
                for eid, mark in closings.items()
            ],
        ]

    @classmethod
    def from_list(cls, raw: list[Any] | None) -> Handovers:
        out = cls()
        if raw:
            openers, closings = raw
            out.openers = {str(a): set(cms) for a, cms in openers}
            for a, eid, us, customer, kind in closings:
                out.closings.setdefault(str(a), {})[str(eid)] = (int(us), str(customer), str(kind))
        return out

    def __bool__(self) -> bool:
        return bool(self.openers or self.closings)


def _copy(
    closing_id: str, at: datetime, account: str, customer: str, opener: str, kind: str
) -> AccountClosed:
    return AccountClosed(
        event_id=passed_id(closing_id, opener),
        schema_version=1,
        occurred_at=at,
        source=PASSED_SOURCE,
        data=AccountClosedData(account_id=account, customer_id=customer, cm_id=opener, kind=CloseKind(kind)),
    )
