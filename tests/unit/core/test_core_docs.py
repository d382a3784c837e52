"""docs/competitions.md shows the example definitions and standings the engine really produces."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streams.core import rank, score_batch
from tests.unit.core.core_builders import competitions_of, events_of, load_example

DOC = (Path(__file__).resolve().parents[3] / "docs" / "competitions.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"<!-- example: (\w+) -->\n```json\n(.*?)\n```", DOC, re.S)
TABLES = re.findall(r"<!-- standings: (\w+) -->\n\| rank .*?\n\|---.*?\n((?:\|.*\n)+)", DOC)


def test_the_doc_shows_every_example() -> None:
    names = {"feb_opening", "deposit_point_in_time", "deposit_daily_average", "payroll", "products_visits"}
    assert {n for n, _ in EXAMPLES} == names | {"little_banker"}
    assert {n for n, _ in TABLES} == {n for n, _ in EXAMPLES}


def test_definitions_in_the_doc_are_the_example_files() -> None:
    for name, text in EXAMPLES:
        assert json.loads(text) == load_example(name)["competition"], name


def test_standings_tables_in_the_doc_are_what_the_engine_computes() -> None:
    for name, table in TABLES:
        example = load_example(name)
        comp = competitions_of(example)[0]
        result = score_batch(events_of(example), [comp])
        rows = []
        for r in rank(list(result.values()), "customer_manager", tie_break=comp.tie_break):
            parts = ", ".join(f"{k} {v}" for k, v in result[(comp.id, r.unit_id)].components.items())
            rows.append(f"| {r.rank} | {r.unit_id} | {r.points} | {parts} |")
        assert table.strip().splitlines() == rows, name
