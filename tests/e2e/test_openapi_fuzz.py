"""schemathesis against the running API's own OpenAPI document: generated requests for every
operation (valid and invalid by the schema); not one answer may be a server error, and every
4xx answer must be a problem document (RFC 9457, docs/api.md) as the document declares.

The API runs as a real process on the real broker, with the ledger sink beside it so that
/readyz is 200 (its 503 means "not ready", which this run must not provoke). Bounded: 50 examples
per operation and mode, well under a minute."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.support.auth import auth_headers
from tests.support.ports import free_port
from tests.support.problems import MEDIA_TYPE, problem_errors
from tests.support.processes import api, new_prefix, sink


def _ndjson(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """NDJSON is text: a generated string goes as its UTF-8 bytes; anything else the negative mode
    makes up (an object, a number) as its JSON text, which the door reads as one line."""
    if isinstance(value, bytes):
        return value
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


schemathesis.serializer("application/x-ndjson")(_ndjson)


def problem_shape(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """A 4xx or 5xx answer is application/problem+json with type, title, status and detail,
    its `status` the response's own, and a validation problem's `errors` as {field, reason}."""
    if response.status_code < 400:
        return None
    content_type = ",".join(response.headers.get("content-type", []))
    if not content_type.startswith(MEDIA_TYPE):
        raise AssertionError(f"{response.status_code} answered as {content_type!r}, not {MEDIA_TYPE}")
    try:
        body = json.loads(response.content or b"")
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} body is not an object: {body!r}")
    wrong = problem_errors(body)
    if body.get("status") != response.status_code:
        wrong.append(f"status member {body.get('status')!r} is not {response.status_code}")
    if wrong:
        raise AssertionError(f"{response.status_code} is not a problem: {'; '.join(wrong)}: {body}")
    return None


@pytest.fixture(scope="module")
def running_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = new_prefix()
    logs: Path = tmp_path_factory.mktemp("openapi-fuzz")
    database = f"sqlite:///{logs / 'campaigns.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    writer = sink(prefix, logs, database, CAMPAIGNS_SINK_HEARTBEAT_SECONDS="1").start()
    server = api(prefix, logs, port, CAMPAIGNS_DATABASE_URL=database).start()
    try:
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the API never became ready"
            time.sleep(0.5)
        yield url
    finally:
        server.stop()
        writer.stop()


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_no_operation_answers_with_a_server_error(running_api: str, mode: GenerationMode) -> None:
    # One hypothesis run per operation, driven here rather than by schemathesis' pytest loader
    # (`from_fixture`), which reads a node attribute pytest 9 no longer has.
    schema = schemathesis.openapi.from_url(f"{running_api}/openapi.json")
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case) -> None:
            label = case.operation.label
            calls[label] = calls.get(label, 0) + 1
            # With the key each door wants (the source key for ingest, the admin key elsewhere),
            # so the generated requests reach the routes rather than stopping at 401.
            headers = auth_headers(running_api, case.operation.path)
            case.call_and_validate(checks=[not_a_server_error, problem_shape], timeout=30, headers=headers)

        try:
            call()
        except Unsatisfiable:
            continue  # nothing to make invalid (no parameters, no body): covered by the other mode
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) >= 3 and sum(calls.values()) >= 100, calls


def test_the_document_declares_the_problem_answers(running_api: str) -> None:
    document = httpx.get(f"{running_api}/openapi.json", timeout=10).json()
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = [op for item in document["paths"].values() for op in item.values() if "responses" in op]
    assert len(operations) > 20
    for operation in operations:
        for code in ("4XX", "5XX"):
            content = operation["responses"][code]["content"]
            assert content == {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for code, response in operation["responses"].items():
            if code[:1] in "45":
                assert list(response["content"]) == [MEDIA_TYPE], (operation["operationId"], code)
