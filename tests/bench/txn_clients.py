"""The transactional produce-and-commit loop with two clients on the local broker: aiokafka 0.14
(what the worker uses, one transactional id per input partition) and confluent-kafka
(librdkafka: KIP-447, generation-checked commits and stable offset fetches). The figures and
the choice are in the README ("Fencing: per-partition transactional ids").

`.venv/bin/python -m tests.bench.txn_clients [records] [batch]` — confluent-kafka is measured
only when it is importable (it is not a dependency of the project: `pip install confluent-kafka`).
Each transaction sends `batch` records of 300 bytes and one consumed offset, then commits.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

BOOTSTRAP = os.environ.get("CAMPAIGNS_TEST_KAFKA", "127.0.0.1:9092")
VALUE = b"x" * 300


async def _topic(name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def aiokafka_loop(topic: str, records: int, batch: int) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        transactional_id=f"bench-aiokafka-{uuid.uuid4().hex[:8]}",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )
    await producer.start()
    try:
        began = time.perf_counter()
        for n in range(0, records, batch):
            async with producer.transaction():
                futures = [await producer.send(topic, VALUE, key=b"k") for _ in range(batch)]
                await asyncio.gather(*futures)
                await producer.send_offsets_to_transaction({TopicPartition(topic, 0): n}, "bench-group")
        return time.perf_counter() - began
    finally:
        await producer.stop()


async def per_partition(topic: str, records: int, batch: int, producers: int) -> float:
    """The worker's shape: one producer per input partition, their transactions side by side."""
    began = time.perf_counter()
    await asyncio.gather(*(aiokafka_loop(topic, records // producers, batch) for _ in range(producers)))
    return time.perf_counter() - began


def confluent_loop(topic: str, records: int, batch: int) -> float:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka import TopicPartition as CTopicPartition

    producer = Producer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "transactional.id": f"bench-confluent-{uuid.uuid4().hex[:8]}",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        }
    )
    # The group metadata (member id, generation) is what KIP-447 fences a zombie with.
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "bench-group-ck"})
    producer.init_transactions(30)
    began = time.perf_counter()
    for n in range(0, records, batch):
        producer.begin_transaction()
        for _ in range(batch):
            producer.produce(topic, VALUE, key=b"k")
        producer.send_offsets_to_transaction(
            [CTopicPartition(topic, 0, n)], consumer.consumer_group_metadata(), 30
        )
        producer.commit_transaction(30)
    elapsed = time.perf_counter() - began
    consumer.close()
    return elapsed


def main(argv: list[str]) -> None:
    records = int(argv[0]) if argv else 20_000
    batch = int(argv[1]) if len(argv) > 1 else 100
    topic = f"bench-txn-{uuid.uuid4().hex[:8]}"
    asyncio.run(_topic(topic))
    rows = [("aiokafka 0.14", asyncio.run(aiokafka_loop(topic, records, batch)))]
    rows.append(("aiokafka 0.14, 4 ids", asyncio.run(per_partition(topic, records, batch, 4))))
    try:
        import confluent_kafka
    except ImportError:
        print("confluent-kafka is not installed: measured aiokafka only", file=sys.stderr)
    else:
        rows.append(
            (f"confluent-kafka {confluent_kafka.version()[0]}", confluent_loop(topic, records, batch))
        )
    print(f"{records} records, {batch} per transaction ({records // batch} transactions), {BOOTSTRAP}")
    for name, seconds in rows:
        print(
            f"  {name:<22} {seconds:6.2f} s  {records / seconds:9.0f} records/s  "
            f"{records / batch / seconds:6.1f} transactions/s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
