"""What the sink does with one partition's batch: store every record it can, park the rest.

A record is poison when it cannot become a row (not JSON, not a ledger entry, nested a thousand
levels deep) or when the database refuses its row (StoreDataError, StoreConflict). It is parked
(`parked_records`: where it was, why, a bounded copy) and the batch goes on, so no record can stop
the sink. Anything else is not the record's fault and is raised: StoreUnavailable (the caller
retries the whole batch; every write here is idempotent) or another StoreError (a broken
database, which a restart has to fix).

Synchronous: the runner calls it in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.sink.records import dead_letter_row, describe, ledger_row, parked_row
from services.store import Store, StoreConflict, StoreDataError

log = logging.getLogger("sink")

_REFUSED = (StoreDataError, StoreConflict)


@dataclass
class Outcome:
    stored: int = 0  # records written (or already there: a redelivery)
    parked: int = 0


class Writer:
    def __init__(self, store: Store, ledger_topic: str, keep: int) -> None:
        self._store = store
        self._ledger_topic = ledger_topic
        self._keep = keep  # bytes of a record's value kept in a parked copy or a dead letter

    def write(self, topic: str, records: Sequence[Any]) -> Outcome:
        """One partition's records (aiokafka ConsumerRecords), in offset order."""
        if topic == self._ledger_topic:
            return self._ledger(records)
        return self._dead_letters(records)

    def _ledger(self, records: Sequence[Any]) -> Outcome:
        outcome = Outcome()
        rows: list[tuple[Any, dict[str, Any]]] = []
        for m in records:
            try:
                rows.append((m, ledger_row(m.value)))
            except Exception as exc:
                self._park(m, exc, outcome)
        try:
            self._store.add_ledger_entries([row for _, row in rows])
            outcome.stored += len(rows)
        except _REFUSED:
            # All or nothing per call: one bad row refused the batch. Find it, keep the others.
            for m, row in rows:
                try:
                    self._store.add_ledger_entries([row])
                    outcome.stored += 1
                except _REFUSED as exc:
                    self._park(m, exc, outcome)
        return outcome

    def _dead_letters(self, records: Sequence[Any]) -> Outcome:
        outcome = Outcome()
        for m in records:
            try:
                row = dead_letter_row(
                    m.topic, m.partition, m.offset, m.value, dict(m.headers or ()), self._keep
                )
            except Exception as exc:
                self._park(m, exc, outcome)
                continue
            try:
                self._store.add_dead_letter(**row)
                outcome.stored += 1
            except _REFUSED as exc:
                self._park(m, exc, outcome)
        return outcome

    def _park(self, m: Any, exc: BaseException, outcome: Outcome) -> None:
        reason = describe(exc)
        log.warning("sink: parked %s/%s@%s: %s", m.topic, m.partition, m.offset, reason[:300])
        self._store.park_record(
            **parked_row(m.topic, m.partition, m.offset, m.key, m.value, reason, self._keep)
        )
        outcome.parked += 1
