"""Publishing's outbox on SQLite and PostgreSQL: a version's row and its fan-out are written
together or not at all, fan-outs come back in the order they must be sent, two publishes of one
version at once have one winner, and only one relay holds the turn to send."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from services.store import Store, StoreConflict, StoreDataError
from services.store import outbox as outbox_module
from services.store.competition_records import CompetitionRecords
from services.store.outbox import DONE, PENDING, Outbox
from streams.core.templates import load_template

pytestmark = pytest.mark.integration


def definition(version: int = 1, basic: int = 10) -> dict[str, Any]:
    d = load_template("feb_account_opening").model_dump(mode="json")
    d["rules"][0]["points"]["basic"] = basic
    return {**d, "id": "c1", "version": version}


def test_a_publish_queues_its_fan_out_in_the_same_transaction(store: Store) -> None:
    records, box = CompetitionRecords(store), Outbox(store)
    row, changed = records.publish(definition(), actor="user:wang", announce=True)
    assert changed
    assert row["fanout"]["state"] == PENDING and row["fanout"]["status"] == "published"
    (pending,) = box.pending()
    assert (pending["competition_id"], pending["version"], pending["status"]) == ("c1", 1, "published")
    assert '"status":"published"' in pending["record"]
    assert box.backlog()[0] == 1

    box.done([pending["id"]])
    assert box.pending() == []
    assert box.backlog() == (0, None, None)
    shown = records.get("c1", 1)
    assert shown is not None and shown["fanout"]["state"] == DONE and shown["fanout"]["done_at"] is not None


def test_without_announce_nothing_is_queued(store: Store) -> None:
    records = CompetitionRecords(store)
    row, _ = records.publish(definition(), actor="demo")
    assert row["fanout"] is None
    assert Outbox(store).pending() == []


def test_a_failed_fan_out_write_leaves_the_version_unpublished(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = CompetitionRecords(store)
    records.create_draft(definition(), actor="user:wang")

    def refuses(*args: Any) -> int:
        raise StoreDataError("the outbox refused")

    monkeypatch.setattr(outbox_module, "enqueue", refuses)
    with pytest.raises(StoreDataError, match="outbox refused"):
        records.publish(definition(), actor="user:wang", announce=True)
    still = records.get("c1", 1)
    assert still is not None and still["status"] == "draft" and still["published_at"] is None
    assert Outbox(store).pending() == []


def test_fan_outs_come_back_in_order_and_a_repeat_is_queued_only_when_none_is_pending(store: Store) -> None:
    records, box = CompetitionRecords(store), Outbox(store)
    records.publish(definition(), actor="user:wang", announce=True)
    _, changed = records.publish(definition(), actor="user:wang", announce=True)
    assert not changed
    assert len(box.pending()) == 1  # the first is still pending: no second one
    records.close("c1", 1, actor="user:li", announce=True)
    assert [(r["status"], r["version"]) for r in box.pending()] == [("published", 1), ("closed", 1)]
    box.done(r["id"] for r in box.pending())

    # Closing again, once done: announced again (an operator's way to repeat a fan-out).
    again, changed = records.close("c1", 1, actor="user:li", announce=True)
    assert not changed and again["fanout"]["state"] == PENDING and again["fanout"]["status"] == "closed"


def test_a_failed_attempt_is_counted_with_its_reason(store: Store) -> None:
    records, box = CompetitionRecords(store), Outbox(store)
    row, _ = records.publish(definition(), actor="user:wang", announce=True)
    box.failed(row["fanout"]["id"], "Kafka refused the message: timed out")
    box.failed(row["fanout"]["id"], "Kafka refused the message: timed out")
    count, oldest, error = box.backlog()
    assert count == 1 and oldest is not None and error == "Kafka refused the message: timed out"
    assert box.get(row["fanout"]["id"])["attempts"] == 2  # type: ignore[index]


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.parametrize("from_draft", [False, True])
def test_two_publishes_of_one_version_at_once_have_one_winner(store: Store, from_draft: bool) -> None:
    records = CompetitionRecords(store)
    for version in range(1, 6):
        if from_draft:
            records.create_draft(definition(version), actor="user:wang")
        a, b = definition(version, basic=11), definition(version, basic=12)
        results = _at_once(
            [
                lambda a=a: records.publish(a, actor="user:wang", announce=True),  # type: ignore[misc]
                lambda b=b: records.publish(b, actor="user:li", announce=True),  # type: ignore[misc]
            ]
        )
        won = [r for r in results if isinstance(r, tuple)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], StoreConflict) and "already published" in str(lost[0])
        stored = records.get("c1", version)
        assert stored is not None and stored["definition"] == won[0][0]["definition"]
        assert [r["version"] for r in Outbox(store).pending()].count(version) == 1


def test_the_same_publish_twice_at_once_is_one_publish(store: Store) -> None:
    records = CompetitionRecords(store)
    results = _at_once([lambda: records.publish(definition(), actor="user:wang", announce=True)] * 2)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(changed for _, changed in results) == [False, True]
    assert len(Outbox(store).pending()) == 1


def test_one_relay_holds_the_turn(store: Store) -> None:
    box = Outbox(store)
    turn = box.take_turn()
    assert turn is not None
    if store.dialect == "postgresql":  # SQLite serves one API process: every caller has the turn
        with Store.from_url(store._engine.url.render_as_string(hide_password=False)) as other:
            assert Outbox(other).take_turn() is None
            turn.release()
            again = Outbox(other).take_turn()
            assert again is not None
            again.release()
    else:
        turn.release()
    assert box.take_turn() is not None
