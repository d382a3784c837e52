"""When the score stage stores its states (streams/pipeline/checkpoints.py), on a clock passed in."""

from __future__ import annotations

from streams.pipeline.checkpoints import Checkpoints


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_states_wait_for_the_interval_then_go_together() -> None:
    clock = Clock()
    cp = Checkpoints(every_seconds=5.0, idle_seconds=1.0, clock=clock)
    cp.loaded(0, set())
    assert not cp.scored(0, {"cm-1"}, rules_changed=False)
    clock.now += 2
    assert not cp.scored(0, {"cm-2"}, rules_changed=False)
    clock.now += 3
    assert cp.scored(0, {"cm-1"}, rules_changed=False)
    assert cp.take(0) == ["cm-1", "cm-2"]
    assert cp.unsaved(0) == 0
    clock.now += 1
    assert not cp.scored(0, {"cm-3"}, rules_changed=False), "the interval counts from the last checkpoint"


def test_a_rule_change_makes_a_checkpoint_even_with_no_state_changed() -> None:
    clock = Clock()
    cp = Checkpoints(every_seconds=5.0, idle_seconds=1.0, clock=clock)
    cp.loaded(0, set())
    assert cp.scored(0, set(), rules_changed=True)
    assert cp.take(0) == []


def test_no_interval_stores_every_batch_that_changed_a_state() -> None:
    cp = Checkpoints(every_seconds=0.0, idle_seconds=1.0, clock=Clock())
    assert cp.scored(0, {"cm-1"}, rules_changed=False)
    assert cp.take(0) == ["cm-1"]
    assert not cp.scored(0, set(), rules_changed=False), "nothing changed, nothing to store"


def test_a_quiet_partition_is_due_after_the_idle_time_and_a_busy_one_after_the_interval() -> None:
    clock = Clock()
    cp = Checkpoints(every_seconds=5.0, idle_seconds=1.0, clock=clock)
    cp.loaded(0, set())
    cp.loaded(1, set())
    cp.scored(0, {"cm-1"}, rules_changed=False)
    cp.scored(1, {"cm-2"}, rules_changed=False)
    assert cp.due() == set()
    clock.now += 0.6
    cp.scored(1, {"cm-3"}, rules_changed=False)  # partition 1 keeps getting batches
    clock.now += 0.6
    assert cp.due() == {0}
    cp.take(0)
    assert cp.due() == set(), "stored: nothing left to flush"
    for _ in range(8):
        clock.now += 0.6
        cp.scored(1, set(), rules_changed=False)  # batches that change nothing, for 4.8 s
    assert cp.due() == {1}, "a partition whose batches change no state is due at the interval"


def test_states_changed_while_scoring_the_tail_again_count_as_unsaved() -> None:
    clock = Clock()
    cp = Checkpoints(every_seconds=5.0, idle_seconds=1.0, clock=clock)
    cp.loaded(2, {"cm-9", "cm-4"})
    clock.now += 1
    assert cp.due() == {2}
    assert cp.take(2) == ["cm-4", "cm-9"]


def test_forgotten_partitions_drop_what_they_had_not_stored() -> None:
    clock = Clock()
    cp = Checkpoints(every_seconds=5.0, idle_seconds=1.0, clock=clock)
    cp.scored(3, {"cm-1"}, rules_changed=False)
    cp.forget({3})
    clock.now += 10
    assert cp.due() == set()
    assert cp.unsaved(3) == 0
