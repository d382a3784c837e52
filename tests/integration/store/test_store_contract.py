"""The Store contract: every test runs on SQLite and on PostgreSQL and must pass on both."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from services.store import Store, StoreConflict, StoreDataError

pytestmark = pytest.mark.integration

SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI)


def entry(entry_id: str, *, cm_id: str = "cm-1", points: str = "10.00", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "entry_id": entry_id,
        "event_id": f"evt-{entry_id}",
        "competition_id": "spring-2025",
        "rule_version": 1,
        "cm_id": cm_id,
        "sub_branch_id": "sb-7",
        "team_id": None,
        "occurred_at": T0,
        "points": Decimal(points),
        "component": "basic_account",
        "reason": "basic account opened",
    }
    values.update(overrides)
    return values


def test_reports_the_real_server(store: Store) -> None:
    version = store.server_version()
    print(f"{store.dialect}: {version}")
    expected = {"sqlite": "SQLite ", "postgresql": "PostgreSQL "}[store.dialect]
    assert version.startswith(expected)
    store.ping()


def test_create_schema_twice_is_harmless(store: Store) -> None:
    store.add_ledger_entries([entry("a")])
    store.create_schema()
    assert store.totals("spring-2025") == {"cm-1": Decimal("10.00")}


def test_ledger_inserts_are_idempotent(store: Store) -> None:
    batch = [entry("a"), entry("b"), entry("c")]
    assert store.add_ledger_entries(batch) == 3
    assert store.add_ledger_entries(batch) == 0
    assert len(store.entries_for("spring-2025", "cm-1")) == 3
    assert store.totals("spring-2025") == {"cm-1": Decimal("30.00")}


def test_a_batch_counts_only_ids_not_seen_before(store: Store) -> None:
    assert store.add_ledger_entries([entry("a"), entry("b")]) == 2
    assert store.add_ledger_entries(iter([entry("b"), entry("c"), entry("c")])) == 1
    assert store.add_ledger_entries([]) == 0
    assert [e["entry_id"] for e in store.entries_for("spring-2025", "cm-1")] == ["a", "b", "c"]


def test_totals_per_manager_and_explanation_order(store: Store) -> None:
    store.add_ledger_entries(
        [
            entry("late", occurred_at=T0 + timedelta(hours=2), points="5.50"),
            entry("b-same-time", points="1.25"),
            entry("B-same-time", points="-0.75"),  # byte order: "B" < "a" < "b" on both databases
            entry("a-same-time", points="2.00"),
            entry("other-cm", cm_id="cm-2", points="3.00"),
            entry("other-comp", competition_id="autumn-2025", points="99.00"),
        ]
    )
    assert store.totals("spring-2025") == {"cm-1": Decimal("8.00"), "cm-2": Decimal("3.00")}
    assert list(store.totals("spring-2025")) == ["cm-1", "cm-2"]
    assert store.totals("no-such-competition") == {}
    explained = store.entries_for("spring-2025", "cm-1")
    assert [e["entry_id"] for e in explained] == ["B-same-time", "a-same-time", "b-same-time", "late"]
    assert sum(e["points"] for e in explained) == Decimal("8.00")
    first = explained[0]
    assert set(first) == {
        "entry_id", "event_id", "competition_id", "rule_version", "cm_id", "sub_branch_id",
        "team_id", "occurred_at", "points", "component", "reason", "late", "correction", "label",
        "recorded_at",
    }  # fmt: skip
    assert first["sub_branch_id"] == "sb-7" and first["team_id"] is None
    assert first["recorded_at"].tzinfo is not None


@pytest.mark.parametrize(
    "points",
    ["0.01", "-0.01", "0", "1.10", "12345678901234.56", "9999999999999999.99", "-9999999999999999.99"],
)
def test_decimal_round_trip(store: Store, points: str) -> None:
    store.add_ledger_entries([entry("a", points=points)])
    (stored,) = store.entries_for("spring-2025", "cm-1")
    assert type(stored["points"]) is Decimal
    assert stored["points"] == Decimal(points)
    assert stored["points"].as_tuple().exponent == -2
    assert store.totals("spring-2025")["cm-1"] == Decimal(points)


def test_sums_are_exact(store: Store) -> None:
    store.add_ledger_entries([entry(f"e{i}", points="0.10") for i in range(3)] + [entry("z", points="0.20")])
    assert store.totals("spring-2025") == {"cm-1": Decimal("0.50")}


@pytest.mark.parametrize("points", [0.1, "0.001", "1E+16", "NaN", "Infinity", "ten"])
def test_points_that_cannot_be_stored_exactly_are_refused(store: Store, points: Any) -> None:
    good = entry("good")
    bad = entry("bad")
    bad["points"] = points
    with pytest.raises(StoreDataError, match="points"):
        store.add_ledger_entries([good, bad])
    assert store.totals("spring-2025") == {}, "a refused batch writes nothing"


def test_timezone_round_trip(store: Store) -> None:
    store.add_ledger_entries([entry("a")])
    (stored,) = store.entries_for("spring-2025", "cm-1")
    assert stored["occurred_at"] == T0
    assert stored["occurred_at"].utcoffset() == timedelta(0)
    assert stored["occurred_at"] == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)


def test_explanation_orders_by_instant_not_by_local_clock(store: Store) -> None:
    # 09:30 in Shanghai is 01:30Z: before 02:00Z although "09:30" > "02:00" on the wall clock.
    store.add_ledger_entries(
        [
            entry("utc", occurred_at=datetime(2025, 3, 1, 2, 0, tzinfo=UTC)),
            entry("shanghai", occurred_at=T0),
        ]
    )
    assert [e["entry_id"] for e in store.entries_for("spring-2025", "cm-1")] == ["shanghai", "utc"]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StoreDataError, match="occurred_at"):
        store.add_ledger_entries([entry("a", occurred_at=datetime(2025, 3, 1, 9, 30))])


@pytest.mark.parametrize(
    "field, value",
    [("entry_id", "x" * 65), ("rule_version", "1"), ("cm_id", None), ("reason", b"bytes")],
    ids=["id-too-long", "int-as-str", "missing", "bytes-as-text"],
)
def test_invalid_fields_are_refused_alike_on_every_database(store: Store, field: str, value: Any) -> None:
    # PostgreSQL alone would refuse a 65-character id; SQLite alone would keep it.
    bad = entry("a")
    bad[field] = value
    with pytest.raises(StoreDataError, match=field):
        store.add_ledger_entries([bad])


def test_unknown_fields_are_refused(store: Store) -> None:
    with pytest.raises(StoreDataError, match="poins"):
        store.add_ledger_entries([entry("a", poins=Decimal(1))])


def test_threads_writing_overlapping_batches_count_each_entry_once(store: Store) -> None:
    inserted: list[int] = []
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for start in range(0, 40, 10):
                # Each worker's batches overlap with the others': ids 0..49 in all.
                batch = [entry(f"e{n:03d}") for n in range(start + worker, start + worker + 10)]
                inserted.append(store.add_ledger_entries(batch))
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(inserted) == len(store.entries_for("spring-2025", "cm-1")) == 43
    assert store.totals("spring-2025") == {"cm-1": Decimal("430.00")}


def test_dead_letters_are_stored_once_per_offset_with_raw_bytes(store: Store) -> None:
    raws = [b"\xff\xfe\x00not utf-8 \x80", b"", "法律".encode("gb18030"), bytes(range(256))]
    for offset, raw in enumerate(raws):
        assert store.add_dead_letter(
            source_topic="raw.events",
            source_partition=3,
            source_offset=offset,
            reason="malformed_json",
            detail=f"offset {offset}",
            raw=raw,
        )
    # Re-delivery of the same messages: nothing new.
    for offset in range(len(raws)):
        assert not store.add_dead_letter(
            source_topic="raw.events",
            source_partition=3,
            source_offset=offset,
            reason="malformed_json",
            detail="again",
            raw=b"different",
        )
    # Same offset, other partition or topic: a different message.
    assert store.add_dead_letter(
        source_topic="raw.events", source_partition=4, source_offset=0, reason="empty", detail="", raw=b""
    )
    assert store.add_dead_letter(
        source_topic="raw.other",
        source_partition=3,
        source_offset=0,
        reason="unknown_type",
        detail="type 'x'",
        raw=b"{}",
        event_id="evt-9",
        received_at=T0,
    )

    letters = store.dead_letters(limit=100)
    assert len(letters) == 6
    newest, _, *stored = letters
    assert newest["event_id"] == "evt-9" and newest["received_at"] == T0
    by_offset = {letter["source_offset"]: letter for letter in stored}
    for offset, raw in enumerate(raws):
        assert type(by_offset[offset]["raw"]) is bytes
        assert by_offset[offset]["raw"] == raw
        assert by_offset[offset]["detail"] == f"offset {offset}"
        assert by_offset[offset]["event_id"] is None
    assert [letter["id"] for letter in store.dead_letters(limit=2)] == [
        letter["id"] for letter in letters[:2]
    ]


@pytest.mark.parametrize("limit", [0, -1, True])
def test_dead_letter_limit_must_be_positive(store: Store, limit: int) -> None:
    with pytest.raises(StoreDataError):
        store.dead_letters(limit=limit)


def test_competition_versions(store: Store) -> None:
    draft = {"name": "春季开门红", "rules": [{"product": "basic_account", "points": "10.00"}]}
    edited = {**draft, "window": {"from": "2025-03-01", "to": "2025-03-31"}}

    store.save_competition("spring-2025", 1, "draft", draft)
    store.save_competition("spring-2025", 1, "draft", edited)  # drafts may change
    (v1,) = store.competition_versions("spring-2025")
    assert v1["definition"] == edited and v1["published_at"] is None

    store.save_competition("spring-2025", 1, "published", edited)
    store.save_competition("spring-2025", 1, "published", edited)  # same again: no-op
    with pytest.raises(StoreConflict, match="published"):
        store.save_competition("spring-2025", 1, "published", draft)
    store.save_competition("spring-2025", 2, "draft", draft, published_at=None)
    store.save_competition("other", 1, "draft", {})

    versions = store.competition_versions("spring-2025")
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "draft")]
    assert versions[0]["definition"] == edited
    published_at = versions[0]["published_at"]
    assert published_at is not None and published_at.utcoffset() == timedelta(0)

    store.save_competition("spring-2025", 1, "retired", edited)  # status moves on, timestamp stays
    assert store.competition_versions("spring-2025")[0]["published_at"] == published_at
    assert store.competition_versions("nothing") == []


def test_competition_definitions_must_be_plain_json(store: Store) -> None:
    with pytest.raises(StoreDataError, match="JSON"):
        store.save_competition("spring-2025", 1, "draft", {"points": Decimal("1.5")})


def test_labels_and_corrections_round_trip_and_older_entries_read_as_none(store: Store) -> None:
    label = {"kind": "opening", "account_type": "basic"}
    store.add_ledger_entries(
        [
            entry("new", label=label, correction="rescore:spring-2025:2:abc"),
            entry("old"),  # written before labels existed
        ]
    )
    rows = {r["entry_id"]: r for r in store.entries_for("spring-2025", "cm-1")}
    assert rows["new"]["label"] == label
    assert rows["new"]["correction"] == "rescore:spring-2025:2:abc"
    assert rows["old"]["label"] is None and rows["old"]["correction"] is None


@pytest.mark.parametrize("label", [["kind"], {"kind": 1}, "opening"])
def test_a_label_must_be_an_object_of_strings(store: Store, label: Any) -> None:
    with pytest.raises(StoreDataError):
        store.add_ledger_entries([entry("x", label=label)])


def test_a_database_made_before_labels_gets_the_new_columns(store: Store) -> None:
    """create_all leaves an existing table as it is: the columns added since are added empty."""
    with store._writing() as conn:
        conn.exec_driver_sql("ALTER TABLE ledger_entries DROP COLUMN label")
        conn.exec_driver_sql("ALTER TABLE ledger_entries DROP COLUMN correction")
    store.create_schema()
    store.add_ledger_entries([entry("after", label={"kind": "visit", "channel": "phone"})])
    (row,) = store.entries_for("spring-2025", "cm-1")
    assert row["label"] == {"kind": "visit", "channel": "phone"}
