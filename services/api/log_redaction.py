"""No secret in the API's logs: keys and tokens are cut out of every line uvicorn writes.

A wall screen sends its display token as `?token=` (EventSource cannot set headers), and
uvicorn's access log writes each request's full path; a key pasted into a URL, or an
Authorization header quoted in an error, would land there too. A key reads `cmp.<key id>.<secret>`
(services/store/credentials.py): the key id stays, it is not secret and says which key was used.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

REDACTED = "***"
_KEY = re.compile(r"\bcmp\.([0-9a-f]{12})\.[A-Za-z0-9_\-]+")
_QUERY = re.compile(r"([?&](?:token|access_token|key|password)=)([^&#\s\"']*)", re.IGNORECASE)
_BEARER = re.compile(r"(\bBearer\s+)(?!cmp\.[0-9a-f]{12}\.\*\*\*)([^\s\"',]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every key's secret, every ?token= value and every Bearer credential replaced."""
    text = _KEY.sub(lambda m: f"cmp.{m.group(1)}.{REDACTED}", text)
    text = _QUERY.sub(lambda m: m.group(1) + (m.group(2) if _is_redacted_key(m.group(2)) else REDACTED), text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


def _is_redacted_key(value: str) -> bool:
    return re.fullmatch(rf"cmp\.[0-9a-f]{{12}}\.{re.escape(REDACTED)}", value) is not None


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and string arguments (uvicorn's access log passes the path as an
    argument, so the arguments keep their number and order for its formatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging setup with the filter on both of its handlers (access and errors)."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config
