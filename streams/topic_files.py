"""Local SQLite files that belong to one Kafka topic, one file per partition.

A topic deleted and created again under the same name (a reset, a migration) starts its offsets
and its records anew, so what a worker keeps on disk about a topic must belong to the topic, not
to its name. Each file is named after the topic's Kafka id and records the cluster id and topic
id it was made for; the owner binds it to the topic it found (`bind`) before first use, and a file
of another topic is never opened for this one. Dedup's seen ids and the history index both keep
their files this way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from streams.topic_identity import TopicIdentity

_IDENTITY = """
CREATE TABLE IF NOT EXISTS identity (
    cluster_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    topic_id TEXT NOT NULL
)
"""


class FilesNotBound(Exception):
    """The files were used before their owner said which topic they serve."""


class FilesMismatch(Exception):
    """A file holds another cluster's or topic's data than its name says; the message says which."""


class TopicFiles:
    """Per-partition SQLite connections for one topic, opened with `schema` and checked against the
    topic's identity. `holds` names the content and `remedy` what an operator does with a file that
    does not belong (both end up in FilesMismatch's message)."""

    def __init__(
        self,
        directory: Path,
        topic: str,
        *,
        holds: str,
        remedy: str,
        schema: Sequence[str],
        prepare: Callable[[sqlite3.Connection], None] | None = None,
        not_bound: type[FilesNotBound] = FilesNotBound,
        mismatch: type[FilesMismatch] = FilesMismatch,
    ) -> None:
        self._directory = directory
        self._topic = topic
        self._holds = holds
        self._remedy = remedy
        self._schema = schema
        self._prepare = prepare
        self._not_bound = not_bound
        self._mismatch = mismatch
        self._identity: TopicIdentity | None = None
        self._dbs: dict[int, sqlite3.Connection] = {}

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def identity(self) -> TopicIdentity | None:
        return self._identity

    def bind(self, identity: TopicIdentity) -> None:
        """Serve this topic (as found in the cluster now) from here on."""
        if identity.topic != self._topic:
            raise ValueError(f"files of {self._topic} cannot serve {identity.topic}")
        if identity != self._identity:
            self.close()
            self._identity = identity

    def path(self, partition: int) -> Path:
        if self._identity is None:
            raise self._not_bound(f"{self._holds} of {self._topic} used before bind()")
        return self._directory / f"{self._topic}.{self._identity.topic_id}-{partition}.sqlite3"

    def db(self, partition: int) -> sqlite3.Connection:
        db = self._dbs.get(partition)
        if db is None:
            path = self.path(partition)
            self._directory.mkdir(parents=True, exist_ok=True)
            # check_same_thread off: the stages read from a worker thread (one at a time).
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                # NORMAL: a power cut may lose the newest commits. Both owners write before the
                # Kafka transaction that relies on them commits, so what is lost is read again.
                db.execute("PRAGMA synchronous=NORMAL")
                for statement in (*self._schema, _IDENTITY):
                    db.execute(statement)
                if self._prepare is not None:
                    self._prepare(db)
                self._check_identity(db, path)
            except BaseException:
                db.close()
                raise
            self._dbs[partition] = db
        return db

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()

    def _check_identity(self, db: sqlite3.Connection, path: Path) -> None:
        assert self._identity is not None
        want = (self._identity.cluster_id, self._identity.topic, self._identity.topic_id)
        rows = db.execute("SELECT cluster_id, topic, topic_id FROM identity").fetchall()
        if not rows:
            db.execute("INSERT INTO identity (cluster_id, topic, topic_id) VALUES (?, ?, ?)", want)
        elif tuple(rows[0]) != want:
            raise self._mismatch(
                f"{path} holds {self._holds} of topic {rows[0][1]} (id {rows[0][2]}) in cluster "
                f"{rows[0][0]}, not of {want[1]} (id {want[2]}) in cluster {want[0]}: the file was "
                f"copied or renamed. {self._remedy}"
            )
