"""The faust application: the worker's CLI, life cycle and logging. The pipeline it runs is
streams/worker.py (batched loops on aiokafka; see streams/pipeline/loop.py for why)."""

from __future__ import annotations

import faust

from streams.settings import StreamSettings

settings = StreamSettings()
topics = settings.topics

app = faust.App(
    settings.app_id,
    broker=f"kafka://{settings.kafka_bootstrap}",
    store="memory://",  # faust keeps no tables here: state lives in score.state and dedup's store
    datadir=settings.data_dir,
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    producer_acks=-1,
    # faust's own consumer group (its leader-assignor topic) must let a SIGKILLed worker's
    # successor in as soon as our loops' groups do; faust's default session timeout is 60 s.
    broker_session_timeout=settings.session_timeout_seconds,
    broker_heartbeat_interval=settings.heartbeat_interval_seconds,
    web_enabled=False,
    web_bind="127.0.0.1",
    autodiscover=False,
)
