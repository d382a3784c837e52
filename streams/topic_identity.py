"""Which cluster, which topic: the identities Kafka gives them, and each topic's partition count.

A topic deleted and created again under the same name is a different topic to Kafka (a new topic
id, offsets from 0 again); anything kept beside it on disk (dedup's seen ids) must notice.
aiokafka 0.14 asks for metadata at version 5, which predates topic ids (version 10), so this
module sends version 11 itself, through aiokafka's own protocol classes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    AbstractType,
    Array,
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from streams.admin import BrokerUnavailable, admin_client

_NO_TOPIC_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class TopicIdentity:
    cluster_id: str
    topic: str
    topic_id: str
    partitions: int
    replicas: int  # of partition 0: what the topic was created with


class _Uuid(AbstractType[uuid.UUID]):  # type: ignore[misc]
    @classmethod
    def encode(cls, value: uuid.UUID) -> bytes:
        return value.bytes

    @classmethod
    def decode(cls, data: BytesIO) -> uuid.UUID:
        raw = data.read(16)
        if len(raw) != 16:
            raise ValueError("Buffer underrun decoding a UUID")
        return uuid.UUID(bytes=raw)


def _compact_ints() -> Array:
    return CompactArray(Int32)


class _MetadataResponse_v11(Response):  # type: ignore[misc]
    API_KEY = 3
    API_VERSION = 11
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "brokers",
            CompactArray(
                ("node_id", Int32),
                ("host", CompactString("utf-8")),
                ("port", Int32),
                ("rack", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("cluster_id", CompactString("utf-8")),
        ("controller_id", Int32),
        (
            "topics",
            CompactArray(
                ("error_code", Int16),
                ("name", CompactString("utf-8")),
                ("topic_id", _Uuid),
                ("is_internal", Boolean),
                (
                    "partitions",
                    CompactArray(
                        ("error_code", Int16),
                        ("partition_index", Int32),
                        ("leader_id", Int32),
                        ("leader_epoch", Int32),
                        ("replica_nodes", _compact_ints()),
                        ("isr_nodes", _compact_ints()),
                        ("offline_replicas", _compact_ints()),
                        ("tags", TaggedFields),
                    ),
                ),
                ("topic_authorized_operations", Int32),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _MetadataRequest_v11(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 3
    API_VERSION = 11
    RESPONSE_TYPE = _MetadataResponse_v11
    SCHEMA = Schema(
        (
            "topics",
            CompactArray(("topic_id", _Uuid), ("name", CompactString("utf-8")), ("tags", TaggedFields)),
        ),
        ("allow_auto_topic_creation", Boolean),
        ("include_topic_authorized_operations", Boolean),
        ("tags", TaggedFields),
    )


class _TopicMetadata(Request[_MetadataRequest_v11]):  # type: ignore[misc]
    API_KEY = 3

    def __init__(self, topics: list[str]) -> None:
        self._topics = topics

    def build(self, request_struct_class: type[_MetadataRequest_v11]) -> _MetadataRequest_v11:
        return request_struct_class([(_NO_TOPIC_ID, name, {}) for name in self._topics], False, False, {})


async def describe(bootstrap: str, names: list[str]) -> dict[str, TopicIdentity]:
    """The named topics that exist, by name; a topic that does not exist is left out."""
    async with admin_client(bootstrap) as admin:
        try:
            response = await admin._send_request(_TopicMetadata(names))
        except KafkaError as exc:
            raise BrokerUnavailable(f"cannot read topic metadata: {exc}") from None
    return identities(response.to_object())


def identities(metadata: dict[str, Any]) -> dict[str, TopicIdentity]:
    cluster_id = metadata["cluster_id"] or ""
    out: dict[str, TopicIdentity] = {}
    for topic in metadata["topics"]:
        if topic["error_code"] or topic["topic_id"] == _NO_TOPIC_ID:
            continue
        partitions = sorted(topic["partitions"], key=lambda p: p["partition_index"])
        out[topic["name"]] = TopicIdentity(
            cluster_id=cluster_id,
            topic=topic["name"],
            topic_id=str(topic["topic_id"]),
            partitions=len(partitions),
            replicas=len(partitions[0]["replica_nodes"]) if partitions else 0,
        )
    return out
