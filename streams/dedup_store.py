"""The event ids dedup has seen, on local disk: one SQLite file per accepted-topic partition.

The files belong to one topic, not to a topic name (streams/topic_files.py): ids seen in a topic
that was deleted and created again must not drop the new one's events.

The file is the fast copy; dedup's changelog topic (streams/dedup_changelog.py) is the one that
moves with the partition. Each file records how far into the changelog it is complete (its
checkpoint), so a worker that takes a partition reads only the changelog's tail; on a machine
that never held the partition, all of it. A primary-key lookup here costs microseconds, where a
year of ids would not fit comfortably in memory.

Each id keeps the offset of its first copy in the accepted topic: a batch read again after a
crash finds its own ids with the same offsets and sends them on again (its transaction had not
committed), while a real second copy sits at another offset. And it keeps when it was first seen
(`seen_at`, epoch milliseconds): ids older than the dedup window (streams/admin.py) are no
longer found, and are pruned, as the changelog's retention drops them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from streams.topic_files import FilesMismatch, FilesNotBound, TopicFiles
from streams.topic_identity import TopicIdentity

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS seen (
        event_id TEXT PRIMARY KEY,
        first_offset INTEGER NOT NULL,
        copies INTEGER NOT NULL DEFAULT 1,
        seen_at INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    # Every changelog record below next_offset is in this file (topic_id: the changelog's Kafka id).
    "CREATE TABLE IF NOT EXISTS changelog (topic_id TEXT NOT NULL, next_offset INTEGER NOT NULL)",
)


def _add_seen_at(db: sqlite3.Connection) -> None:
    """Files made before ids had a time: their ids count as seen when the file is first opened."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(seen)")}
    if "seen_at" not in columns:
        db.execute("ALTER TABLE seen ADD COLUMN seen_at INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE seen SET seen_at = ?", (int(time.time() * 1000),))


class StoreNotBound(FilesNotBound):
    """The store was used before the worker told it which topic it serves."""


class StoreMismatch(FilesMismatch):
    """A file holds the ids of another cluster or topic than its name says; the message says which."""


class DedupStore:
    def __init__(self, directory: Path, topic: str) -> None:
        self._files = TopicFiles(
            directory,
            topic,
            holds="the seen ids",
            remedy="Move it out of the dedup directory and start the worker again.",
            schema=_SCHEMA,
            prepare=_add_seen_at,
            not_bound=StoreNotBound,
            mismatch=StoreMismatch,
        )

    @property
    def topic(self) -> str:
        return self._files.topic

    @property
    def identity(self) -> TopicIdentity | None:
        return self._files.identity

    def bind(self, identity: TopicIdentity) -> None:
        """Serve the ids of this topic (as found in the cluster now) from here on."""
        self._files.bind(identity)

    def path(self, partition: int) -> Path:
        return self._files.path(partition)

    def lookup(self, partition: int, event_ids: Iterable[str], since: int = 0) -> dict[str, tuple[int, int]]:
        """event_id -> (first offset, copies) for the ids seen at `since` (epoch ms) or later."""
        db = self._files.db(partition)
        ids = list(dict.fromkeys(event_ids))
        out: dict[str, tuple[int, int]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                "SELECT event_id, first_offset, copies FROM seen "
                f"WHERE event_id IN ({marks}) AND seen_at >= ?",
                (*chunk, since),
            )
            out.update({eid: (first, copies) for eid, first, copies in rows})
        return out

    def record(self, partition: int, first: dict[str, int], copies: dict[str, int], at: int = 0) -> None:
        """New ids with their first offsets, seen at `at` (epoch ms), and copy counts, in one local
        transaction. An id already here keeps its first offset and time; a count only grows (the
        changelog's tail, read again, may repeat what this file has)."""
        if not first and not copies:
            return
        db = self._files.db(partition)
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO seen (event_id, first_offset, seen_at) VALUES (?, ?, ?)",
                ((e, offset, at) for e, offset in first.items()),
            )
            db.executemany(
                "UPDATE seen SET copies = max(copies, ?) WHERE event_id = ?",
                ((n, e) for e, n in copies.items()),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def checkpoint(self, partition: int, changelog_id: str) -> int:
        """The changelog offset this file is complete to; 0 if it never read that changelog."""
        row = self._files.db(partition).execute("SELECT topic_id, next_offset FROM changelog").fetchone()
        return int(row[1]) if row is not None and row[0] == changelog_id else 0

    def set_checkpoint(self, partition: int, changelog_id: str, offset: int) -> None:
        db = self._files.db(partition)
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM changelog")
            db.execute("INSERT INTO changelog (topic_id, next_offset) VALUES (?, ?)", (changelog_id, offset))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def prune(self, partition: int, before: int) -> int:
        """Forget the ids first seen before `before` (epoch ms); returns how many."""
        cursor = self._files.db(partition).execute("DELETE FROM seen WHERE seen_at < ?", (before,))
        return cursor.rowcount

    def close(self) -> None:
        self._files.close()
