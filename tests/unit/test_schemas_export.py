"""The committed JSON Schemas are exactly what the models export today."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.export import INDEX_FILE, exported, main
from schemas.registry import EVENT_TYPES

COMMITTED = Path(__file__).parents[2] / "schemas" / "json"


def test_committed_schemas_equal_a_fresh_export() -> None:
    # If this fails after a model change: run `make schemas` (python -m schemas.export) and commit.
    stale = [
        name
        for name, text in exported().items()
        if not (COMMITTED / name).is_file() or (COMMITTED / name).read_text(encoding="utf-8") != text
    ]
    assert stale == []


def test_no_committed_event_schema_is_left_over_from_a_removed_version() -> None:
    # Other schemas (e.g. competition.schema.json) live here too; only event files are ours.
    committed = {path.name for path in COMMITTED.glob("*.v[0-9]*.schema.json")}
    assert committed == set(exported()) - {INDEX_FILE}


def test_each_event_schema_pins_its_type_and_version_and_requires_both() -> None:
    for event_type in EVENT_TYPES:
        schema = json.loads(exported()[f"{event_type}.v1.schema.json"])
        assert schema["properties"]["type"]["const"] == event_type
        assert schema["properties"]["schema_version"]["const"] == 1
        assert {"event_id", "type", "schema_version", "occurred_at", "source", "data"} <= set(
            schema["required"]
        )
        assert schema["additionalProperties"] is False


def test_the_index_points_at_every_event_schema() -> None:
    index = json.loads(exported()[INDEX_FILE])
    assert [ref["$ref"] for ref in index["oneOf"]] == [f"{t}.v1.schema.json" for t in EVENT_TYPES]


def test_main_writes_the_files_into_the_given_directory(tmp_path: Path) -> None:
    assert main([str(tmp_path / "out")]) == 0
    written = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    assert written == exported()


def test_main_refuses_options_it_does_not_know() -> None:
    assert main(["--check"]) == 2
