"""The event ids dedup has seen, on local disk: one SQLite file per accepted-topic partition.

The files belong to one topic, not to a topic name: a topic deleted and created again (a reset, a
migration) starts its offsets and its events anew, and ids seen in the old one must not drop the
new one's events. So each file is named after the topic's Kafka id and records the cluster id and
topic id it was made for; the worker binds the store to the topic it found (`bind`) before the
first lookup, and a file of another topic is never opened for this one.

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

from streams.topic_identity import TopicIdentity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    event_id TEXT PRIMARY KEY,
    first_offset INTEGER NOT NULL,
    copies INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID
"""


_IDENTITY = """
CREATE TABLE IF NOT EXISTS identity (
    cluster_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    topic_id TEXT NOT NULL
)
"""


class StoreNotBound(Exception):
    """The store was used before the worker told it which topic it serves."""


class StoreMismatch(Exception):
    """A file holds the ids of another cluster or topic than its name says; the message says which."""


class DedupStore:
    def __init__(self, directory: Path, topic: str) -> None:
        self._directory = directory
        self._topic = topic
        self._identity: TopicIdentity | None = None
        self._dbs: dict[int, sqlite3.Connection] = {}

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def identity(self) -> TopicIdentity | None:
        return self._identity

    def bind(self, identity: TopicIdentity) -> None:
        """Serve the ids of this topic (as found in the cluster now) from here on."""
        if identity.topic != self._topic:
            raise ValueError(f"a store of {self._topic} cannot serve {identity.topic}")
        if identity != self._identity:
            self.close()
            self._identity = identity

    def path(self, partition: int) -> Path:
        if self._identity is None:
            raise StoreNotBound(f"dedup store of {self._topic} used before bind()")
        return self._directory / f"{self._topic}.{self._identity.topic_id}-{partition}.sqlite3"

    def _db(self, partition: int) -> sqlite3.Connection:
        db = self._dbs.get(partition)
        if db is None:
            path = self.path(partition)
            self._directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a power cut may lose the newest commits; those ids' transactions are then
            # replayed too, since the ids are written before the Kafka transaction commits.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            try:
                self._check_identity(db, path)
            except BaseException:
                db.close()
                raise
            self._dbs[partition] = db
        return db

    def _check_identity(self, db: sqlite3.Connection, path: Path) -> None:
        assert self._identity is not None
        want = (self._identity.cluster_id, self._identity.topic, self._identity.topic_id)
        db.execute(_IDENTITY)
        rows = db.execute("SELECT cluster_id, topic, topic_id FROM identity").fetchall()
        if not rows:
            db.execute("INSERT INTO identity (cluster_id, topic, topic_id) VALUES (?, ?, ?)", want)
        elif tuple(rows[0]) != want:
            raise StoreMismatch(
                f"{path} holds the seen ids of topic {rows[0][1]} (id {rows[0][2]}) in cluster "
                f"{rows[0][0]}, not of {want[1]} (id {want[2]}) in cluster {want[0]}: the file was "
                "copied or renamed. Move it out of the dedup directory and start the worker again."
            )

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
