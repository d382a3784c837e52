"""The envelope every event travels in: id, type, schema version, occurrence time, source."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")

Id = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")


class Contract(BaseModel):
    """Base for every wire model: immutable, and unknown fields are an error, not silence."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(Contract):
    event_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="Idempotency key: the same id is counted once, however often it arrives.",
    )
    type: str
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(
        description="When it happened in the bank, with its UTC offset; stored as Asia/Shanghai time."
    )
    source: str = Field(min_length=1, max_length=64, description="The system or door it came from.")

    @field_validator("occurred_at")
    @classmethod
    def _to_shanghai(cls, value: datetime) -> datetime:
        # Contest windows are Shanghai calendar days: keep one canonical offset on the wire.
        return value.astimezone(SHANGHAI)
