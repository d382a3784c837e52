"""Typed dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.api.relay import Relay
from services.history.moments import LedgerHistory
from services.publisher import Publisher
from services.readmodel import ReadModel
from services.settings import ServiceSettings
from services.store import Store


def _settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def _publisher(request: Request) -> Publisher:
    publisher: Publisher = request.app.state.publisher
    return publisher


SettingsDep = Annotated[ServiceSettings, Depends(_settings)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]


def _read_model(request: Request) -> ReadModel:
    read_model: ReadModel = request.app.state.read_model
    return read_model


ReadModelDep = Annotated[ReadModel, Depends(_read_model)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(_store)]


def _relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


RelayDep = Annotated[Relay, Depends(_relay)]


def _history(request: Request) -> LedgerHistory:
    """The board at past moments (services/history): made on first use, kept for the process."""
    history: LedgerHistory | None = getattr(request.app.state, "history", None)
    if history is None:
        history = request.app.state.history = LedgerHistory(_store(request))
    return history


HistoryDep = Annotated[LedgerHistory, Depends(_history)]
