"""No secret with more power than needed where people look: the API's logs keep no key or token
(services/api/log_redaction.py), and the OpenAPI document declares the Bearer key, so /docs can
send one."""

from __future__ import annotations

import io
import logging

from uvicorn.logging import AccessFormatter

from services.api.app import create_app
from services.api.log_redaction import RedactSecrets, log_config, redact
from services.settings import ServiceSettings
from tests.unit.test_route_access import PUBLIC

SECRET = "Zq3vN8xK2pL5mR7tW9yB4cD6fH1jG0sAeUiOo"
KEY = f"cmp.0123456789ab.{SECRET}"


def _access_line(path: str) -> str:
    """One line as uvicorn's access logger writes it, through the filter and its formatter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    )
    handler.addFilter(RedactSecrets())
    logger = logging.Logger("uvicorn.access.test")
    logger.addHandler(handler)
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", path, "1.1", 200)
    return out.getvalue()


def test_the_access_log_keeps_the_key_id_but_not_the_secret() -> None:
    line = _access_line(f"/api/boards/x/stream?sub_branch=sb-chengdong&token={KEY}&last=3")
    assert SECRET not in line
    assert "GET /api/boards/x/stream?sub_branch=sb-chengdong&token=cmp.0123456789ab.***&last=3" in line
    assert " 200" in line


def test_a_token_that_is_not_a_key_is_cut_all_the_same() -> None:
    line = _access_line("/screen?token=not-a-key-but-secret&privacy=1")
    assert "not-a-key-but-secret" not in line
    assert "/screen?token=***&privacy=1" in line


def test_keys_and_bearer_credentials_in_any_message_are_cut() -> None:
    assert redact(f"Authorization: Bearer {KEY}") == "Authorization: Bearer cmp.0123456789ab.***"
    assert redact("Authorization: bearer opaque-secret-value") == "Authorization: bearer ***"
    assert redact(f"key {KEY} refused") == "key cmp.0123456789ab.*** refused"
    assert redact("GET /leaderboard?ranking=team 200") == "GET /leaderboard?ranking=team 200"

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "refused %s with %r", (KEY, 3), None)
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "refused cmp.0123456789ab.*** with 3"


def test_every_handler_of_the_api_log_config_has_the_filter() -> None:
    config = log_config()
    assert config["handlers"], config
    for name, handler in config["handlers"].items():
        assert "redact_secrets" in handler["filters"], name
    assert config["filters"]["redact_secrets"]["()"] == "services.api.log_redaction.RedactSecrets"


def test_openapi_declares_the_bearer_key_on_every_guarded_route() -> None:
    document = create_app(ServiceSettings()).openapi()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    declared, undeclared = [], []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            (declared if operation.get("security") == [{"bearer": []}] else undeclared).append((path, method))
    assert len(declared) > 20
    assert {path for path, _ in undeclared} <= PUBLIC, undeclared
