"""Where accepted events go: a small port, and its Kafka adapter."""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.cli.errors import BrokerError


class Sink(Protocol):
    async def send(self, key: bytes, value: bytes) -> None: ...

    async def close(self) -> None:
        """Wait until everything sent is stored, then let go. Raises BrokerError if it is not."""
        ...


class KafkaSink:
    """Produces to one topic, idempotently and acknowledged by all in-sync replicas."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, *, window: int = 1000) -> None:
        self._producer = producer
        self._topic = topic
        self._window = window  # confirmations awaited in batches: fast, and memory stays bounded
        self._pending: list[asyncio.Future[object]] = []
        self.delivered = 0

    @classmethod
    async def connect(cls, bootstrap: str, topic: str) -> KafkaSink:
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
        return cls(producer, topic)

    async def send(self, key: bytes, value: bytes) -> None:
        try:
            self._pending.append(await self._producer.send(self._topic, value=value, key=key))
        except KafkaError as exc:
            raise self._failed(exc) from None
        if len(self._pending) >= self._window:
            await self._confirm()

    async def close(self) -> None:
        try:
            await self._confirm()
        finally:
            await self._producer.stop()

    async def _confirm(self) -> None:
        pending, self._pending = self._pending, []
        # return_exceptions: every outcome is collected, so no failed future goes unretrieved.
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        self.delivered += len(outcomes) - len(failures)
        if failures:
            if not isinstance(failures[0], KafkaError):
                raise failures[0]
            raise self._failed(failures[0])

    def _failed(self, exc: KafkaError) -> BrokerError:
        return BrokerError(
            f"Kafka did not confirm a write to {self._topic} ({exc}); {self.delivered} events were confirmed "
            "before it. Loading the file again is safe: event_id is the idempotency key."
        )
