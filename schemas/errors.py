"""Why an event was refused. Every door (Kafka, HTTP, CLI) reports these same codes."""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    EMPTY = "empty"
    OVERSIZED = "oversized"
    MALFORMED_JSON = "malformed_json"
    TOO_DEEP = "too_deep"
    NUMBER_TOO_LONG = "number_too_long"
    DUPLICATE_KEY = "duplicate_key"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_VERSION = "unknown_version"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    FUTURE_TIME = "future_time"


class Rejection(Exception):
    """An input that breaks its contract: a reason code and a message a person can act on."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
