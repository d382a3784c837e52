"""Ready-made definitions for the seed's contests (drafts: copy, adjust, publish)."""

from __future__ import annotations

import json
from importlib import resources

from streams.core.rules import Competition, parse_competition


def template_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))


def load_template(name: str) -> Competition:
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return parse_competition(json.loads(text))
