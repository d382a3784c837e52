"""The event ids dedup has seen, on local disk: one SQLite file per accepted-topic partition.

A year of ids (tens of millions) neither fits comfortably in memory nor should be replayed from
a changelog at every start; a primary-key lookup in SQLite costs microseconds and the file is
there at once after a restart. Each id keeps the offset of its first copy in the accepted topic:
a batch read again after a crash finds its own ids with the same offsets and sends them on again
(its transaction had not committed), while a real second copy sits at another offset.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    event_id TEXT PRIMARY KEY,
    first_offset INTEGER NOT NULL,
    copies INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID
"""


class DedupStore:
    def __init__(self, directory: Path, topic: str) -> None:
        self._directory = directory
        self._topic = topic
        self._dbs: dict[int, sqlite3.Connection] = {}

    def _db(self, partition: int) -> sqlite3.Connection:
        db = self._dbs.get(partition)
        if db is None:
            self._directory.mkdir(parents=True, exist_ok=True)
            path = self._directory / f"{self._topic}-{partition}.sqlite3"
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a power cut may lose the newest commits; those ids' transactions are then
            # replayed too, since the ids are written before the Kafka transaction commits.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            self._dbs[partition] = db
        return db

    def lookup(self, partition: int, event_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """event_id -> (first offset, copies) for the ids already seen."""
        db = self._db(partition)
        ids = list(dict.fromkeys(event_ids))
        out: dict[str, tuple[int, int]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT event_id, first_offset, copies FROM seen WHERE event_id IN ({marks})", chunk
            )
            out.update({eid: (first, copies) for eid, first, copies in rows})
        return out

    def record(self, partition: int, first: dict[str, int], copies: dict[str, int]) -> None:
        """New ids with their first offsets, and new copy counts, in one local transaction."""
        if not first and not copies:
            return
        db = self._db(partition)
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR IGNORE INTO seen (event_id, first_offset) VALUES (?, ?)", first.items())
            db.executemany(
                "UPDATE seen SET copies = ? WHERE event_id = ?", ((n, e) for e, n in copies.items())
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
