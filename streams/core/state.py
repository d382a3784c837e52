"""Everything the engine keeps for one customer manager: the events seen (the set a score is a
function of), the org moves, and one book per competition. JSON round-trips for a faust table."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from schemas.envelope import Envelope
from schemas.events import OrgChanged
from schemas.registry import model_for
from streams.core.book import Book
from streams.core.errors import StateError
from streams.core.org import OrgTimeline

FORMAT = 1


class ParticipantState:
    def __init__(self, cm_id: str) -> None:
        self.cm_id = cm_id
        self.events: dict[str, Envelope] = {}  # event_id -> first event seen with that id
        self.org = OrgTimeline()
        self.books: dict[str, Book] = {}

    def seen(self, event_id: str) -> bool:
        return event_id in self.events

    def remember(self, event: Envelope) -> None:
        self.events[event.event_id] = event
        if isinstance(event, OrgChanged):
            self.org.add(event)

    def book(self, cid: str) -> Book:
        book = self.books.get(cid)
        if book is None:
            book = self.books[cid] = Book(cid)
        return book

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "cm_id": self.cm_id,
            "events": [e.model_dump(mode="json") for e in self.events.values()],
            "books": {cid: book.to_dict() for cid, book in sorted(self.books.items())},
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> ParticipantState:
        if obj.get("format") != FORMAT:
            raise StateError(f"unknown participant state format {obj.get('format')!r}")
        state = cls(str(obj["cm_id"]))
        for raw in obj["events"]:
            model = model_for(raw.get("type", ""), raw.get("schema_version", 0))
            if model is None:
                raise StateError(f"state holds an unknown event type {raw.get('type')!r}")
            try:
                state.remember(model.model_validate(raw))
            except ValidationError as exc:
                raise StateError(f"state holds an invalid event {raw.get('event_id')!r}: {exc}") from None
        state.books = {cid: Book.from_dict(cid, raw) for cid, raw in obj["books"].items()}
        return state
