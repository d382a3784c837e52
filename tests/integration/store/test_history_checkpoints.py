"""The fast path of the board at a past moment (checkpoints held in memory, patched by arrivals)
against a direct recomputation from the ledger, on SQLite and PostgreSQL: the totals and the
ranked board at instants exactly on a checkpoint, a microsecond either side, and at random; after
entries recorded later that are dated back into built spans (a late event, a re-score's correction
dated at its item, a clawback), before the first span, in a gap, and a manager who moved units; with
the oldest spans let go (memory bound) and after a backfill big enough to rebuild."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.history import boards as past_boards
from services.history.moments import LedgerHistory
from services.history.places import Packed, Totals, rank_totals
from services.readmodel import Board
from services.store import Store
from services.store import ledger_history as sql
from streams.core.rules import DEFAULT_TIE_BREAK
from streams.core.templates import load_template
from tests.support.events import joined
from tests.support.records import org_record

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # Dec 1 00:00 in Shanghai: a checkpoint
STEP = timedelta(hours=3)
US = timedelta(microseconds=1)


def entry(
    n: int, cm: str, at: datetime, points: str, sub_branch: str = "sb1", team: str | None = "t1"
) -> dict[str, Any]:
    return {
        "entry_id": f"e{n}",
        "event_id": f"evt-{n}",
        "competition_id": "c1",
        "rule_version": 1,
        "cm_id": cm,
        "sub_branch_id": sub_branch,
        "team_id": team,
        "occurred_at": at,
        "points": Decimal(points),
        "component": "basic_account",
        "reason": "opened",
    }


def recomputed(store: Store, at: datetime) -> Totals:
    """The totals at `at` summed by the database from every entry: no history involved."""
    shares = sql.shares_between(store, "c1", None, at, include_end=True)
    return {(cm, sb, team): (points, last) for cm, sb, team, points, last in shares}


def agree(store: Store, history: LedgerHistory, instants: Iterable[datetime]) -> int:
    checked = 0
    for at in instants:
        expected = recomputed(store, at)
        assert history.totals_at("c1", at) == expected, at
        for ranking in ("customer_manager", "sub_branch_total", "team"):
            full = list(rank_totals(expected, ranking, DEFAULT_TIE_BREAK))
            fast = history.board_at("c1", at, ranking, DEFAULT_TIE_BREAK)
            # read as a page is read first (the top walked from the checkpoint), then whole
            assert len(fast) == len(full), (at, ranking)
            assert fast[:7] == full[:7] and fast[3:12] == full[3:12], (at, ranking)
            assert [fast[i] for i in range(len(full))] == full, (at, ranking)
            assert list(fast) == full, (at, ranking)
        checked += 1
    return checked


def boundaries(days: int) -> list[datetime]:
    """Every checkpoint of the grid over `days` days, and a microsecond either side of it."""
    out = []
    for i in range(days * 8 + 1):
        at = START + i * STEP
        out += [at - US, at, at + US]
    return out


def month(rng: random.Random, count: int, first: int = 0, *, one_unit: bool = False) -> list[dict[str, Any]]:
    """Entries over 10 days for 30 managers; `one_unit`: each manager always in the same unit
    (the usual case, whose board is walked from the checkpoint's), else in any of them."""
    out = []
    for n in range(count):
        cm = rng.randrange(30)
        out.append(
            entry(
                first + n,
                f"cm{cm}",
                # some on the grid exactly, many sharing an instant, the rest anywhere in 10 days
                START + STEP * rng.randrange(80)
                if n % 7 == 0
                else START + timedelta(minutes=rng.randrange(14_400)),
                rng.choice(["10.00", "4.00", "-4.00", "0.50", "12.35"]),
                sub_branch=f"sb{cm % 3 if one_unit else rng.randrange(3)}",
                team=[None, "t1", "t2"][cm % 3] if one_unit else rng.choice([None, "t1", "t2"]),
            )
        )
    return out


@pytest.mark.parametrize("one_unit", [True, False], ids=["one-unit-each", "units-mixed"])
def test_fast_path_equals_a_recomputation_on_and_around_checkpoints(store: Store, one_unit: bool) -> None:
    rng = random.Random(18)
    store.add_ledger_entries(month(rng, 600, one_unit=one_unit))
    history = LedgerHistory(store, step=STEP)
    history.prepare("c1")
    instants = boundaries(10) + [START + timedelta(seconds=rng.randrange(11 * 86400)) for _ in range(30)]
    assert agree(store, history, rng.sample(instants, len(instants))) == len(instants)
    assert history.totals_at("c1", START - US) == {}


@pytest.mark.parametrize("one_unit", [True, False], ids=["one-unit-each", "units-mixed"])
def test_entries_recorded_later_land_at_their_own_instants(store: Store, one_unit: bool) -> None:
    rng = random.Random(5)
    store.add_ledger_entries(month(rng, 300, one_unit=one_unit))
    history = LedgerHistory(store, step=STEP)
    assert agree(store, history, [START + timedelta(days=4, hours=13)]) == 1  # built now

    later = [
        # a late event and a re-score's correction dated at its item, inside built spans
        entry(1000, "cm1", START + timedelta(days=2, hours=5, minutes=7), "10.00"),
        entry(1001, "cm1", START + timedelta(days=2, hours=5, minutes=7), "-2.50"),
        # exactly on a checkpoint, and a microsecond before one
        entry(1002, "cm2", START + 11 * STEP, "4.00"),
        entry(1003, "cm2", START + 12 * STEP - US, "4.00"),
        # a clawback of an opening: the account did not stick
        entry(1004, "cm3", START + timedelta(days=6, hours=1), "-10.00"),
        # before every entry held, and far past them (a gap of quiet days, then live)
        entry(1005, "cm-early", START - timedelta(days=3, hours=2), "7.00"),
        entry(1006, "cm4", START + timedelta(days=25, hours=2), "1.00"),
    ]
    if one_unit:  # each in the unit its earlier entries name
        for e in later:
            if e["cm_id"] != "cm-early":
                cm = int(e["cm_id"][2:])
                e["sub_branch_id"], e["team_id"] = f"sb{cm % 3}", [None, "t1", "t2"][cm % 3]
    else:  # a manager who moved: the same person in another sub-branch and team
        later.append(entry(1007, "cm1", START + timedelta(days=3), "5.00", sub_branch="sb9", team="t9"))
    store.add_ledger_entries(later)
    instants = [
        *boundaries(12),
        START - timedelta(days=3, hours=2),
        START - timedelta(days=3, hours=2) - US,
        START + timedelta(days=25, hours=2),
        START + timedelta(days=40),
    ]
    assert agree(store, history, instants) == len(instants)

    # and a correction of a correction, recorded after the patched answers were given
    store.add_ledger_entries(
        [{**later[1], "entry_id": "e1008", "event_id": "evt-1008", "points": Decimal("2.50")}]
    )
    assert (
        agree(store, history, [START + timedelta(days=2, hours=5, minutes=7), START + timedelta(days=9)]) == 2
    )


def test_the_oldest_spans_are_let_go_and_answered_from_the_database(store: Store) -> None:
    rng = random.Random(3)
    store.add_ledger_entries(month(rng, 400))
    history = LedgerHistory(store, step=STEP, keep=10)  # ten spans of three hours: about a day
    history.prepare("c1")
    held = history._watches["c1"].timeline
    assert held.dropped and len(held.spans) == 10
    store.add_ledger_entries([entry(2000, "cm5", START + timedelta(hours=1), "3.00")])  # before the held
    instants = [START + timedelta(hours=2), START + timedelta(days=9, hours=23), *boundaries(10)[::5]]
    assert agree(store, history, instants) == len(instants)


def test_a_backfill_rebuilds_instead_of_patching(store: Store) -> None:
    rng = random.Random(9)
    store.add_ledger_entries(month(rng, 100))
    history = LedgerHistory(store, step=STEP, rebuild_over=50)
    history.prepare("c1")
    before = history._watches["c1"].timeline
    store.add_ledger_entries(month(rng, 200, first=5000))
    assert agree(store, history, [START + timedelta(days=5), START + 20 * STEP]) == 2
    assert history._watches["c1"].timeline is not before


def test_a_sub_branch_or_team_filter_picks_the_rows_a_full_read_would(store: Store) -> None:
    rng = random.Random(11)
    store.add_ledger_entries(month(rng, 400))
    board = Board()
    comp = load_template("feb_account_opening").model_copy(
        update={"id": "c1", "status": "published", "tie_break": list(DEFAULT_TIE_BREAK)}
    )
    board.set_competitions([comp])
    for i in range(20):  # cm20..cm29 are not in the org: they count where they earned most
        board.put_org(*org_record(joined(f"cm{i}", f"sb{i % 3}", event_id=f"sb-{i}")))
        board.put_org(*org_record(joined(f"cm{i}", f"t{i % 2 + 1}", event_id=f"t-{i}", kind="team")))
    # cm0 moves to sb2 from 5 December: the board of the 6th has it there
    board.put_org(*org_record(joined("cm0", "sb2", event_id="sb-0-moved", effective="2026-12-05")))
    history = LedgerHistory(store, step=STEP)
    for at in (START + timedelta(days=2, hours=7), START + timedelta(days=5, hours=20)):
        past = past_boards.past_board(history, board, "c1", "customer_manager", at)
        assert isinstance(past.places, Packed)  # the board whose filter looks rows up
        for sub_branch, team in (
            ("sb0", None),
            ("sb2", None),
            (None, "t1"),
            ("sb1", "t2"),
            ("sb-none", None),
        ):
            every_row = [p for p in past.places if past_boards.in_unit(past, p, sub_branch, team)]
            assert past_boards.picked(past, sub_branch, team) == every_row, (at, sub_branch, team)
        assert past_boards.picked(past, "sb2", None) != past_boards.picked(past, "sb0", None)
        # the 晨会's members: every manager's sub-branch in one pass, as `homes` has each
        assert past_boards.sub_branches(past) == {cm: past.homes[cm].sub_branch_id for cm in past.homes}
    assert past.homes["cm0"].sub_branch_id == "sb2"
    # the org changes after the question: the next one sees it
    board.put_org(*org_record(joined("cm1", "sb2", event_id="sb-1-moved", effective="2026-12-01")))
    past = past_boards.past_board(
        history, board, "c1", "customer_manager", START + timedelta(days=5, hours=20)
    )
    assert "cm1" in [p.unit_id for p in past_boards.picked(past, "sb2", None)]
    assert "cm1" not in [p.unit_id for p in past_boards.picked(past, "sb1", None)]


def test_competitions_beyond_the_bound_are_let_go_and_read_again(store: Store) -> None:
    rng = random.Random(21)
    first = month(rng, 120)
    second = [
        {**e, "entry_id": f"x{e['entry_id']}", "competition_id": "c2"} for e in month(rng, 120, first=500)
    ]
    store.add_ledger_entries(first + second)
    history = LedgerHistory(store, step=STEP, competitions=1)
    at = START + timedelta(days=4, hours=5)
    for competition_id, entries in (("c1", first), ("c2", second), ("c1", first)):
        expected: Totals = {}
        for e in entries:
            if e["occurred_at"] <= at:
                key = (e["cm_id"], e["sub_branch_id"], e["team_id"])
                points, last = expected.get(key, (0, 0))
                cents = int(e["points"] * 100)
                expected[key] = (points + cents, max(last, int(e["occurred_at"].timestamp()) * 1_000_000))
        assert history.totals_at(competition_id, at) == expected, competition_id
        assert list(history._watches) == [competition_id]
