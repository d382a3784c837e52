"""docs/events.md shows events that validate, and they are the committed examples."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import EVENT_TYPES, SHANGHAI, RejectReason, parse_event

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "events.md"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)

# Every ```json block in the page is an event; other JSON (HTTP answers) is fenced as ```jsonc.
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def json_blocks() -> list[str]:
    return JSON_BLOCK.findall(DOC.read_text(encoding="utf-8"))


def examples() -> dict[str, Any]:
    return {
        p.name: json.loads(p.read_bytes()) for p in sorted((ROOT / "schemas" / "examples").glob("*.json"))
    }


@pytest.mark.parametrize("block", json_blocks(), ids=lambda b: str(json.loads(b).get("type")))
def test_every_json_block_in_the_doc_is_a_valid_event(block: str) -> None:
    parse_event(block, now=NOW)


def test_the_doc_shows_every_example_and_nothing_else() -> None:
    shown = sorted(json.dumps(json.loads(b), sort_keys=True) for b in json_blocks())
    committed = sorted(json.dumps(e, sort_keys=True) for e in examples().values())
    assert shown == committed


def test_the_doc_names_every_event_type_and_every_rejection_reason() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert all(f"### `{t}`" in text for t in EVENT_TYPES)
    assert all(f"| `{r}` |" in text for r in RejectReason)
