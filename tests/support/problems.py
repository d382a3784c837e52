"""What every refusal of the API looks like (RFC 9457 problem details, docs/api.md): the checks
the tests share, so that no test reads an old shape by accident."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

MEDIA_TYPE = "application/problem+json"


def problem_errors(body: Mapping[str, Any]) -> list[str]:
    """Why `body` is not a problem document (empty when it is one)."""
    wrong: list[str] = []
    for name, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        if not isinstance(body.get(name), kind):
            wrong.append(f"{name!r} is not a {kind.__name__}: {body.get(name)!r}")
    errors = body.get("errors")
    if errors is not None and not (
        isinstance(errors, list)
        and all(isinstance(e, dict) and isinstance(e.get("field"), str) and "reason" in e for e in errors)
    ):
        wrong.append(f"'errors' is not a list of {{field, reason}}: {errors!r}")
    return wrong


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response's problem document, after checking its status, media type and members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    assert not problem_errors(body), (problem_errors(body), body)
    return body


def first_field(response: httpx.Response, status: int = 422) -> tuple[str, str]:
    """(field, reason) of a validation problem's first refused field."""
    body = problem(response, status)
    assert body.get("errors"), body
    return body["errors"][0]["field"], body["errors"][0]["reason"]
