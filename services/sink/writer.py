"""What the sink does with a batch: store every record it can, park the rest.

A batch (every partition's records from one poll) is written in one transaction, ledger entries
and dead letters together: a few database round trips and one commit for hundreds of records.
Only when the database refuses it is it written again the slow way, record by record, to find
the record at fault.

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
from collections.abc import Iterable, Sequence
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
        return self.write_batch([(topic, records)])

    def write_batch(self, parts: Iterable[tuple[str, Sequence[Any]]]) -> Outcome:
        """Every partition's records from one poll, as (topic, records in offset order)."""
        outcome = Outcome()
        entries: list[dict[str, Any]] = []
        letters: list[dict[str, Any]] = []
        rows: list[tuple[Any, bool, dict[str, Any]]] = []  # (record, is a ledger entry, its row)
        for topic, records in parts:
            ledger = topic == self._ledger_topic
            for m in records:
                try:
                    row = ledger_row(m.value) if ledger else self._dead_letter_row(m)
                except Exception as exc:
                    self._park(m, exc, outcome)
                    continue
                (entries if ledger else letters).append(row)
                rows.append((m, ledger, row))
        if not rows:
            return outcome
        try:
            self._store.add_sink_batch(entries, letters)
            outcome.stored += len(rows)
        except _REFUSED:
            # All or nothing: one row refused the batch. Find it, keep the others.
            for m, ledger, row in rows:
                self._store_one(m, ledger, row, outcome)
        return outcome

    def _dead_letter_row(self, m: Any) -> dict[str, Any]:
        return dead_letter_row(m.topic, m.partition, m.offset, m.value, dict(m.headers or ()), self._keep)

    def _store_one(self, m: Any, ledger: bool, row: dict[str, Any], outcome: Outcome) -> None:
        try:
            if ledger:
                self._store.add_ledger_entries([row])
            else:
                self._store.add_dead_letter(**row)
            outcome.stored += 1
        except _REFUSED as exc:
            self._park(m, exc, outcome)

    def _park(self, m: Any, exc: BaseException, outcome: Outcome) -> None:
        reason = describe(exc)
        log.warning("sink: parked %s/%s@%s: %s", m.topic, m.partition, m.offset, reason[:300])
        self._store.park_record(
            **parked_row(m.topic, m.partition, m.offset, m.key, m.value, reason, self._keep)
        )
        outcome.parked += 1
