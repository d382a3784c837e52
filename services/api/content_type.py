"""Request bodies are read as what the route takes, whatever the Content-Type says.

`curl -d '{"competition_id": …}'` sends `application/x-www-form-urlencoded`; FastAPI would then
hand the route the raw bytes and answer `422 Input should be a valid dictionary`. No route here
takes a form: the JSON routes read JSON, and the NDJSON and CSV doors read their bytes as they
are (services/api/body.py). So a request's Content-Type is taken as JSON unless it says JSON
already or is multipart (which only a file upload sends). A body that is not JSON is still a
422 problem, naming the body and the parser's complaint.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_JSON = (b"application/json", b"application/problem+json")


def _is_json(value: bytes) -> bool:
    media = value.split(b";", 1)[0].strip().lower()
    return media in _JSON or (media.startswith(b"application/") and media.endswith(b"+json"))


class JsonBodies:
    """ASGI middleware: a non-JSON, non-multipart Content-Type reads as application/json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _WITH_BODY:
            headers = scope["headers"]
            given = next((v for k, v in headers if k == b"content-type"), b"")
            if not _is_json(given) and not given.lower().startswith(b"multipart/"):
                kept = [(k, v) for k, v in headers if k != b"content-type"]
                scope = {**scope, "headers": [*kept, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)
