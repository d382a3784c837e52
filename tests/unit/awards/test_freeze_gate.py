"""The freeze gate's decision: a pure function of positions, end offsets and parked records."""

from __future__ import annotations

from services.awards.gate import Lag, Parked, refusal


def _caught_up() -> list[Lag]:
    return [
        Lag("validate", "events.raw", 0, 10, 10),
        Lag("validate", "events.raw", 1, 0, None),  # empty and never read: nothing to wait for
        Lag("dedup", "events.accepted", 0, 12, 14),  # past the end: a commit marker read too
        Lag("score", "events.validated", 0, 20, 20),
        Lag("sink", "score.ledger", 0, 40, 40),
        Lag("sink", "events.deadletter", 0, 0, None),
    ]


def test_caught_up_and_nothing_parked_may_freeze() -> None:
    assert refusal(_caught_up(), [], acknowledged=False) == []


def test_each_lagging_stage_is_named_with_its_topic_and_partitions() -> None:
    lags = _caught_up()
    lags[4] = Lag("sink", "score.ledger", 0, 40, 38)
    lags.append(Lag("sink", "score.ledger", 1, 5, None))
    lags[3] = Lag("score", "events.validated", 0, 20, 19)
    assert refusal(lags, [], acknowledged=False) == [
        "score is 1 offsets behind the end of events.validated (events.validated[0] at 19 of 20)",
        "sink is 7 offsets behind the end of score.ledger "
        "(score.ledger[0] at 38 of 40, score.ledger[1] at nothing of 5)",
    ]


def test_parked_records_hold_the_freeze_until_acknowledged() -> None:
    parked = [Parked("dead_letters", 9, "scoring_failed"), Parked("parked_records", 3, "StoreDataError")]
    (reason,) = refusal(_caught_up(), parked, acknowledged=False)
    assert reason.startswith(  # sorted by table and id, whatever order SQL gave
        "2 parked records may belong to this period (dead_letters #9, parked_records #3)"
    )
    assert "acknowledge_parked" in reason
    assert refusal(_caught_up(), parked, acknowledged=True) == []


def test_acknowledging_parked_records_does_not_excuse_a_lag() -> None:
    lags = [Lag("validate", "events.raw", 0, 10, 4)]
    assert refusal(lags, [Parked("parked_records", 1, "x")], acknowledged=True) == [
        "validate is 6 offsets behind the end of events.raw (events.raw[0] at 4 of 10)"
    ]


def test_positions_unchecked_leaves_only_the_parked_records() -> None:
    assert refusal(None, [], acknowledged=False) == []
    assert len(refusal(None, [Parked("parked_records", 1, "x")], acknowledged=False)) == 1
