"""The faust application: one app, every topic declared here, agents in streams/agents/."""

from __future__ import annotations

import faust

from streams.settings import StreamSettings

settings = StreamSettings()
topics = settings.topics

app = faust.App(
    settings.app_id,
    broker=f"kafka://{settings.kafka_bootstrap}",
    store=settings.store,
    datadir=settings.data_dir,
    topic_partitions=settings.partitions,
    topic_replication_factor=1,
    consumer_auto_offset_reset="earliest",
    broker_commit_interval=settings.commit_interval_seconds,
    broker_session_timeout=settings.session_timeout_seconds,
    broker_heartbeat_interval=settings.heartbeat_interval_seconds,
    producer_acks=-1,
    web_enabled=False,
    web_bind="127.0.0.1",
    autodiscover=False,
)


def _topic(name: str) -> faust.TopicT:
    # Bytes in, bytes out: the contract's own validator reads them, never a faust codec.
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


raw_topic = _topic(topics.raw)
accepted_topic = _topic(topics.accepted)
validated_topic = _topic(topics.validated)
dead_letter_topic = _topic(topics.dead_letters)
duplicates_topic = _topic(topics.duplicates)
competitions_topic = _topic(topics.competitions)
org_topic = _topic(topics.org)
ledger_topic = _topic(topics.ledger)
standings_topic = _topic(topics.standings)
state_topic = _topic(topics.scoring_state)
