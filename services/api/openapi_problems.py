"""The problem shape (services/api/errors.py) in the OpenAPI document: one `Problem` schema,
and every operation's 4xx and 5xx answers declared as `application/problem+json` of it.

FastAPI declares its own 422 body (`HTTPValidationError`, a list of {loc, msg}); that is not
what the API answers, so it is replaced, and its schemas are dropped when nothing refers to them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.api.errors import MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details: every 4xx and 5xx answer of this API (docs/api.md).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "about:blank, or urn:campaigns:problem:<kind>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "validation problems: the fields refused, by their path in the request",
            "items": {"$ref": "#/components/schemas/ProblemField"},
        },
    },
    "additionalProperties": True,
}
FIELD_SCHEMA: dict[str, Any] = {
    "title": "ProblemField",
    "type": "object",
    "required": ["field", "reason"],
    "properties": {
        "field": {"type": "string", "description": "e.g. window.start, rules[0].daily_cap"},
        "reason": {"type": "string"},
        "in": {"type": "string", "enum": ["body", "query", "path", "header", "cookie"]},
    },
}
_REF = {"$ref": "#/components/schemas/Problem"}
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")


def _problem_content() -> dict[str, Any]:
    return {MEDIA_TYPE: {"schema": dict(_REF)}}


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """The document with the problem schema in it (changed in place, and returned)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components["ProblemField"] = FIELD_SCHEMA
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            for code, response in responses.items():
                if code[:1] in ("4", "5"):
                    response["content"] = _problem_content()
            responses.setdefault("4XX", {"description": "refused: a problem (docs/api.md)"})
            responses["4XX"]["content"] = _problem_content()
            responses.setdefault("5XX", {"description": "failed: a problem (docs/api.md)"})
            responses["5XX"]["content"] = _problem_content()
    if not any(_refers(schema.get("paths", {}), name) for name in _FASTAPI_422):
        for name in _FASTAPI_422:
            components.pop(name, None)
    return schema


def _refers(tree: Any, name: str) -> bool:
    target = f"#/components/schemas/{name}"
    if isinstance(tree, dict):
        return tree.get("$ref") == target or any(_refers(v, name) for v in tree.values())
    if isinstance(tree, list):
        return any(_refers(v, name) for v in tree)
    return False


def install_problem_schema(app: FastAPI) -> None:
    """Wraps whatever builds the document now (FastAPI's, or another wrapper), so both apply."""
    build = app.openapi
    built: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not built:
            built.append(declare_problems(build()))
            app.openapi_schema = built[0]
        return built[0]

    app.openapi = openapi  # type: ignore[method-assign]
