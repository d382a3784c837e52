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

from streams.topic_files import FilesMismatch, FilesNotBound, TopicFiles
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
)

Row = tuple[int, str, bytes]  # offset, manager, value


class IndexNotBound(FilesNotBound):
    """The index was used before the score stage told it which topic it copies."""


class IndexMismatch(FilesMismatch):
    """A file holds another cluster's or topic's events than its name says; the message says which."""


def _start_progress(db: sqlite3.Connection) -> None:
    if db.execute("SELECT count(*) FROM progress").fetchone()[0] == 0:
        db.execute("INSERT INTO progress (covered) VALUES (0)")


class HistoryIndex:
    def __init__(self, directory: Path, topic: str) -> None:
        self._files = TopicFiles(
            directory,
            topic,
            holds="the events",
            remedy="Delete it (it is rebuilt from the topic) and start the worker again.",
            schema=_SCHEMA,
            prepare=_start_progress,
            not_bound=IndexNotBound,
            mismatch=IndexMismatch,
        )
        self.rows_read = 0  # event records handed out since start-up (tests count them)

    @property
    def topic(self) -> str:
        return self._files.topic

    @property
    def identity(self) -> TopicIdentity | None:
        return self._files.identity

    def bind(self, identity: TopicIdentity) -> None:
        """Copy this topic (as found in the cluster now) from here on."""
        self._files.bind(identity)

    def path(self, partition: int) -> Path:
        return self._files.path(partition)

    # -- writing ----------------------------------------------------------------------------------

    def add(self, partition: int, rows: Iterable[Row], covered: int | None = None) -> None:
        """Event records (any already here are left as they are); with `covered`, every record
        below it is now here. One local transaction."""
        db = self._files.db(partition)
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
        row = self._files.db(partition).execute("SELECT covered FROM progress").fetchone()
        return int(row[0])

    def managers(self, partition: int, before: int) -> list[str]:
        """The managers with an event record below `before`, in name order."""
        rows = self._files.db(partition).execute(
            "SELECT cm_id FROM managers WHERE first_offset < ? ORDER BY cm_id", (before,)
        )
        return [cm_id for (cm_id,) in rows]

    def manager(self, partition: int, cm_id: str, before: int) -> list[bytes]:
        """One manager's event records below `before`, in offset order."""
        rows = self._files.db(partition).execute(
            "SELECT value FROM events WHERE cm_id = ? AND record_offset < ? ORDER BY record_offset",
            (cm_id, before),
        )
        values = [bytes(value) for (value,) in rows]
        self.rows_read += len(values)
        return values

    def close(self) -> None:
        self._files.close()
