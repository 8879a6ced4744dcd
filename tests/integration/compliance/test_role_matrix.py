"""The whole role × action matrix, walked through the HTTP API.

The routes are enumerated from the app (whatever features have landed), each with the action
its ``require(...)`` dependency declares; every role is tried on every route. A role the
``PERMISSIONS`` table does not allow must get 403 ``{"error": "forbidden"}`` and leave a
``denied`` entry in the audit log; an allowed role must never get ``forbidden``. Every route
must be protected, except the public ones listed below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from lendline.app import Container, build_container
from lendline.clock import ManualClock
from lendline.compliance.rbac import PERMISSIONS, Role, allowed
from lendline.web.app import create_app
from tests.conftest import make_settings
from tests.helpers import create_user, login
from tests.integration.compliance.conftest import START, USERS

PUBLIC = {
    "/healthz",
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/api/v1/session/login",
    "/api/v1/session/logout",
}


def route_action(route: Any) -> str | None:
    """The action of the ``require(...)`` dependency anywhere in the route's dependency tree."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "action", None)
        if isinstance(action, str):
            return action
        stack.extend(dep.dependencies)
    return None


def is_page(route: Any) -> bool:
    rc = route.original_route.response_class
    cls = getattr(rc, "value", rc)
    return isinstance(cls, type) and issubclass(cls, HTMLResponse | FileResponse)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def api_routes(app: Any) -> Iterator[tuple[Any, str]]:
    """Every (route, method) of the app, included routers flattened (FastAPI's route
    contexts carry the full path and the effective dependencies)."""
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            for method in sorted((ctx.methods or set()) - {"HEAD", "OPTIONS"}):
                yield ctx, method


@pytest.fixture
def matrix_client(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[TestClient, Container]]:
    # role checks do not depend on the database engine: SQLite only, to keep the walk fast
    c = build_container(make_settings(tmp_path, sqlite_url), clock=ManualClock(start=START))
    for role, (name, agent_id, team_id) in USERS.items():
        create_user(c, name, role.value, agent_id=agent_id, team_id=team_id)
    with TestClient(create_app(c, manage_lifecycle=False)) as tc:
        yield tc, c
    c.db.dispose()


def test_every_route_is_protected_and_its_action_is_in_the_table(
    matrix_client: tuple[TestClient, Container],
) -> None:
    client, _ = matrix_client
    unprotected, unknown = [], []
    for route, method in api_routes(client.app):
        action = route_action(route)
        if action is None:
            if route.path not in PUBLIC and not (
                is_page(route) and not route.path.startswith("/api/")
            ):
                unprotected.append(f"{method} {route.path}")
            continue
        if action not in PERMISSIONS:
            unknown.append(f"{method} {route.path}: {action}")
        r = client.request(method, concrete(route.path))
        assert r.status_code == 401, f"{method} {route.path} without credentials: {r.status_code}"
    assert not unprotected, f"routes without require(action): {unprotected}"
    assert not unknown, f"actions missing from compliance.rbac.PERMISSIONS: {unknown}"


def test_the_whole_matrix_through_http(matrix_client: tuple[TestClient, Container]) -> None:
    client, container = matrix_client
    audit = container.services["audit"]
    headers = {role: login(client, name) for role, (name, _a, _t) in USERS.items()}
    walked = refused = 0
    for route, method in api_routes(client.app):
        action = route_action(route)
        if action is None:
            continue
        for role in Role:
            username = USERS[role][0]
            r = client.request(method, concrete(route.path), headers=headers[role])
            walked += 1
            where = f"{role.value} {method} {route.path} ({action})"
            assert r.status_code != 500, f"{where}: 500 {r.text[:200]}"
            is_json = r.headers.get("content-type", "").startswith("application/json")
            data = r.json() if is_json else None
            body = data if isinstance(data, dict) else {}
            if allowed(role.value, action):
                assert body.get("error") != "forbidden", f"{where}: refused but allowed"
                continue
            refused += 1
            assert r.status_code == 403 and body.get("error") == "forbidden", (
                f"{where}: {r.status_code} {body}"
            )
            last = audit.search(limit=1)[0]
            assert (last.actor, last.action, last.outcome) == (username, action, "denied"), where
            assert concrete(route.path) in last.target
    assert walked > 0 and refused > 0
    assert audit.verify().ok


def test_api_keys_are_limited_to_their_scopes(matrix_client: tuple[TestClient, Container]) -> None:
    client, container = matrix_client
    admin = login(client, USERS[Role.ADMIN][0])
    r = client.post(
        "/api/v1/compliance/api-keys",
        json={"name": "crm-sync", "role": "supervisor", "scopes": ["recordings.search"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert key.startswith("ll_")
    listed = client.get("/api/v1/compliance/api-keys", headers=admin).json()
    assert listed[0]["key"] is None and key not in str(listed)  # shown once, never again
    with container.db.engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text("SELECT secret_hash FROM api_keys")).scalar()
    assert stored and key.split("_", 2)[2] not in stored
    ok = client.get("/api/v1/recordings", headers={"X-API-Key": key})
    assert ok.status_code == 200
    out = client.get("/api/v1/compliance/rate-reviews", headers={"X-API-Key": key})
    assert out.status_code == 403 and out.json()["error"] == "forbidden"  # role may, key may not
    last = container.services["audit"].search(limit=1)[0]
    assert last.outcome == "denied" and "scope" in last.detail
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    bad = client.get("/api/v1/recordings", headers={"X-API-Key": forged})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_api_key"
    key_id = r.json()["key_id"]
    assert client.delete(f"/api/v1/compliance/api-keys/{key_id}", headers=admin).status_code == 204
    assert client.get("/api/v1/recordings", headers={"X-API-Key": key}).status_code == 401
    wide = client.post(
        "/api/v1/compliance/api-keys",
        json={"name": "greedy", "role": "agent", "scopes": ["exports.csv"]},
        headers=admin,
    )
    assert wide.status_code == 422 and wide.json()["field"] == "scopes"
