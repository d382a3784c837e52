"""The validated topic's events by manager, on local disk: one SQLite file per partition.

A rebuild needs one manager's past events, and a re-score needs every manager's, one after the
other. Read from Kafka, either means scanning the partition from offset 0 (a year of a big
branch: millions of records, over a gigabyte) for every rebuild, and holding it in memory for a
re-score. Here each event record is kept once, indexed by (manager, offset), so a manager's
history is one range read and a re-score walks the managers one at a time.

The file is a copy of the topic, nothing more: the score stage adds each batch's records before
scoring them (streams/pipeline/history.py), and a file that is missing or behind is filled from
the topic. Records are immutable once committed, so adding a batch that is read again after an
aborted transaction changes nothing. `covered` says how far the copy is complete: every event
record below it is here.

Like dedup's store, a file belongs to one topic, not to a topic name: it is named after the
topic's Kafka id and records the cluster and topic it was made for, so a topic deleted and
created again (a reset) starts with an empty index, never with the old topic's events.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from streams.topic_identity import TopicIdentity

_SCHEMA = (
    # offset as the rowid: records arrive in offset order, so inserts append.
    """CREATE TABLE IF NOT EXISTS events (
        record_offset INTEGER PRIMARY KEY,
        cm_id TEXT NOT NULL,
        value BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_by_manager ON events (cm_id, record_offset)",
    # Each manager's first offset: the managers before an offset without walking the events.
    """CREATE TABLE IF NOT EXISTS managers (
        cm_id TEXT PRIMARY KEY,
        first_offset INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS progress (covered INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS identity (
        cluster_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        topic_id TEXT NOT NULL
    )""",
)

Row = tuple[int, str, bytes]  # offset, manager, value


class IndexNotBound(Exception):
    """The index was used before the score stage told it which topic it copies."""


class IndexMismatch(Exception):
    """A file holds another cluster's or topic's events than its name says; the message says which."""


class HistoryIndex:
    def __init__(self, directory: Path, topic: str) -> None:
        self._directory = directory
        self._topic = topic
        self._identity: TopicIdentity | None = None
        self._dbs: dict[int, sqlite3.Connection] = {}
        self.rows_read = 0  # event records handed out since start-up (tests count them)

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def identity(self) -> TopicIdentity | None:
        return self._identity

    def bind(self, identity: TopicIdentity) -> None:
        """Copy this topic (as found in the cluster now) from here on."""
        if identity.topic != self._topic:
            raise ValueError(f"an index of {self._topic} cannot serve {identity.topic}")
        if identity != self._identity:
            self.close()
            self._identity = identity

    def path(self, partition: int) -> Path:
        if self._identity is None:
            raise IndexNotBound(f"history index of {self._topic} used before bind()")
        return self._directory / f"{self._topic}.{self._identity.topic_id}-{partition}.sqlite3"

    # -- writing ----------------------------------------------------------------------------------

    def add(self, partition: int, rows: Iterable[Row], covered: int | None = None) -> None:
        """Event records (any already here are left as they are); with `covered`, every record
        below it is now here. One local transaction."""
        db = self._db(partition)
        rows = list(rows)
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO events (record_offset, cm_id, value) VALUES (?, ?, ?)", rows
            )
            firsts: dict[str, int] = {}
            for offset, cm_id, _ in rows:
                firsts.setdefault(cm_id, offset)
            db.executemany(
                "INSERT INTO managers (cm_id, first_offset) VALUES (?, ?) ON CONFLICT (cm_id) "
                "DO UPDATE SET first_offset = min(first_offset, excluded.first_offset)",
                firsts.items(),
            )
            if covered is not None:
                db.execute("UPDATE progress SET covered = max(covered, ?)", (covered,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- reading ----------------------------------------------------------------------------------

    def covered(self, partition: int) -> int:
        row = self._db(partition).execute("SELECT covered FROM progress").fetchone()
        return int(row[0])

    def managers(self, partition: int, before: int) -> list[str]:
        """The managers with an event record below `before`, in name order."""
        rows = self._db(partition).execute(
            "SELECT cm_id FROM managers WHERE first_offset < ? ORDER BY cm_id", (before,)
        )
        return [cm_id for (cm_id,) in rows]

    def manager(self, partition: int, cm_id: str, before: int) -> list[bytes]:
        """One manager's event records below `before`, in offset order."""
        rows = self._db(partition).execute(
            "SELECT value FROM events WHERE cm_id = ? AND record_offset < ? ORDER BY record_offset",
            (cm_id, before),
        )
        values = [bytes(value) for (value,) in rows]
        self.rows_read += len(values)
        return values

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()

    # -- the files --------------------------------------------------------------------------------

    def _db(self, partition: int) -> sqlite3.Connection:
        db = self._dbs.get(partition)
        if db is None:
            path = self.path(partition)
            self._directory.mkdir(parents=True, exist_ok=True)
            # check_same_thread off: the score stage reads it from a worker thread (one at a time).
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                # A power cut may lose the newest rows: `covered` goes back with them, and they
                # are read from the topic again.
                db.execute("PRAGMA synchronous=NORMAL")
                for statement in _SCHEMA:
                    db.execute(statement)
                if db.execute("SELECT count(*) FROM progress").fetchone()[0] == 0:
                    db.execute("INSERT INTO progress (covered) VALUES (0)")
                self._check_identity(db, path)
            except BaseException:
                db.close()
                raise
            self._dbs[partition] = db
        return db

    def _check_identity(self, db: sqlite3.Connection, path: Path) -> None:
        assert self._identity is not None
        want = (self._identity.cluster_id, self._identity.topic, self._identity.topic_id)
        rows = db.execute("SELECT cluster_id, topic, topic_id FROM identity").fetchall()
        if not rows:
            db.execute("INSERT INTO identity (cluster_id, topic, topic_id) VALUES (?, ?, ?)", want)
        elif tuple(rows[0]) != want:
            raise IndexMismatch(
                f"{path} holds the events of topic {rows[0][1]} (id {rows[0][2]}) in cluster "
                f"{rows[0][0]}, not of {want[1]} (id {want[2]}) in cluster {want[0]}: the file was "
                "copied or renamed. Delete it (it is rebuilt from the topic) and start the worker again."
            )
