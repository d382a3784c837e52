"""A competition's robot settings, checked, and its webhook shown without its secret. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from services.notify.messages import KINDS

MAX_TOP_N = 50


class ConfigError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RobotConfig:
    webhook_url: str
    top_n: int
    kinds: tuple[str, ...]
    enabled: bool


def checked(webhook_url: str, top_n: int, kinds: list[str], enabled: bool) -> RobotConfig:
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError("webhook_url", "must be an http(s) URL (the robot's webhook address)")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError("webhook_url", "must be https (plain http only to this machine, for tests)")
    if not 1 <= top_n <= MAX_TOP_N:
        raise ConfigError("top_n", f"must be 1 to {MAX_TOP_N}")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ConfigError(
            "kinds", f"choose from {', '.join(KINDS)}" + (f"; unknown: {unknown}" if unknown else "")
        )
    return RobotConfig(webhook_url, top_n, tuple(dict.fromkeys(kinds)), enabled)


def masked(webhook_url: str) -> str:
    """The URL with each query value (the robot's `key=` is its password) cut to its first and last
    four characters, and any user info dropped: enough to tell two robots apart, not to post."""
    parts = urlsplit(webhook_url)
    query = [(k, _cut(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(f"{k}={v}" for k, v in query), ""))


def _cut(value: str) -> str:
    return "…" if len(value) <= 8 else f"{value[:4]}…{value[-4:]}"
