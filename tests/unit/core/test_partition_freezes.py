"""Freeze records through the partition scorer (no Kafka): an entry is late only when its event
reached the platform (arrived_at header) at or after a freeze of its period the partition had
read; the stream and verify's replay agree, whatever the batching."""

from __future__ import annotations

import asyncio
from datetime import datetime

from schemas.control import FREEZE, HEADER, FreezeNotice, Rescore
from schemas.envelope import Envelope
from schemas.records import arrived_header
from schemas.routing import participant_of
from services.verify.replay import Expected, PartitionReplay
from streams.core.lateness import Freezes
from streams.core.partition import PartitionScorer, Record, arrival_time
from tests.unit.core.core_builders import at, competitions_of, event, load_example
from tests.unit.core.test_partition_scorer import FakeDefinitions, FakeHistory

V1 = competitions_of(load_example("feb_opening"))[0]  # February 2025, one period
CID = V1.id
FROZEN_AT = "2025-03-04 00:00"
NOTICE = FreezeNotice(CID, "2025-02", None, None, at(FROZEN_AT).isoformat())


def _opening(event_id: str, day: str) -> Envelope:
    return event("account.opened", event_id, f"{day} 09:00", account_id=f"A-{event_id}",
                 customer_id=f"C-{event_id}", cm_id="cm-z", account_type="general",
                 segment="non_credit")  # fmt: skip


def _ms(when: str) -> int:
    return int(at(when).timestamp() * 1000)


def _records(items: list[tuple[object, str]]) -> list[Record]:
    """(item, when it reached the platform): events carry the arrived_at header, controls their
    own timestamp."""
    out = []
    for offset, (item, when) in enumerate(items):
        stamp = datetime.fromtimestamp(_ms(when) / 1000, at(when).tzinfo)
        if isinstance(item, Rescore):
            out.append(Record(0, offset, None, item.encode(), control=True, timestamp=stamp))
        elif isinstance(item, FreezeNotice):
            headers = ((HEADER, FREEZE),)
            out.append(Record(0, offset, None, item.encode(), control=True, timestamp=stamp, headers=headers))
        else:
            assert isinstance(item, Envelope)
            value = item.model_dump_json().encode()
            headers = tuple(arrived_header(_ms(when)))
            out.append(
                Record(0, offset, participant_of(item).encode(), value, control=False, headers=headers)
            )
    return out


RECORDS = _records(
    [
        (Rescore(CID, 1, "published"), "2025-02-01 08:00"),
        (_opening("e-1", "2025-02-10"), "2025-02-10 09:01"),
        (_opening("e-2", "2025-02-27"), "2025-03-03 23:00"),  # before the freeze, scored after it
        (NOTICE, FROZEN_AT),
        (_opening("e-3", "2025-02-26"), "2025-03-03 23:30"),  # arrived before the freeze: on time
        (_opening("e-4", "2025-02-25"), "2025-03-05 10:00"),  # arrived after it: late
        (NOTICE, "2025-03-09 00:00"),  # announced again: changes nothing
        (_opening("e-5", "2025-02-24"), "2025-03-10 10:00"),
    ]
)


def _stream(batches: list[list[Record]]) -> tuple[PartitionScorer, dict[str, bool], list[bool]]:
    history = FakeHistory()
    scorer = PartitionScorer(history, FakeDefinitions(V1))
    late: dict[str, bool] = {}
    changed = []
    for batch in batches:
        history.records += batch
        outcome = asyncio.run(scorer.feed(batch, arrival_time))
        changed.append(outcome.rules_changed)
        late.update({e.event_id: e.late for e in outcome.entries})
    return scorer, late, changed


def test_late_only_after_the_freeze_record_and_for_events_that_arrived_after_it() -> None:
    scorer, late, changed = _stream([[r] for r in RECORDS])
    assert late == {"e-1": False, "e-2": False, "e-3": False, "e-4": True, "e-5": True}
    # The freeze is stored with the rules (once: the repeated notice changes nothing).
    assert changed == [True, False, False, True, False, False, False, False]
    assert Freezes.from_dict(scorer.freezes.to_dict()) == scorer.freezes
    assert scorer.freezes.frozen_for(CID, at("2025-02-10 00:00")) is not None


def test_a_restarted_scorer_keeps_the_freezes_it_stored() -> None:
    first, _, _ = _stream([RECORDS[:4]])
    history = FakeHistory()
    history.records += RECORDS[:4]
    again = PartitionScorer(
        history, FakeDefinitions(V1), states=first.states, pinned=first.pinned,
        freezes=Freezes.from_dict(first.freezes.to_dict()),
    )  # fmt: skip
    history.records += RECORDS[4:]
    outcome = asyncio.run(again.feed(RECORDS[4:], arrival_time))
    assert {e.event_id: e.late for e in outcome.entries} == {"e-3": False, "e-4": True, "e-5": True}


def test_verify_judges_late_as_the_stream_did_whatever_the_batching() -> None:
    _, streamed, _ = _stream([RECORDS[:3], RECORDS[3:6], RECORDS[6:]])
    expected = Expected()
    replay = PartitionReplay(
        lambda c, v, s: V1 if (c, v, s) == (CID, 1, "published") else None, None, expected
    )

    async def run() -> None:
        await replay.feed(RECORDS[:4])  # ends on the freeze record: kept for the next feed
        await replay.feed(RECORDS[4:])
        await replay.finish()

    asyncio.run(run())
    assert {e.event_id: e.late for e in expected.entries.values()} == streamed
    assert expected.controls == 3
