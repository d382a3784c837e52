"""The partition scorer the score stage and verify share, with fakes for its two ports (no Kafka):
control runs, pinned rules, rebuilds on NeedsRebuild, the standings diff, waiting for a version."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from schemas.control import Rescore
from schemas.envelope import Envelope
from schemas.routing import participant_of
from services.verify.replay import Expected, PartitionReplay
from streams.core import Competition, ParticipantState, apply, parse_competition, score_batch
from streams.core.partition import Outcome, PartitionScorer, Record
from tests.unit.core.core_builders import competitions_of, events_of, load_example

EXAMPLE = load_example("feb_opening")
V1 = competitions_of(EXAMPLE)[0]
CID = V1.id
_raw = V1.model_dump(mode="json")
_raw["version"] = 2
_raw["rules"][0]["points"] = {"basic": 12, "general": 6}
V2 = parse_competition(_raw)
EVENTS = events_of(EXAMPLE)
NOW = datetime(2025, 2, 20, tzinfo=UTC)  # inside the window: nothing is late
T = TypeVar("T")


def _clock(record: Record) -> datetime:
    return NOW


class FakeHistory:
    """The partition's records so far, as Kafka would give them back; remembers what was asked."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.asked: list[tuple[str | None, int]] = []

    async def manager(self, cm_id: str, before: int) -> list[bytes]:
        self.asked.append((cm_id, before))
        return [r.value for r in self._events(before) if r.key == cm_id.encode() and r.value is not None]

    async def managers(self, before: int) -> list[str]:
        self.asked.append((None, before))
        return sorted({(r.key or b"").decode() for r in self._events(before) if r.value is not None})

    def _events(self, before: int) -> list[Record]:
        return [r for r in self.records if r.offset < before and not r.control]


class FakeDefinitions:
    def __init__(self, *known: Competition) -> None:
        self.known = {(c.id, c.version, c.status): c for c in known}

    def definition(self, competition_id: str, version: int, status: str) -> Competition | None:
        return self.known.get((competition_id, version, status))


def _records(items: list[Envelope | Rescore | bytes], start: int = 0) -> list[Record]:
    out = []
    for offset, item in enumerate(items, start):
        if isinstance(item, Rescore):
            out.append(Record(0, offset, None, item.encode(), control=True))
        elif isinstance(item, bytes):
            out.append(Record(0, offset, b"cm-a", item, control=False))
        else:
            value = item.model_dump_json().encode()
            out.append(Record(0, offset, participant_of(item).encode(), value, control=False))
    return out


def _scorer(*known: Competition, **kwargs: object) -> tuple[PartitionScorer, FakeHistory]:
    history = FakeHistory()
    return PartitionScorer(history, FakeDefinitions(*known), **kwargs), history  # type: ignore[arg-type]


def _feed(scorer: PartitionScorer, history: FakeHistory, records: list[Record]) -> Outcome:
    history.records += records
    return asyncio.run(scorer.feed(records, _clock))


def _totals(scorer: PartitionScorer) -> dict[str, str]:
    snapshot = scorer.snapshot(set(scorer.states))
    return {s["cm_id"]: s["points"] for s in snapshot.standings}


def _fresh(*competitions: Competition) -> dict[str, str]:
    batch = score_batch(EVENTS, list(competitions))
    return {cm: standing.to_dict()["points"] for (_, cm), standing in batch.items()}


PUBLISH_V1 = Rescore(CID, 1, "published")
PUBLISH_V2 = Rescore(CID, 2, "published")


def test_events_score_with_the_pinned_rules_as_apply_would() -> None:
    scorer, history = _scorer(V1, pinned={f"{CID}:1": "published"})
    outcome = _feed(scorer, history, _records(list(EVENTS)))
    assert outcome.consumed == len(EVENTS) and outcome.waiting is None and not outcome.rules_changed
    states: dict[str, ParticipantState] = {}
    direct = []
    for e in EVENTS:
        cm = participant_of(e)
        direct += apply(states.setdefault(cm, ParticipantState(cm)), e, [V1])
    assert outcome.entries == direct
    assert outcome.dirty == {"cm-a", "cm-b", "cm-c"}
    assert history.asked == []  # nothing needed the history
    assert _totals(scorer) == _fresh(V1)


def test_a_control_run_pins_the_version_and_rescores_the_history_before_it() -> None:
    scorer, history = _scorer(V1)
    records = _records([*EVENTS, PUBLISH_V1])
    outcome = _feed(scorer, history, records)
    assert outcome.consumed == len(records)
    assert scorer.pinned == {f"{CID}:1": "published"} and outcome.rules_changed
    # the managers before the run, then each one's history on its own
    assert history.asked == [(None, len(EVENTS)), *((cm, len(EVENTS)) for cm in ("cm-a", "cm-b", "cm-c"))]
    assert [r.competitions for r in outcome.rescored] == [frozenset({CID})]
    # a publish over scored events books them under their own ids, marked as the re-score's
    assert outcome.entries and all(
        (e.correction or "").startswith(f"rescore:{CID}:") for e in outcome.entries
    )
    assert {e.event_id for e in outcome.entries} <= {e.event_id for e in EVENTS}
    assert _totals(scorer) == _fresh(V1)
    # the other order: rules first, then the events, ends in the same books
    early, early_history = _scorer(V1)
    _feed(early, early_history, _records([PUBLISH_V1, *EVENTS]))
    assert _totals(early) == _fresh(V1)


def test_a_new_version_rescores_once_and_the_same_version_again_changes_nothing() -> None:
    scorer, history = _scorer(V1, V2)
    _feed(scorer, history, _records([PUBLISH_V1, *EVENTS]))
    v1_totals = _totals(scorer)
    outcome = _feed(scorer, history, _records([PUBLISH_V2], start=len(EVENTS) + 1))
    assert scorer.pinned == {f"{CID}:1": "published", f"{CID}:2": "published"}
    assert {e.rule_version for e in outcome.entries} == {2}
    before = {cm: Decimal(v) for cm, v in v1_totals.items()}
    moved = {cm: before[cm] + sum(e.points for e in outcome.entries if e.cm_id == cm) for cm in before}
    assert (
        {cm: str(v) for cm, v in moved.items()}
        == _fresh(V1, V2)
        == {
            "cm-a": "60.00",
            "cm-b": "34.00",
            "cm-c": "34.00",
        }
    )
    again = _feed(scorer, history, _records([PUBLISH_V2], start=len(EVENTS) + 2))
    assert again.entries == [] and not again.rules_changed and again.dirty == set()


def test_an_event_the_state_cannot_take_rebuilds_the_manager_from_their_history() -> None:
    # States built under v1 alone, restored into a partition that scores with v1 and v2: the books
    # are stale, so the next event of cm-a raises NeedsRebuild inside and is scored from history.
    *before, last = [e for e in EVENTS if participant_of(e) == "cm-a"]
    stale, stale_history = _scorer(V1, pinned={f"{CID}:1": "published"})
    _feed(stale, stale_history, _records(before))
    scorer, history = _scorer(
        V1, V2, states=stale.states, pinned={f"{CID}:1": "published", f"{CID}:2": "published"}
    )
    history.records = list(stale_history.records)
    outcome = _feed(scorer, history, _records([last], start=len(before)))
    assert history.asked == [("cm-a", len(before))]
    assert outcome.entries and {e.event_id for e in outcome.entries} == {last.event_id}
    fresh = score_batch([*before, last], [V1, V2])
    assert _totals(scorer)["cm-a"] == fresh[(CID, "cm-a")].to_dict()["points"]


def test_the_snapshot_reports_each_standing_only_when_it_changed() -> None:
    scorer, history = _scorer(V1, pinned={f"{CID}:1": "published"})
    outcome = _feed(scorer, history, _records(list(EVENTS)))
    first = scorer.snapshot(outcome.dirty)
    assert sorted(s["cm_id"] for s in first.standings) == ["cm-a", "cm-b", "cm-c"]
    assert [s.cm_id for s in first.states] == ["cm-a", "cm-b", "cm-c"]
    # the same managers again, nothing changed: their states, no standings
    second = scorer.snapshot(outcome.dirty)
    assert second.standings == [] and len(second.states) == 3
    # a repeat of an event id changes no book: cm-a's standing is not sent again
    repeat = _feed(scorer, history, _records([EVENTS[-1]], start=len(EVENTS)))
    assert scorer.snapshot(repeat.dirty).standings == []


def test_a_control_record_for_an_unknown_version_holds_the_partition_there() -> None:
    definitions = FakeDefinitions(V1)
    history = FakeHistory()
    scorer = PartitionScorer(history, definitions, pinned={f"{CID}:1": "published"})
    head, tail = EVENTS[:10], EVENTS[10:]
    records = _records([*head, PUBLISH_V2, *tail])
    history.records += records
    outcome = asyncio.run(scorer.feed(records, _clock))
    assert outcome.consumed == len(head)  # the events before it are taken, nothing from it on
    assert outcome.waiting is not None and outcome.waiting.offset == len(head)
    assert str(outcome.waiting) == f"waiting for competition {CID} version 2 (published)"
    assert scorer.pinned == {f"{CID}:1": "published"} and not outcome.rules_changed
    scored = {e.event_id for e in outcome.entries}
    assert scored and scored <= {e.event_id for e in head}
    # asked again while the version is still missing: still waiting, nothing changes
    rest = records[len(head) :]
    still = asyncio.run(scorer.feed(rest, _clock))
    assert still.consumed == 0 and still.waiting == outcome.waiting and still.entries == []
    # the version arrives: the partition goes on from the control record
    definitions.known[(CID, 2, "published")] = V2
    on = asyncio.run(scorer.feed(rest, _clock))
    assert on.waiting is None and on.consumed == len(rest)
    assert scorer.pinned == {f"{CID}:1": "published", f"{CID}:2": "published"}
    assert _totals(scorer) == _fresh(V1, V2)


def test_a_run_waits_whole_when_one_of_its_versions_is_unknown() -> None:
    scorer, history = _scorer(V1)
    outcome = _feed(scorer, history, _records([PUBLISH_V1, PUBLISH_V2, *EVENTS]))
    assert outcome.consumed == 0 and outcome.waiting is not None and outcome.waiting.version == 2
    assert scorer.pinned == {} and outcome.entries == []


def test_restored_rules_the_definitions_lack_wait_before_the_first_record() -> None:
    scorer, history = _scorer(V1, pinned={f"{CID}:1": "published", f"{CID}:2": "published"})
    outcome = _feed(scorer, history, _records(list(EVENTS), start=40))
    assert outcome.consumed == 0 and outcome.waiting is not None
    assert (outcome.waiting.offset, outcome.waiting.version) == (40, 2)


def test_unreadable_records_are_failures_and_scoring_goes_on() -> None:
    scorer, history = _scorer(V1)
    bad_control = Record(0, 0, None, b"{not json", control=True)
    records = [bad_control, *_records([PUBLISH_V1, b'{"event_id": "x"}', *EVENTS], start=1)]
    outcome = _feed(scorer, history, records)
    assert [f.record.offset for f in outcome.failures] == [0, 2]
    assert outcome.failures[0].reason.startswith("control: ")
    assert outcome.consumed == len(records) and _totals(scorer) == _fresh(V1)


def test_verify_replays_with_the_same_scorer_whatever_the_batching() -> None:
    items: list[Envelope | Rescore] = [*EVENTS[:7], PUBLISH_V1, *EVENTS[7:15], PUBLISH_V2, *EVENTS[15:]]
    records = _records(items)
    scorer, history = _scorer(V1, V2)
    streamed = []
    for record in records:  # the stream, one record per batch
        streamed += _feed(scorer, history, [record]).entries
    known = {(c.id, c.version, c.status): c for c in (V1, V2)}
    expected = Expected()
    replay = PartitionReplay(lambda cid, v, s: known.get((cid, v, s)), None, expected)

    async def run() -> None:
        await replay.feed(records[:9])
        await replay.feed(records[9:])
        await replay.finish()

    asyncio.run(run())
    # verify reads the same arrival headers (none here, so nothing is late) and freeze records
    assert {e.entry_id for e in streamed} == set(expected.entries)
    assert expected.events == len(EVENTS) and expected.controls == 2 and expected.waiting == []


def test_every_rebuild_goes_through_the_offload_one_manager_at_a_time() -> None:
    """The stream runs rebuilds off its event loop: the scorer must hand it each one, a re-score
    as one piece of work per manager, and score with what comes back."""
    handed: list[str] = []

    async def offload(work: Callable[[], T]) -> T:
        result = work()
        handed.append(result[0].cm_id)  # type: ignore[index]
        return result

    history = FakeHistory()
    scorer = PartitionScorer(history, FakeDefinitions(V1), offload=offload)
    records = _records([*EVENTS, PUBLISH_V1])
    history.records += records
    asyncio.run(scorer.feed(records, _clock))
    assert handed == ["cm-a", "cm-b", "cm-c"]
    assert _totals(scorer) == _fresh(V1)
