"""Reading a request body with a size limit and a deadline, as it arrives.

`await request.body()` reads whatever the client sends, however large and however slowly. Here
the body is streamed: reading stops as soon as it passes the limit (BodyTooLarge, 413; a
Content-Length above the limit is refused before anything is read), and a body not complete by
the deadline is abandoned (BodyTooSlow, 408); a client that hangs up midway gets a 400 it will
not read, instead of an error in the log. The routes never see more than the limit.
"""

from __future__ import annotations

import asyncio

from fastapi import Request
from starlette.requests import ClientDisconnect


class BodyError(Exception):
    """The request body was not read: the client gets a 4xx and the connection is closed."""

    status_code = 400
    reason = "bad_request"


class BodyTooLarge(BodyError):
    status_code = 413
    reason = "oversized"

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes")
        self.limit = limit


class BodyTooSlow(BodyError):
    status_code = 408
    reason = "timeout"

    def __init__(self, timeout: float) -> None:
        super().__init__(f"request body not received within {timeout:g} s")


class BodyIncomplete(BodyError):
    status_code = 400
    reason = "incomplete"

    def __init__(self) -> None:
        super().__init__("the client went away before the body was complete")


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    declared = request.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTooSlow(timeout) from None
    except ClientDisconnect:
        raise BodyIncomplete() from None
    return b"".join(chunks)
