"""Verify's fixed cut, so a verification may run while events keep flowing.

At its start verify takes the end offset of each partition of the validated topic (read
committed: the last stable offset, so a transaction is never split). It replays the history up
to those offsets only (services/verify/service.py), and compares with the ledger entries caused
by the records before them:

1. it waits (bounded) until the score stage's committed offsets have reached the cut, then until
   the ledger sink has stored score.ledger up to its end taken at that moment: the same positions
   the freeze gate waits for (services/awards/positions.py), so every entry of a record before
   the cut is in SQL (PipelineBehind when the wait runs out);
2. an SQL entry the replay did not expect is left out of the comparison when a record after the
   cut caused it (`caused_after_cut` in compare.py): an event's entry names its event (`event_id`,
   one record of the validated topic: duplicates never reach it), found among the events after
   the cut, read once the SQL ledger has been read; a re-score's entry names its book's re-score
   revision (`correction` "rescore:<competition>:<revision>:<fingerprint>"), higher than that
   book's revision at the cut. Everything else the replay did not expect is reported.
"""

from __future__ import annotations

from aiokafka import TopicPartition

from schemas.errors import Rejection
from schemas.topics import Topics
from schemas.wire_json import load_json
from services.awards.gate import refusal
from services.awards.positions import GateUnavailable, Groups, pipeline_lags
from services.verify.history import partition_batches
from streams.admin import BrokerUnavailable, partitions_of
from streams.follow import reader

Cut = dict[int, int]  # validated partition -> its end offset when verify started


class PipelineBehind(Exception):
    """The score stage or the sink did not reach the cut in time: the SQL ledger is not complete
    up to it yet, so there is nothing to compare with (try again, or look at the pipeline)."""


async def take_cut(bootstrap: str, topic: str) -> Cut:
    """Each partition's end offset now (the last stable offset)."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    async with reader(bootstrap) as consumer:
        ends = await consumer.end_offsets(tps) if tps else {}
    return {tp.partition: offset for tp, offset in ends.items()}


async def reach(bootstrap: str, topics: Topics, groups: Groups, cut: Cut, *, wait: float) -> None:
    """Wait up to `wait` seconds for the score stage to pass the cut and the sink to store what it
    wrote before; PipelineBehind (naming who is how far behind) when they do not."""
    targets = {TopicPartition(topics.validated, p): offset for p, offset in cut.items()}
    try:
        stages = ("score", "sink")
        lags = await pipeline_lags(bootstrap, topics, groups, wait=wait, stages=stages, cut=targets)
    except GateUnavailable as exc:
        raise BrokerUnavailable(str(exc)) from None
    reasons = refusal(lags, (), acknowledged=False)
    if reasons:
        raise PipelineBehind(
            f"the pipeline did not reach verify's cut within {wait:g} s: {'; '.join(reasons)}"
        )


async def events_after(bootstrap: str, topic: str, cut: Cut) -> set[str]:
    """The ids of the events in the validated topic after the cut, up to its end now."""
    out: set[str] = set()
    for partition, start in cut.items():
        async for batch in partition_batches(bootstrap, topic, partition, start=start):
            for record in batch:
                if record.control or record.value is None:
                    continue
                try:
                    value = load_json(record.value)
                except Rejection:
                    continue  # unreadable: it caused no entry
                event_id = value.get("event_id") if isinstance(value, dict) else None
                if isinstance(event_id, str):
                    out.add(event_id)
    return out
