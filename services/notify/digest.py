"""Messages grouped into digests, each one POST to the robot; the retry delay. No I/O.

A robot takes 20 messages a minute; a busy minute has more news than that, so whatever is waiting
when the robot may be sent to again goes out as one digest (in the order it was found), split
only where a digest would pass the markdown body's limit (4,096 bytes of UTF-8).

Each line carries a short tag of its key (`#` and 8 hex digits of its SHA-256), in grey: the
robot has no idempotency key, so a reader (or a receiver's filter) can tell a message sent again
after a crash (see docs/notifications.md) from a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

CONTENT_LIMIT = 4096  # bytes of UTF-8 in a markdown message (the WeCom group-robot API)
HEADER = "**竞赛快报**"
RESENT = "（网络中断后补发，可能重复）"


@dataclass(frozen=True)
class Item:
    key: str
    text: str


def tag(key: str) -> str:
    return "#" + hashlib.sha256(key.encode()).hexdigest()[:8]


def line(item: Item) -> str:
    return f'> {item.text} <font color="comment">{tag(item.key)}</font>'


def render(items: Sequence[Item], *, resent: bool = False) -> str:
    head = HEADER + (RESENT if resent else "")
    return "\n".join([head, *(line(i) for i in items)])


def pack(items: Sequence[Item], limit: int = CONTENT_LIMIT - len(RESENT.encode())) -> list[list[Item]]:
    """`items` in order, cut into digests whose rendered body fits `limit` bytes (leaving room for
    the resend mark). A single line too long for any digest is cut short."""
    out: list[list[Item]] = []
    size = 0
    for item in items:
        fitted = _fit(item, limit)
        extra = len(line(fitted).encode()) + 1
        if not out or size + extra > limit:
            out.append([])
            size = len(HEADER.encode())
        out[-1].append(fitted)
        size += extra
    return out


def _fit(item: Item, limit: int) -> Item:
    room = limit - len(HEADER.encode()) - len(line(Item(item.key, "")).encode()) - 2
    text = item.text
    while len(text.encode()) > room:
        text = text[: max(0, len(text) - 16)]
    return item if text == item.text else Item(item.key, text + "…")


def retry_delay(attempts: int, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 2, 4, 8, … up to 5 minutes."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))
