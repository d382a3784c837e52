"""The event ids dedup has seen, on local disk: one SQLite file per accepted-topic partition.

The files belong to one topic, not to a topic name (streams/topic_files.py): ids seen in a topic
that was deleted and created again must not drop the new one's events.

A year of ids (tens of millions) neither fits comfortably in memory nor should be replayed from
a changelog at every start; a primary-key lookup in SQLite costs microseconds and the file is
there at once after a restart. Each id keeps the offset of its first copy in the accepted topic:
a batch read again after a crash finds its own ids with the same offsets and sends them on again
(its transaction had not committed), while a real second copy sits at another offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from streams.topic_files import FilesMismatch, FilesNotBound, TopicFiles
from streams.topic_identity import TopicIdentity

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS seen (
        event_id TEXT PRIMARY KEY,
        first_offset INTEGER NOT NULL,
        copies INTEGER NOT NULL DEFAULT 1
    ) WITHOUT ROWID""",
)


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

    def lookup(self, partition: int, event_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """event_id -> (first offset, copies) for the ids already seen."""
        db = self._files.db(partition)
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
        db = self._files.db(partition)
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
        self._files.close()
