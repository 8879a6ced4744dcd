from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lendline.app import build_container
from lendline.settings import Settings
from lendline.web.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    c = build_container(settings)
    with TestClient(create_app(c)) as tc:
        yield tc


def test_healthz_and_metrics(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    m = client.get("/metrics")
    assert m.status_code == 200 and "python_info" in m.text


def test_unknown_route_has_stable_error_body(client: TestClient) -> None:
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_login_me_and_refusals(client: TestClient) -> None:
    from tests.helpers import create_user, login

    container = client.app.state.container  # type: ignore[attr-defined]
    create_user(container, "sup", "supervisor")
    assert client.get("/api/v1/session/me").status_code == 401
    bad = client.post("/api/v1/session/login", json={"username": "sup", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "login_failed"
    missing = client.post("/api/v1/session/login", json={"username": "sup"})
    assert missing.status_code == 422 and missing.json()["field"] == "password"
    headers = login(client, "sup")
    me = client.get("/api/v1/session/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "supervisor"
    forged = client.get("/api/v1/session/me", headers={"Authorization": "Bearer x.y.z"})
    assert forged.status_code == 401


def test_route_tables_are_built_at_start_up_not_on_the_first_request(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI builds a router's routes on the first request that walks it, on the event
    loop that carries SIP; start-up does it, so the first real requests build nothing."""
    import fastapi.routing

    built: list[str] = []
    real = fastapi.routing.get_dependant

    def counting(*args: object, **kwargs: object) -> object:
        built.append(str(kwargs.get("path")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    c = build_container(settings)
    with TestClient(create_app(c)) as tc:
        monkeypatch.setattr(fastapi.routing, "get_dependant", counting)
        assert tc.get("/api/v1/desktop/me").status_code == 401
        assert tc.post("/api/v1/desktop/state", json={"state": "available"}).status_code == 401
        assert tc.get("/api/v1/nope").status_code == 404
    assert built == []


def test_serving_app_freezes_the_start_up_heap_and_test_apps_do_not(settings: Settings) -> None:
    """``lendline serve`` moves what start-up leaves (models, tables, pypinyin's phrase
    lists) out of the collector's walk; an app built without ``freeze_gc`` leaves it alone."""
    import gc

    gc.unfreeze()
    try:
        with TestClient(create_app(build_container(settings))):
            assert gc.get_freeze_count() == 0
        with TestClient(create_app(build_container(settings), freeze_gc=True)):
            frozen = gc.get_freeze_count()
            assert frozen > 100_000  # the models and tables alone are more than this
            tracked = len(gc.get_objects())
            assert tracked < frozen  # a full collection now walks less than half the heap
    finally:
        gc.unfreeze()
