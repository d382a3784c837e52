"""Board.put_latest (a batch of standings records, each key's last one put) leaves the boards as
`put` of every record in turn does: the standings, the start of the day (rank_change), the ranks
on every board, and whether anything changed; with tombstones, unreadable records and records
from before and after the day began."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.readmodel import Board
from streams.core.rules import Competition, RankingKind
from streams.core.templates import load_template
from tests.support.records import standing

CID = "feb-account-opening"
NINE_AM = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
KINDS: list[RankingKind] = ["customer_manager", "team", "sub_branch_total"]
Record = tuple[bytes | None, bytes | None, datetime | None]


def published() -> Competition:
    return load_template("feb_account_opening").model_copy(update={"status": "published"})


def board() -> Board:
    made = Board(clock=lambda: NINE_AM)
    made.set_competitions([published()])
    return made


def record(rnd: random.Random) -> Record:
    cm = rnd.choice(["cm-a", "cm-b", "cm-c", "cm-d"])
    key = rnd.choice([f"{CID}|{cm}".encode()] * 12 + [b"no-separator", None])
    points = f"{rnd.choice([0, 4, 10, 20])}.00"
    unit = (rnd.choice(["sb-1", "sb-2"]), rnd.choice(["t-1", "t-2", None]), points)
    value = rnd.choice([standing(cm, points, [unit])] * 8 + [None, b"{not json", b'{"cm_id": "x"}'])
    at = rnd.choice([None, NINE_AM - timedelta(days=1), NINE_AM - timedelta(minutes=5), NINE_AM])
    return key, value, at


def picture(b: Board) -> object:
    rows = {
        kind: [(r.row.unit_id, r.row.rank, r.rank_change) for r in b.page(CID, kind).rows] for kind in KINDS
    }
    standings = sorted((s.cm_id, str(s.points)) for s in b.standings(CID)) if b.competitions() else []
    return rows, standings


@pytest.mark.parametrize("seed", range(40))
def test_a_batch_put_at_once_equals_each_record_put_in_turn(seed: int) -> None:
    rnd = random.Random(seed)
    one_by_one, at_once = board(), board()
    for _ in range(4):  # a few batches, so the boards are not empty when one comes
        batch = [record(rnd) for _ in range(rnd.randint(1, 30))]
        changed = False
        for key, value, at in batch:
            changed = one_by_one.put(key, value, at) or changed
        assert at_once.put_latest(batch) is changed
        assert picture(at_once) == picture(one_by_one)


def test_an_unreadable_last_record_leaves_the_one_before_it() -> None:
    b = board()
    key = f"{CID}|cm-a".encode()
    batch: list[Record] = [
        (key, standing("cm-a", "4.00", [("sb-1", None, "4.00")]), None),
        (key, b"{oops", None),
    ]
    assert b.put_latest(batch) is True
    found = b.standing(CID, "cm-a")
    assert found is not None and str(found.points) == "4.00"
    assert b.invalid == 1


def test_only_the_last_record_of_a_key_is_read() -> None:
    b = board()
    key = f"{CID}|cm-a".encode()
    batch: list[Record] = [
        (key, b"{oops", None),
        (key, standing("cm-a", "4.00", [("sb-1", None, "4.00")]), None),
    ]
    assert b.put_latest(batch) is True
    assert b.invalid == 0  # passed over, as compaction would have dropped it


def test_a_record_that_raises_is_handed_to_on_error_and_the_rest_is_put() -> None:
    b = board()
    good = standing("cm-a", "4.00", [("sb-1", None, "4.00")])
    batch: list[Record] = [(b"\xff|\xfe", b"{}", None), (f"{CID}|cm-a".encode(), good, None)]
    errors: list[tuple[int, str]] = []

    assert b.put_latest(batch, lambda place, exc: errors.append((place, type(exc).__name__))) is True

    assert errors == [(0, "UnicodeDecodeError")]
    assert b.standing(CID, "cm-a") is not None
    with pytest.raises(UnicodeDecodeError):
        board().put_latest(batch)
