"""The API's error boundary (services/api/errors.py, content_type.py, openapi_problems.py) on a
small app of its own: every refusal is one problem shape, and a JSON body is read as JSON
whatever its Content-Type. No broker: the real routes are checked end to end in tests/e2e."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel

from services.api.content_type import JsonBodies
from services.api.errors import FieldError, field_path, install_error_handlers
from services.api.openapi_problems import install_problem_schema
from services.readmodel import UnknownCompetition
from tests.support.problems import MEDIA_TYPE, first_field, problem


class Window(BaseModel):
    start: date
    end: date


class Draft(BaseModel):
    id: str
    window: Window


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_problem_schema(app)
    app.add_middleware(JsonBodies)

    @app.post("/drafts")
    def draft(body: Draft) -> dict[str, str]:
        return {"id": body.id, "start": body.window.start.isoformat()}

    @app.get("/things/{thing}")
    def thing(
        thing: str, period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None
    ) -> dict[str, str]:
        if thing == "gone":
            raise HTTPException(404, "no thing gone")
        if thing == "field":
            raise FieldError("rules[0].caps.daily", "must be positive")
        if thing == "old":
            raise HTTPException(422, {"field": "(roster)", "reason": "not UTF-8"})
        if thing == "competition":
            raise UnknownCompetition("cm-nowhere")
        if thing == "boom":
            raise RuntimeError("a bug")
        return {"thing": thing}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "text/plain", "application/json"]
)
async def test_a_json_body_is_read_whatever_its_content_type(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"id": "nov", "window": {"start": "2026-11-01", "end": "2026-11-30"}}'
    response = await client.post("/drafts", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": "nov", "start": "2026-11-01"}


async def test_a_body_that_is_not_json_is_a_problem_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/drafts", content=b"id=nov", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    field, reason = first_field(response)
    assert field == "(body)" and reason.startswith("the body is not JSON")


async def test_validation_errors_name_every_field_by_its_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/drafts", json={"window": {"start": "soon", "end": "2026-11-30"}})
    body = problem(response, 422)
    assert body["type"] == "urn:campaigns:problem:validation"
    assert [(e["field"], e["in"]) for e in body["errors"]] == [("id", "body"), ("window.start", "body")]
    assert body["detail"].startswith("id: Field required") and body["detail"].endswith("(and 1 more)")
    query = problem(await client.get("/things/x", params={"period": "2026-1"}), 422)
    assert (query["errors"][0]["field"], query["errors"][0]["in"]) == ("period", "query")


async def test_every_refusal_is_one_shape(client: httpx.AsyncClient) -> None:
    gone = problem(await client.get("/things/gone"), 404)
    assert (gone["type"], gone["title"], gone["detail"]) == ("about:blank", "Not Found", "no thing gone")
    assert first_field(await client.get("/things/field")) == ("rules[0].caps.daily", "must be positive")
    assert first_field(await client.get("/things/old")) == ("(roster)", "not UTF-8")
    assert "cm-nowhere" in problem(await client.get("/things/competition"), 404)["detail"]
    assert problem(await client.get("/no/such/route"), 404)["title"] == "Not Found"
    assert problem(await client.delete("/drafts"), 405)["title"] == "Method Not Allowed"
    boom = problem(await client.get("/things/boom"), 500)
    assert boom["type"] == "urn:campaigns:problem:internal" and "a bug" not in boom["detail"]


async def test_the_openapi_document_declares_the_problem_for_every_operation(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas and "HTTPValidationError" not in schemas
    for item in document["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            assert {"4XX", "5XX"} <= set(responses)
            for code, answer in responses.items():
                if code[0] in "45":
                    assert list(answer["content"]) == [MEDIA_TYPE]


def test_field_paths_are_spelled_as_the_core_spells_them() -> None:
    assert field_path(("rules", 0, "caps", "daily")) == "rules[0].caps.daily"
    assert field_path(()) == ""
