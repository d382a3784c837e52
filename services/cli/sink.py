"""Where checked rows go: a small port, and its Kafka adapter."""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from schemas.dead_letters import DeadLetter
from services.cli.errors import BrokerError


class Sink(Protocol):
    async def send(self, key: bytes, value: bytes) -> None:
        """An accepted event."""
        ...

    async def dead_letter(self, letter: DeadLetter) -> None:
        """A rejected row: a bounded copy of its raw bytes, with the reason and where it came from."""
        ...

    async def close(self) -> None:
        """Wait until everything sent is stored, then let go. Raises BrokerError if it is not."""
        ...


class KafkaSink:
    """Produces events to one topic and dead letters to another, with one producer: idempotently
    and acknowledged by all in-sync replicas."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, dead_letter_topic: str, *, window: int = 1000
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._dead_letter_topic = dead_letter_topic
        self._window = window  # confirmations awaited in batches: fast, and memory stays bounded
        self._pending: list[tuple[str, asyncio.Future[object]]] = []
        self.delivered = 0
        self.dead_lettered = 0

    @classmethod
    async def connect(cls, bootstrap: str, topic: str, dead_letter_topic: str) -> KafkaSink:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="campaigns-load",
            acks="all",
            enable_idempotence=True,
        )
        try:
            await producer.start()
        except (KafkaError, OSError) as exc:
            await producer.stop()
            raise BrokerError(f"cannot reach Kafka at {bootstrap}: {exc}") from None
        return cls(producer, topic, dead_letter_topic)

    async def send(self, key: bytes, value: bytes) -> None:
        await self._produce(self._topic, key, value, None)

    async def dead_letter(self, letter: DeadLetter) -> None:
        # No key, as the other doors: a dead letter belongs to no manager, it waits for a person.
        await self._produce(self._dead_letter_topic, None, letter.value, letter.headers())

    async def close(self) -> None:
        try:
            await self._confirm()
        finally:
            await self._producer.stop()

    async def _produce(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None
    ) -> None:
        try:
            future = await self._producer.send(topic, value=value, key=key, headers=headers)
        except KafkaError as exc:
            raise self._failed(topic, exc) from None
        self._pending.append((topic, future))
        if len(self._pending) >= self._window:
            await self._confirm()

    async def _confirm(self) -> None:
        pending, self._pending = self._pending, []
        # return_exceptions: every outcome is collected, so no failed future goes unretrieved.
        outcomes = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
        failure: tuple[str, BaseException] | None = None
        for (topic, _), outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                failure = failure or (topic, outcome)
            elif topic == self._topic:
                self.delivered += 1
            else:
                self.dead_lettered += 1
        if failure is not None:
            topic, exc = failure
            if not isinstance(exc, KafkaError):
                raise exc
            raise self._failed(topic, exc)

    def _failed(self, topic: str, exc: KafkaError) -> BrokerError:
        return BrokerError(
            f"Kafka did not confirm a write to {topic} ({exc}); {self.delivered} events and "
            f"{self.dead_lettered} dead letters were confirmed before it. "
            "Loading the file again is safe: event_id is the idempotency key."
        )
