"""Write the event contracts as JSON Schema files, for teams that feed us without Python.

    python -m schemas.export [outdir]      (default: schemas/json next to this file)

One file per event type and schema version (``account.opened.v1.schema.json``) and an index,
``index.schema.json``, that accepts any event by pointing at every one of them. The files are
committed; a unit test compares them with a fresh export so they cannot drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.registry import EVENT_TYPES, model_for, versions_of

DIALECT = "https://json-schema.org/draft/2020-12/schema"
INDEX_FILE = "index.schema.json"
DEFAULT_OUTDIR = Path(__file__).parent / "json"


def file_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.schema.json"


def event_schema(event_type: str, version: int) -> dict[str, Any]:
    """The JSON Schema of one (type, version), as strict as the validator that reads it."""
    model = model_for(event_type, version)
    if model is None:
        raise KeyError(f"{event_type} has no schema version {version}")
    body = model.model_json_schema(mode="validation")
    props = body["properties"]
    # The model gets the version from the registry lookup and defaults `type` from its class;
    # on the wire both are required and each file describes exactly one of each.
    props["schema_version"] = {**props["schema_version"], "const": version}
    props["schema_version"].pop("minimum", None)
    props["type"].pop("default", None)
    required = [name for name in props if name in {*body.get("required", ()), "type", "schema_version"}]
    return {"$schema": DIALECT, "$id": file_name(event_type, version), **body, "required": required}


def index_schema() -> dict[str, Any]:
    refs = [{"$ref": file_name(t, v)} for t in EVENT_TYPES for v in versions_of(t)]
    return {
        "$schema": DIALECT,
        "$id": INDEX_FILE,
        "title": "Event",
        "description": "Any event this platform accepts: one entry per event type and schema version.",
        "oneOf": refs,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def exported() -> dict[str, str]:
    """File name to file text, for every file the export writes."""
    files = {file_name(t, v): render(event_schema(t, v)) for t in EVENT_TYPES for v in versions_of(t)}
    files[INDEX_FILE] = render(index_schema())
    return files


def write(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in exported().items():
        path = outdir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print("usage: python -m schemas.export [outdir]", file=sys.stderr)
        return 2
    outdir = Path(args[0]) if args else DEFAULT_OUTDIR
    for path in write(outdir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
