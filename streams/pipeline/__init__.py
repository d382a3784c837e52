"""The worker's batched, transactional loops: validate, dedup and score.

Each stage is a plain object that turns one partition's batch of records into output records
(`Stage.process`); `BatchLoop` moves the bytes: a consumer group reads a batch, the stage decides,
and one Kafka transaction carries every output and the consumed offsets. See
docs/how-scoring-stays-right.md for the order of writes and the recovery rule.
"""
