"""Settings, read once from the environment (prefix CAMPAIGNS_) when a process starts.

`SharedSettings` holds what the worker and the services must agree on (broker, topic names,
validation limits); each process type adds its own fields."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas import Limits
from schemas.topics import Topics
from streams.replication import Replication


class SharedSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMPAIGNS_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    app_id: str = "campaigns"
    partitions: int = 4
    # How many brokers hold each partition, and how many of them must have a write before it
    # counts (producers send with acks=all). 1 and 1 fit the single local broker; a three-broker
    # cluster wants 3 and 2, so one broker can be lost without losing a write or stopping writes.
    replication_factor: int = 1
    min_insync_replicas: int = 1
    max_message_bytes: int = 64 * 1024
    max_future_seconds: int = 300

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def replication(self) -> Replication:
        return Replication(self.replication_factor, self.min_insync_replicas)

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_message_bytes, max_future=timedelta(seconds=self.max_future_seconds))


class StreamSettings(SharedSettings):
    """The faust worker's settings."""

    # The batched loops (streams/pipeline): at most this many records per partition batch, and
    # at most this long waiting for a batch to fill once the first record is there.
    batch_max_records: int = 4000
    batch_wait_ms: int = 20
    # Names this worker to the broker (its consumers' client id). The transactional ids are per
    # input partition, not per worker (streams/pipeline/loop.py). Default: derived from the data
    # directory, which is the worker's own.
    worker_id: str = ""
    # The score stage stores its changed states at checkpoints (streams/pipeline/checkpoints.py):
    # during traffic once they are this old (0: after every batch), and for a partition with no
    # batch for `state_idle_seconds`. A worker taking a partition scores again at most about
    # `state_checkpoint_seconds` of its records.
    state_checkpoint_seconds: float = Field(default=5.0, ge=0, le=300)
    state_idle_seconds: float = Field(default=1.0, ge=0, le=60)
    transaction_timeout_ms: int = 30_000
    # Where dedup keeps its local copy of the event ids it has seen: one SQLite file per
    # accepted-topic partition, named after the topic's Kafka id. A cache of the changelog topic
    # (streams/dedup_changelog.py): a partition new to this directory is restored from Kafka.
    dedup_dir: str = ".run/dedup"
    # The score stage's history index (streams/history_index.py): one SQLite file per validated
    # partition, a copy of the topic by manager, rebuilt from the topic when missing. Empty: the
    # "history" folder of data_dir.
    history_dir: str = ""
    # The worker's /healthz and /readyz (streams/health.py); 0 = not served. 0.0.0.0 in a
    # container, where the orchestrator's probes come from outside the pod.
    health_host: str = "127.0.0.1"
    health_port: int = 0
    # Kill tests only: "<point>:<n>" SIGKILLs the worker at that point (streams/pipeline/fault.py).
    fault: str = ""

    @property
    def dedup_path(self) -> Path:
        return Path(self.dedup_dir)

    @property
    def history_path(self) -> Path:
        return Path(self.history_dir) if self.history_dir else Path(self.data_dir) / "history"

    data_dir: str = ".run/worker"
    # A SIGKILLed worker stays in its consumer group until this expires; its partitions (and
    # their scoring) wait that long for a replacement. faust's default is 60 s.
    session_timeout_seconds: float = 10.0
    heartbeat_interval_seconds: float = 3.0

    @property
    def worker_name(self) -> str:
        if self.worker_id:
            return self.worker_id
        digest = hashlib.sha1(str(Path(self.data_dir).resolve()).encode()).hexdigest()[:10]
        return f"{socket.gethostname()}-{digest}"
