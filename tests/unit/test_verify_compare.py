"""Verify mode's pure parts: the replay of a validated partition (events and re-score control
records) and the comparison with SQL rows, without a broker or a database."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, replace
from decimal import Decimal
from functools import partial
from typing import Any

from schemas.control import Rescore
from services.verify.compare import Report, caused_after_cut, compare
from services.verify.replay import Expected, HistoryRecord, PartitionReplay
from streams.core import Competition
from streams.core.ledger import LedgerEntry, make_entry
from tests.support.events import joined, opened
from tests.support.scoring import published_templates

COMPS = {c.id: c for c in published_templates()}
CID = "feb-account-opening"


def _records(items: list[dict[str, Any] | Rescore]) -> list[HistoryRecord]:
    out = []
    for offset, item in enumerate(items):
        if isinstance(item, Rescore):
            out.append(HistoryRecord(0, offset, None, item.encode(), control=True))
        else:
            key = item["data"]["cm_id"].encode()
            out.append(HistoryRecord(0, offset, key, json.dumps(item).encode(), control=False))
    return out


def _replay(items: list[dict[str, Any] | Rescore], versions: list[Competition]) -> Expected:
    known = {(c.id, c.version, c.status): c for c in versions}
    expected = Expected()
    replay = PartitionReplay(lambda cid, v, s: known.get((cid, v, s)), {CID}, expected)
    asyncio.run(_fed(replay, _records(items)))
    return expected


async def _fed(replay: PartitionReplay, records: list[HistoryRecord]) -> None:
    await replay.feed(records)
    await replay.finish()


EVENTS: list[dict[str, Any]] = [joined("cm-1", "sb-1"), *(opened(f"e{n}", "cm-1") for n in range(3))]


def test_events_before_the_first_control_record_score_nothing_until_it_arrives() -> None:
    publish = Rescore(CID, 1, "published")
    late_rules = _replay([*EVENTS, publish], [COMPS[CID]])
    assert late_rules.controls == 1
    # the publish re-scores the history: each event's entries under its own id, marked as the
    # re-score's correction
    assert {e.event_id for e in late_rules.entries.values()} == {"e0", "e1", "e2"}
    assert all((e.correction or "").startswith("rescore:") for e in late_rules.entries.values())
    early_rules = _replay([publish, *EVENTS], [COMPS[CID]])
    assert {e.event_id for e in early_rules.entries.values()} == {"e0", "e1", "e2"}
    assert all(e.correction is None for e in early_rules.entries.values())
    # either way the books end in the same place, and the entries add up to them
    assert late_rules.totals == early_rules.totals
    assert sum(late_rules.totals.values()) == sum(e.points for e in early_rules.entries.values())


def test_an_unpublished_version_changes_nothing() -> None:
    expected = _replay([Rescore(CID, 7, "published"), *EVENTS], [COMPS[CID]])
    assert expected.entries == {} and expected.totals == {}


def _rows(entries: list[LedgerEntry]) -> list[dict[str, Any]]:
    return [asdict(e) for e in entries]


def test_compare_lists_each_kind_of_difference() -> None:
    expected = _replay([Rescore(CID, 1, "published"), *EVENTS], [COMPS[CID]])
    entries = sorted(expected.entries.values(), key=lambda e: e.event_id)
    assert len(entries) == 3
    changed, deleted, other_version = entries
    rows = _rows([replace(changed, points=changed.points + 1)])
    fields = {k: v for k, v in asdict(other_version).items() if k != "entry_id"}
    forged = make_entry(**{**fields, "rule_version": 2})
    rows += _rows([forged])
    tampered = asdict(changed) | {"entry_id": "f" * 32, "event_id": "not-a-real-event"}
    rows.append(tampered)
    report = compare(expected.entries, expected.totals, rows, Report([CID], None))
    kinds = sorted((d.kind, d.entry_id) for d in report.entries)
    assert kinds == sorted(
        [
            ("different", changed.entry_id),
            ("different", other_version.entry_id),  # paired with the v2 row of the same event
            ("missing_in_sql", deleted.entry_id),
            ("extra_in_sql", "f" * 32),
        ]
    )
    by_id = {d.entry_id: d for d in report.entries}
    assert by_id[changed.entry_id].fields == ("points",)
    paired = by_id[other_version.entry_id]
    assert paired.sql_entry_id == forged.entry_id and paired.fields == ("rule_version",)
    assert paired.expected_rule_version == 1 and paired.sql_rule_version == 2
    (total,) = report.totals
    assert total.sql - total.expected == changed.points + 1 - deleted.points
    assert not report.ok


def test_compare_of_the_same_entries_is_clean() -> None:
    expected = _replay([Rescore(CID, 1, "published"), *EVENTS], [COMPS[CID]])
    report = compare(
        expected.entries, expected.totals, _rows(list(expected.entries.values())), Report([CID], None)
    )
    assert report.ok and report.sql_entries == report.expected_entries == 3
    assert report.totals_compared == len(expected.totals) and Decimal(0) not in expected.totals.values()


def test_entries_caused_after_the_cut_are_left_out_and_nothing_else() -> None:
    """What the stream wrote for records after verify's cut (new events, a re-score published
    after it) is not compared; an entry of no record after the cut still is."""
    first = COMPS[CID]
    # built anew, not model_copy: that would carry over what the first version has cached
    data = first.model_dump(mode="json")
    data["rules"][0]["points"] = {kind: str(Decimal(p) * 2) for kind, p in data["rules"][0]["points"].items()}
    second = Competition.model_validate({**data, "version": 2})
    before = [Rescore(CID, 1, "published"), *EVENTS]
    after = [opened("e9", "cm-1"), Rescore(CID, 2, "published"), opened("e10", "cm-1")]
    at_cut = _replay(before, [first, second])
    everything = _replay([*before, *after], [first, second])
    assert any(e.correction for e in everything.entries.values() if e.entry_id not in at_cut.entries)
    forged = replace(next(iter(at_cut.entries.values())), event_id="forged", entry_id="f" * 32)
    rows = _rows([*everything.entries.values(), forged])

    def outside() -> Any:
        return partial(caused_after_cut, revisions=at_cut.revisions, later_events={"e9", "e10"})

    report = compare(at_cut.entries, at_cut.totals, rows, Report([CID], None), outside)
    assert [(d.kind, d.entry_id) for d in report.entries] == [("extra_in_sql", forged.entry_id)]
    assert report.after_cut == len(everything.entries) - len(at_cut.entries) > 0
    assert report.sql_entries == len(at_cut.entries) + 1
    # without the cut's rule every later entry is a difference
    unruled = compare(at_cut.entries, at_cut.totals, rows, Report([CID], None))
    assert len(unruled.entries) == report.after_cut + 1
