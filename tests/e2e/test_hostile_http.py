"""The HTTP doors of a real API process, on the real broker, against hostile input: every answer is
a 4xx with a reason (never a 5xx), bodies are read no further than their limit, a slow body times
out, and the next good event is still accepted. The inputs of issue 7 are replayed as reported,
with the ledger sink running, which stores their dead letters and stays up."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from schemas.dead_letters import ORIGINAL_SHA256, ORIGINAL_SIZE, REASON, TRUNCATED
from schemas.errors import RejectReason
from schemas.topics import Topics
from schemas.validate import Rejection, parse_event
from services.api.intake import CONSOLE_ONLY
from services.settings import ServiceSettings
from services.store import Store
from tests.support.auth import api_auth, auth_headers
from tests.support.events import opened, wire
from tests.support.hostile import hostile_messages
from tests.support.kafka import wait_for
from tests.support.ports import free_port
from tests.support.problems import first_field, problem
from tests.support.processes import api, sink

REASONS = {str(r) for r in RejectReason}
BATCH_LIMIT = 300_000


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'api.db'}"


@pytest.fixture
def hostile_api(prefix: str, tmp_path: Path, database_url: str) -> Iterator[str]:
    port = free_port()
    proc = api(
        prefix,
        tmp_path,
        port,
        CAMPAIGNS_DATABASE_URL=database_url,
        CAMPAIGNS_BODY_TIMEOUT_SECONDS="1",
        CAMPAIGNS_MAX_BATCH_BYTES=str(BATCH_LIMIT),
    ).start()
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def good_event_accepted(client: httpx.Client, n: int = 0) -> None:
    response = client.post("/ingest/events", content=wire(opened(f"evt-next-{n}")))
    assert response.status_code == 202, response.text


def validator_verdict(raw: bytes) -> str | None:
    """What the shared validator (the one every door uses) says of these bytes: None if it takes them."""
    try:
        event = parse_event(raw, now=datetime.now(UTC), limits=ServiceSettings().limits)
    except Rejection as rejection:
        return str(rejection.reason)
    # The one door-only rule: manual adjustments come from the console, never from ingest.
    return str(RejectReason.INVALID_VALUE) if event.type in CONSOLE_ONLY else None


def assert_clear_refusal(response: httpx.Response, raw: bytes) -> None:
    """The door's answer is a clear one and agrees with the shared validator: it takes exactly what
    the validator takes, and refuses the rest for the validator's reason."""
    assert response.status_code < 500, response.text
    verdict = validator_verdict(raw)
    if response.status_code == 202:
        assert verdict is None, f"the door took bytes the validator refuses ({verdict}): {raw[:200]!r}"
        return
    assert response.status_code in (413, 422), response.text
    body = problem(response, response.status_code)
    assert body["reason"] in REASONS
    assert body["detail"]
    if response.status_code == 422:
        assert body["reason"] == verdict, (body, verdict)


def raw_http(url: str, head: bytes, body_chunks: Iterable[bytes] = ()) -> bytes:
    """Send a request by hand (to stream a huge body or stall), then read what the server says."""
    port = int(url.rsplit(":", 1)[1])
    # The key the API wants for that path, as a header line after the request line.
    line, _, rest = head.partition(b"\r\n")
    key = "".join(f"{k}: {v}\r\n" for k, v in auth_headers(url, line.split(b" ")[1].decode()).items())
    head = line + b"\r\n" + key.encode() + rest
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed the connection while we were still sending
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def chunked(total: int, size: int = 65536) -> Iterator[bytes]:
    piece = b"[" * size
    for _ in range(total // size):
        yield b"%x\r\n%s\r\n" % (size, piece)


async def test_the_reported_inputs_are_refused_and_the_sink_stores_their_dead_letters(
    hostile_api: str, prefix: str, topics: Topics, tmp_path: Path, database_url: str
) -> None:
    brackets = b"[" * 200_000
    deposit = json.dumps(
        {
            "event_id": "evt-big-balance",
            "type": "deposit.balance",
            "schema_version": 1,
            "occurred_at": "2026-03-31T23:59:59+08:00",
            "source": "core-banking",
            "data": {
                "account_id": "a-1",
                "customer_id": "c-1",
                "cm_id": "cm-1",
                "category": "pure",
                "balance": "@",
                "as_of": "2026-03-31",
            },
        }
    ).replace('"@"', "9" * 5000)

    store_proc = sink(prefix, tmp_path, database_url, CAMPAIGNS_SINK_HEARTBEAT_SECONDS="0.5").start()
    try:
        with httpx.Client(base_url=hostile_api, auth=api_auth(hostile_api), timeout=30) as client:
            nested = client.post("/ingest/events", content=brackets)
            digits = client.post("/ingest/events", content=deposit.encode())
            good_event_accepted(client)
        huge = raw_http(
            hostile_api,
            b"POST /ingest/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            chunked(20 * 1024 * 1024),
        )
        with httpx.Client(base_url=hostile_api, auth=api_auth(hostile_api), timeout=30) as client:
            good_event_accepted(client, 1)

        assert (nested.status_code, nested.json()["reason"]) == (422, "oversized")
        assert (digits.status_code, digits.json()["reason"]) == (422, "number_too_long")
        assert huge.startswith(b"HTTP/1.1 413 ")
        assert b'"reason":"oversized"' in huge

        letters = await wait_for(topics.dead_letters, lambda rs: len(rs) >= 2)
        cut = next(r for r in letters if r.headers[REASON] == b"oversized")
        assert len(cut.value or b"") == 65_536
        assert cut.headers[ORIGINAL_SIZE] == b"200000"
        assert cut.headers[ORIGINAL_SHA256] == hashlib.sha256(brackets).hexdigest().encode()
        assert cut.headers[TRUNCATED] == b"true"

        store = Store.from_url(database_url)
        deadline = time.monotonic() + 60
        while len(store.dead_letters()) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        stored = sorted(d["reason"] for d in store.dead_letters())
        store.close()
        assert stored == ["number_too_long", "oversized"]
        assert store_proc.proc is not None and store_proc.proc.poll() is None, store_proc.tail()
        with httpx.Client(base_url=hostile_api, auth=api_auth(hostile_api), timeout=30) as client:
            deadline = time.monotonic() + 30
            while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
        assert ready.status_code == 200, ready.text
    finally:
        store_proc.stop()


def test_a_declared_length_over_the_limit_is_refused_before_reading(hostile_api: str) -> None:
    answer = raw_http(
        hostile_api, b"POST /ingest/events HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in answer.lower()


def test_a_body_that_stalls_is_answered_408(hostile_api: str) -> None:
    started = time.monotonic()
    answer = raw_http(
        hostile_api, b'POST /ingest/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"event_id": '
    )
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"reason":"timeout"' in answer
    assert time.monotonic() - started < 10


def test_a_batch_over_its_byte_limit_is_413_and_a_batch_within_it_is_answered_per_line(
    hostile_api: str,
) -> None:
    with httpx.Client(base_url=hostile_api, auth=api_auth(hostile_api), timeout=30) as client:
        too_big = client.post("/ingest/batch", content=(wire(opened("evt-1")) + b"\n") * 2000)
        mixed = client.post(
            "/ingest/batch",
            content=b"\n".join([b"[" * 100_000, wire(opened("evt-b2")), b'{"a": NaN}', b"\xff\xfe"]),
        )
    assert problem(too_big, 413)["reason"] == "oversized"
    assert mixed.status_code == 200
    assert [(r["line"], r["status"], r.get("reason")) for r in mixed.json()["results"]] == [
        (1, "rejected", "oversized"),
        (2, "accepted", None),
        (3, "rejected", "malformed_json"),
        (4, "rejected", "malformed_json"),
    ]


def test_hostile_competition_definitions_are_422(hostile_api: str) -> None:
    with httpx.Client(base_url=hostile_api, auth=api_auth(hostile_api), timeout=30) as client:
        for body in (b"[" * 200_000, b'{"id": ' + b"9" * 5000 + b"}", b'{"id": "a", "id": "b"}', b"\xff"):
            response = client.post("/api/competitions", content=body)
            assert response.status_code == 422, response.text
            assert first_field(response)[0] == "(competition)"


@settings(
    max_examples=120,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(raw=hostile_messages())
def test_fuzz_every_door_refuses_hostile_bytes_clearly_and_takes_the_next_good_event(
    hostile_api: str, raw: bytes
) -> None:
    with httpx.Client(base_url=hostile_api, auth=api_auth(hostile_api), timeout=30) as client:
        assert_clear_refusal(client.post("/ingest/events", content=raw), raw)
        good_event_accepted(client)
        batch = client.post("/ingest/batch", content=raw + b"\n" + wire(opened("evt-after")))
        assert batch.status_code in (200, 413), batch.text
        if batch.status_code == 200:
            results = batch.json()["results"]
            assert all(r["status"] == "accepted" or r["reason"] in REASONS for r in results)
            assert results[-1]["status"] == "accepted"
        competition = client.post("/api/competitions", content=raw)
        assert competition.status_code in (409, 413, 422), competition.text
