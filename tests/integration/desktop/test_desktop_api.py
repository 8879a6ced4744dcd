"""The desktop over HTTP and WebSocket with the real CallCenter, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from lendline.app import Container, build_container
from lendline.demo.seed import seed_demo_data
from lendline.domain.events import ComplianceAlert
from lendline.web.app import create_app
from tests.conftest import make_settings
from tests.helpers import PASSWORD, create_user, login

from .helpers import bot_routed_customer, general_queue_customer

DEMO_PASSWORD = "demo-Passw0rd!"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[tuple[Container, TestClient]]:
    c = build_container(make_settings(tmp_path, database_url, connector_timeout_s=2.0))
    seed_demo_data(c)
    with TestClient(create_app(c)) as client:
        yield c, client


def _login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Bearer headers only: the cookie jar would otherwise carry the last login everywhere."""
    headers = login(client, username, password)
    client.cookies.clear()
    return headers


def _until(ws: WebSocketTestSession, type_: str, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        msg = ws.receive_json()
        if msg.get("type") == type_:
            return msg
    raise AssertionError(f"no {type_} message")


def test_reservation_to_pop_to_disposition(env: tuple[Container, TestClient]) -> None:
    c, client = env
    customer = general_queue_customer(c)
    agent = _login(client, "agent01")
    sup = _login(client, "supervisor01")
    r = client.post("/api/v1/desktop/state", json={"state": "available"}, headers=agent)
    assert r.status_code == 200 and r.json()["state"] == "available"
    token = agent["Authorization"].split()[1]
    with client.websocket_connect(f"/ws/desktop?token={token}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["agent_id"] == "agent01"
        call = client.post(
            "/api/v1/calls", json={"customer_id": customer.customer_id}, headers=sup
        ).json()
        offer = _until(ws, "call.offered")
        assert offer["data"]["call_id"] == call["call_id"]
        pop_msg = _until(ws, "screen_pop")
        pop, last_id = pop_msg["data"], pop_msg["id"]
        assert pop["customer"]["customer_id"] == customer.customer_id
        assert (
            pop["customer"]["name"] != customer.name
            and pop["customer"]["name"][0] == customer.name[0]
        )
        assert {f["flag"] for f in pop["risk_flags"]} == set(customer.risk_flags.split(","))
        assert len(pop["loans"]) == len(customer.loans) and pop["missing"] == []
        assert pop["call"]["routing_reason"]
    # another agent can neither see nor touch the call
    other = _login(client, "agent02")
    cid = call["call_id"]
    assert client.get(f"/api/v1/desktop/calls/{cid}/pop", headers=other).status_code == 404
    lead = _login(client, "lead01")  # team_a; agent01 is in the service team
    assert client.get(f"/api/v1/desktop/calls/{cid}/pop", headers=lead).status_code == 404
    assert client.get(f"/api/v1/desktop/calls/{cid}/pop", headers=sup).json()["call_id"] == cid
    assert client.post(f"/api/v1/desktop/calls/{cid}/hangup", headers=other).status_code == 404
    # after a reconnect the same page gets its pop again from REST and misses nothing
    me = client.get("/api/v1/desktop/me", headers=agent).json()
    assert me["current"]["call_id"] == cid and me["current"]["pop"]["call_id"] == cid
    assert client.post(f"/api/v1/desktop/calls/{cid}/accept", headers=agent).status_code == 200
    epoch = me["push"]["epoch"]
    with client.websocket_connect(
        f"/ws/desktop?token={token}&epoch={epoch}&last_id={last_id}"
    ) as ws:
        assert ws.receive_json()["resync"] is False
        answered = _until(ws, "call.answered")
        assert answered["id"] > last_id
    r = client.post(f"/api/v1/desktop/calls/{cid}/dtmf", json={"digits": "12#x"}, headers=agent)
    assert r.status_code == 422 and r.json()["field"] == "digits"
    assert client.post(f"/api/v1/desktop/calls/{cid}/hangup", headers=agent).status_code == 200
    r = client.post(
        f"/api/v1/desktop/calls/{cid}/disposition", json={"code": "nonsense"}, headers=agent
    )
    assert r.status_code == 422 and r.json()["field"] == "code"
    r = client.post(
        f"/api/v1/desktop/calls/{cid}/disposition",
        json={"code": "promise_to_pay", "note": "下周一还款", "resolved": True},
        headers=agent,
    )
    assert r.status_code == 200 and r.json()["disposition"] == "promise_to_pay"
    assert (
        client.post("/api/v1/desktop/state", json={"state": "available"}, headers=agent).json()[
            "state"
        ]
        == "available"
    )


def test_wallboard_push_and_permissions(env: tuple[Container, TestClient]) -> None:
    c, client = env
    sup = _login(client, "supervisor01")
    agent = _login(client, "agent03")
    assert client.get("/api/v1/desktop/wallboard", headers=agent).status_code == 403
    wb = client.get("/api/v1/desktop/wallboard", headers=sup).json()
    assert {q["queue"] for q in wb["queues"]} >= {"general", "collections"}
    assert len(wb["agents"]) == 30
    token = sup["Authorization"].split()[1]
    with client.websocket_connect(f"/ws/desktop?token={token}") as ws:
        assert ws.receive_json()["topics"] == ["wallboard"]
        client.post("/api/v1/desktop/state", json={"state": "available"}, headers=agent)
        snap = _until(ws, "wallboard.delta")["data"]
        assert {a["agent_id"]: a["state"] for a in snap["agents"]} == {"agent03": "available"}
        c.bus.publish(ComplianceAlert(kind="rate_cap", detail="产品 micro 年化利率 24.5% 超上限"))
        alert = _until(ws, "alert")["data"]
        assert alert["kind"] == "compliance"


def test_socket_refuses_anonymous_and_pages_are_served(env: tuple[Container, TestClient]) -> None:
    _c, client = env
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect("/ws/desktop?token=forged") as ws,
    ):
        ws.receive_json()
    assert exc.value.code == 4401
    for page in ("/agent", "/supervisor"):
        r = client.get(page)
        assert r.status_code == 200 and 'data-testid="' in r.text
    assert client.get("/static/desktop/agent.js").status_code == 200


def test_reports_and_csv(env: tuple[Container, TestClient]) -> None:
    c, client = env
    create_user(c, "lead9", "team_lead", team_id="team_a")
    lead = _login(client, "lead9", PASSWORD)
    sup = _login(client, "supervisor01")
    r = client.get("/api/v1/reports/kpis?group=queue", headers=lead)
    assert r.status_code == 200
    total = r.json()["total"]  # the demo's seven days of past calls
    assert total["offered"] > 100 and 0 < total["service_level"] < 1 and total["asa_s"] > 0
    assert total["answered"] + total["abandoned"] + total["bot_calls"] >= total["offered"]
    assert client.get("/api/v1/reports/kpis.csv", headers=lead).status_code == 403
    r = client.get("/api/v1/reports/kpis.csv?group=day", headers=sup)
    assert r.status_code == 200 and r.text.lstrip("\ufeff").startswith("分组,呼入量")
    bad = client.get("/api/v1/reports/kpis?from=2026-11-27T00:00:00", headers=sup)
    assert bad.status_code == 422 and bad.json()["field"] == "from"
    assert client.get("/api/v1/reports/kpis?group=planet", headers=sup).status_code == 422


def test_webhook_management_is_admin_only(env: tuple[Container, TestClient]) -> None:
    _c, client = env
    admin = _login(client, "admin")
    sup = _login(client, "supervisor01")
    body = {"url": "http://127.0.0.1:9/hook", "events": ["call.ended"]}
    assert client.post("/api/v1/webhooks", json=body, headers=sup).status_code == 403
    r = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert r.status_code == 201 and len(r.json()["secret"]) >= 32
    assert (
        client.post("/api/v1/webhooks", json={**body, "url": "ftp://x/y"}, headers=admin).json()[
            "field"
        ]
        == "url"
    )
    assert (
        client.post(
            "/api/v1/webhooks", json={**body, "events": ["agent.x"]}, headers=admin
        ).status_code
        == 422
    )
    assert [w["url"] for w in client.get("/api/v1/webhooks", headers=admin).json()] == [body["url"]]
    r = client.post("/api/v1/webhooks/deliveries/d_nope/replay", headers=admin)
    assert r.status_code == 404 and r.json()["error"] == "delivery_not_found"


def test_warm_transfer_to_a_colleague(env: tuple[Container, TestClient]) -> None:
    c, client = env
    customer = general_queue_customer(c)
    a1, a2 = _login(client, "agent01"), _login(client, "agent02")
    sup = _login(client, "supervisor01")
    client.post("/api/v1/desktop/state", json={"state": "available"}, headers=a1)
    call = client.post("/api/v1/calls", json={"customer_id": customer.customer_id}, headers=sup)
    cid = call.json()["call_id"]
    assert client.post(f"/api/v1/desktop/calls/{cid}/accept", headers=a1).status_code == 200
    client.post("/api/v1/desktop/state", json={"state": "available"}, headers=a2)
    # no SIP leg on an API call: telephony's consult says so, the page falls back
    consult = client.post(
        f"/api/v1/telephony/calls/{cid}/consult", json={"agent_id": "agent02"}, headers=a1
    )
    assert consult.status_code in (404, 502), consult.text
    token2 = a2["Authorization"].split()[1]
    with client.websocket_connect(f"/ws/desktop?token={token2}") as ws:
        ws.receive_json()
        bad = client.post(f"/api/v1/desktop/calls/{cid}/transfer", json={}, headers=a1)
        assert bad.status_code == 422 and bad.json()["field"] == "queue"
        r = client.post(
            f"/api/v1/desktop/calls/{cid}/transfer",
            json={"agent_id": "agent02", "warm": True, "note": "客户想改还款计划 13812345678"},
            headers=a1,
        )
        assert r.status_code == 200, r.text
        consult_msg = _until(ws, "transfer.consult")["data"]
        assert consult_msg["from_agent"] == "agent01" and consult_msg["call_id"] == cid
        pop = _until(ws, "screen_pop")["data"]
        assert pop["call_id"] == cid and pop["agent_id"] == "agent02"
        assert pop["call"]["transferred_by"] == "agent01"
        assert pop["call"]["transfer_note"] == "客户想改还款计划 138****5678"


def test_bot_handoff_reaches_the_pop(env: tuple[Container, TestClient]) -> None:
    c, client = env
    customer = bot_routed_customer(c)
    agent, sup = _login(client, "agent05"), _login(client, "supervisor01")
    call = client.post("/api/v1/calls", json={"customer_id": customer.customer_id}, headers=sup)
    assert call.json()["state"] == "in_bot", call.json()
    cid = call.json()["call_id"]
    client.post("/api/v1/desktop/state", json={"state": "available"}, headers=agent)
    context = {  # the shape the dialogue engine hands over
        "conversation_id": "conv-1",
        "reason": "user_request",
        "verified": True,
        "intents": [{"intent": "unable_to_pay", "confidence": 0.91}],
        "slots": {"amount": 3000},
        "transcript": [
            {"role": "bot", "text": "您好，这里是还款提醒。"},
            {"role": "user", "text": "我这个月还不上，我的手机是13812345678"},
        ],
    }
    r = client.post(
        f"/api/v1/calls/{cid}/enqueue", json={"queue": "general", "context": context}, headers=sup
    )
    assert r.status_code == 200, r.text
    pop = client.get(f"/api/v1/desktop/calls/{cid}/pop", headers=agent)
    assert pop.status_code == 200, pop.text
    bot = pop.json()["bot"]
    assert bot["intent"] == "unable_to_pay" and bot["verification"] is True
    assert bot["transcript"][1] == {
        "speaker": "user",
        "text": "我这个月还不上，我的手机是138****5678",
    }
    kb = client.get("/api/v1/desktop/knowledge?intent=unable_to_pay", headers=agent).json()
    assert kb["items"][0]["title"]["zh"] == "无力还款"
