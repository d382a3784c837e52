"""Writes to Kafka for the API: events from the HTTP door, dead letters, published rules.
aiokafka's errors stop here."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.control import FREEZE, FreezeNotice, Rescore, competition_key
from schemas.control import HEADER as CONTROL_HEADER
from schemas.dead_letters import DeadLetter
from schemas.topics import Topics
from streams.core.rules import Competition


class PublishError(Exception):
    """Kafka did not take the message; the caller should answer 'try again'."""


class Publisher:
    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._topics = topics
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, request_timeout_ms=15000
        )

    async def start(self) -> None:
        try:
            await self._producer.start()
        except KafkaError as exc:
            raise PublishError(f"cannot reach Kafka: {exc}") from None

    async def stop(self) -> None:
        await self._producer.stop()

    async def raw(self, records: list[tuple[str, bytes]]) -> None:
        """Events for the validation stream, keyed by customer manager; returns once all are stored."""
        try:
            pending = [
                await self._producer.send(self._topics.raw, value=value, key=key.encode())
                for key, value in records
            ]
            for future in pending:
                await future
        except KafkaError as exc:
            raise PublishError(f"Kafka refused the message: {exc}") from None

    async def competition(self, comp: Competition) -> None:
        """Publish a competition version straight away: its record, then every partition's
        control record. For tests and the demo; the API publishes through its outbox
        (services/api/relay.py), which sends the same two parts."""
        await self.version_record(comp.id, comp.version, comp.status, comp.model_dump_json().encode())
        await self.control_records(Rescore(comp.id, comp.version, comp.status))

    async def version_record(self, competition_id: str, version: int, status: str, value: bytes) -> None:
        """A version on the compacted competitions topic, under its own key (schemas/control.py):
        sending it again replaces it with itself."""
        key = competition_key(competition_id, version, status)
        await self._send(self._topics.competitions, key, value, None)

    async def control_records(self, order: Rescore) -> None:
        """Ask every scoring partition to re-score: one control record on each partition of the
        validated topic, sent together, returning once all are stored. A partition that has
        pinned the version already skips a repeat."""
        try:
            partitions = await self._producer.partitions_for(self._topics.validated)
            pending = [
                await self._producer.send(
                    self._topics.validated,
                    value=order.encode(),
                    partition=partition,
                    headers=[(CONTROL_HEADER, b"rescore")],
                )
                for partition in sorted(partitions)
            ]
            for future in pending:
                await future
        except KafkaError as exc:
            raise PublishError(f"Kafka refused the re-score request: {exc}") from None

    async def freeze_notice(self, notice: FreezeNotice) -> None:
        """Tell every scoring partition that a period is frozen (schemas/control.py). Sent again
        for a period frozen before, it changes nothing: a partition keeps the first freeze time."""
        try:
            partitions = await self._producer.partitions_for(self._topics.validated)
            pending = [
                await self._producer.send(
                    self._topics.validated,
                    value=notice.encode(),
                    partition=partition,
                    headers=[(CONTROL_HEADER, FREEZE)],
                )
                for partition in sorted(partitions)
            ]
            for future in pending:
                await future
        except KafkaError as exc:
            raise PublishError(f"Kafka refused the freeze notice: {exc}") from None

    async def dead_letters(self, letters: list[DeadLetter]) -> None:
        """Each letter's bounded copy (`letter.value`: the original may be larger than Kafka takes),
        sent together; returns once all are stored."""
        try:
            pending = [
                await self._producer.send(
                    self._topics.dead_letters, value=letter.value, key=None, headers=letter.headers()
                )
                for letter in letters
            ]
            for future in pending:
                await future
        except KafkaError as exc:
            raise PublishError(f"Kafka refused the message: {exc}") from None

    async def ping(self, timeout: float) -> int:
        """Ask the cluster for its metadata now; the number of brokers that answered for it."""
        try:
            metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout)
        except (KafkaError, TimeoutError) as exc:
            raise PublishError(f"Kafka did not answer: {exc or type(exc).__name__}") from None
        return len(metadata.brokers())

    async def _send(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None
    ) -> None:
        try:
            await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)
        except KafkaError as exc:
            raise PublishError(f"Kafka refused the message: {exc}") from None
