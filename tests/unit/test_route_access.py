"""Every route of the API states who may call it: an access dependency from services/api/access.py,
or a place on the short list of public routes (liveness, the static pages, logging in). A route
added without one fails here, before it can ship open."""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api.app import create_app
from services.settings import ServiceSettings

PUBLIC = {
    "/healthz",
    "/readyz",
    # Counts only, for Prometheus: no names, ids or points (services/api/routes/metrics.py).
    "/metrics",
    "/api/auth/login",
    "/api/auth/logout",
    # Static shells with no data: what they show comes from the API with the visitor's credentials.
    "/",
    "/screen",
    "/me/{cm_id}",
    "/morning/{sub_branch_id}",
    "/pages/{name}",
    "/console",
    "/console/assets/{name}",
}
GUARDS = {"require_read", "require_source", "current_principal"} | {
    f"require_{role}" for role in ("viewer", "organiser", "admin")
}


def _guards(dependant: Dependant) -> set[str]:
    found = {getattr(dependant.call, "__name__", "")} & GUARDS
    for sub in dependant.dependencies:
        found |= _guards(sub)
    return found


def _routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (which this FastAPI keeps as they are)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):
            out.extend(_routes(route.original_router.routes))
    return out


def test_every_route_is_guarded_or_deliberately_public() -> None:
    routes = _routes(create_app(ServiceSettings()).routes)
    assert len(routes) > 20
    open_routes = sorted(
        f"{sorted(r.methods)} {r.path}" for r in routes if r.path not in PUBLIC and not _guards(r.dependant)
    )
    assert open_routes == []


def test_writes_need_more_than_a_reader() -> None:
    for route in _routes(create_app(ServiceSettings()).routes):
        if route.path in PUBLIC or route.methods <= {"GET", "HEAD"}:
            continue
        guards = _guards(route.dependant)
        assert guards & {"require_organiser", "require_admin", "require_source"}, (route.path, guards)
