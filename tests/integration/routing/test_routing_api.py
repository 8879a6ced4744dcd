"""REST API of routing: calls, queues, agents, rules, metrics; errors and RBAC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendline.app import build_container
from lendline.demo.seed import seed_demo_data
from lendline.web.app import create_app
from tests.conftest import make_settings
from tests.helpers import create_user, login


@pytest.fixture
def client(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        (Path(__file__).parents[3] / "rules" / "default.yaml").read_text("utf-8"), "utf-8"
    )
    c = build_container(make_settings(tmp_path, sqlite_url, rules_file=rules))
    seed_demo_data(c)
    create_user(c, "sup", "supervisor")
    create_user(c, "adm", "admin")
    create_user(c, "a26", "agent", agent_id="agent26")
    with TestClient(create_app(c)) as tc:
        yield tc


def test_inject_call_and_read_decision(client: TestClient) -> None:
    sup = login(client, "sup")
    agent = login(client, "a26")
    r = client.put("/api/v1/agents/agent26/state", json={"state": "available"}, headers=agent)
    assert r.status_code == 200 and r.json()["state"] == "available"
    r = client.post("/api/v1/calls", json={"phone": "13800000001", "reason": "other"}, headers=sup)
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["decision"]["target"] == "general" and call["decision"]["rule"] is None
    assert call["decision"]["reason"]
    assert call["state"] == "ringing" and call["agent_id"] == "agent26"
    assert call["caller"] == "138****0001"
    got = client.get(f"/api/v1/calls/{call['call_id']}", headers=agent)
    assert got.status_code == 200 and got.json()["decision"] == call["decision"]
    ok = client.post(
        f"/api/v1/calls/{call['call_id']}/accept", json={"agent_id": "agent26"}, headers=agent
    )
    assert ok.status_code == 200 and ok.json()["state"] == "connected"
    queues = client.get("/api/v1/queues", headers=agent).json()
    assert {q["queue"] for q in queues} >= {"general", "senior_loans", "collections"}
    metrics = client.get("/metrics").text
    assert 'lendline_agents{state="on_call"} 1.0' in metrics
    assert "lendline_routing_decisions_total 1.0" in metrics
    assert 'lendline_queue_waiting{queue="general"} 0.0' in metrics


def test_errors_are_4xx_with_the_field(client: TestClient) -> None:
    sup = login(client, "sup")
    agent = login(client, "a26")
    r = client.post("/api/v1/calls", json={"reason": "x"}, headers=sup)
    assert r.status_code == 422 and r.json()["field"] == "customer_id"
    r = client.post("/api/v1/calls", json={"phone": "12"}, headers=sup)
    assert r.status_code == 422 and r.json()["field"] == "phone"
    r = client.post("/api/v1/calls", json={"customer_id": "nobody"}, headers=sup)
    assert r.status_code == 422 and r.json()["error"] == "customer_not_found"
    r = client.post("/api/v1/calls", json={"phone": 5, "reason": []}, headers=sup)
    assert r.status_code == 422
    r = client.get("/api/v1/calls/nope", headers=sup)
    assert r.status_code == 404 and r.json()["error"] == "call_not_found"
    r = client.put("/api/v1/agents/agent01/state", json={"state": "available"}, headers=agent)
    assert r.status_code == 403 and r.json()["error"] == "not_own_agent"
    r = client.put("/api/v1/agents/agent26/state", json={"state": "on_call"}, headers=agent)
    assert r.status_code == 422 and r.json()["field"] == "state"
    assert (
        client.post("/api/v1/calls", json={"phone": "13800000001"}, headers=agent).status_code
        == 403
    )
    client.cookies.clear()
    assert client.get("/api/v1/queues").status_code == 401


def test_rules_reload_rejects_bad_file_and_keeps_rules(client: TestClient, tmp_path: Path) -> None:
    adm = login(client, "adm")
    before = client.get("/api/v1/rules", headers=adm).json()
    assert before["rules"][0]["name"] == "senior_first_call"
    bad = "rules:\n  - name: x\n    when: loan_amount_yuan >> 3\n    target: queue:general\n"
    r = client.post("/api/v1/rules/reload", json={"yaml": bad}, headers=adm)
    assert r.status_code == 422 and r.json()["error"] == "invalid_rules" and r.json()["line"] == 3
    assert client.get("/api/v1/rules", headers=adm).json()["rules"] == before["rules"]
    (tmp_path / "rules.yaml").write_text("rules: [\n", "utf-8")
    r = client.post("/api/v1/rules/reload", headers=adm)
    assert r.status_code == 422 and r.json()["line"] is not None
    good = (
        "queues:\n  general: {}\nrules:\n  - name: all\n    when: true\n    target: queue:general\n"
    )
    r = client.post("/api/v1/rules/reload", json={"yaml": good}, headers=adm)
    assert r.status_code == 200 and r.json()["rules"] == 1
    assert [x["name"] for x in client.get("/api/v1/rules", headers=adm).json()["rules"]] == ["all"]


def test_ticker_writes_call_records_behind(client: TestClient) -> None:
    import time

    from lendline.store.models import CallRow

    sup = login(client, "sup")
    call = client.post("/api/v1/calls", json={"phone": "13800000009"}, headers=sup).json()
    container = client.app.state.container  # type: ignore[attr-defined]
    for _ in range(40):  # flushed by the background ticker within ~1 s
        with container.db.session() as s:
            row = s.get(CallRow, call["call_id"])
        if row is not None:
            break
        time.sleep(0.1)
    assert row is not None and row.state == call["state"] and row.caller_masked == "138****0009"
