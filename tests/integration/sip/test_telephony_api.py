"""Telephony HTTP endpoints: status and registrations (read roles), SIP passwords (agents
their own), warm-transfer errors are 4xx with stable codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lendline.app import build_container
from lendline.store.models import AgentRow
from lendline.telephony.sip.digest import ha1
from lendline.web.app import create_app
from tests.conftest import make_settings
from tests.helpers import create_user, login


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path, database_url, sip_enabled=True, sip_port=0, rtp_port_min=0, rtp_port_max=0
    )
    c = build_container(settings)
    with c.db.session() as s:
        s.add(AgentRow(agent_id="agent03", name="张伟", sip_user="agent03"))
        s.add(AgentRow(agent_id="agent04", name="刘洋", sip_user="agent04"))
    create_user(c, "a03", "agent", agent_id="agent03")
    create_user(c, "sup", "supervisor")
    create_user(c, "adm", "admin")
    with TestClient(create_app(c)) as tc:
        tc.app.state.test_container = c  # type: ignore[attr-defined]
        yield tc


def test_status_and_registrations_need_a_reading_role(client: TestClient) -> None:
    sup, agent = login(client, "sup"), login(client, "a03")
    r = client.get("/api/v1/telephony/status", headers=sup)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sip"]["port"] > 0 and body["calls"]["live"] == 0
    assert client.get("/api/v1/telephony/registrations", headers=sup).json() == []
    r = client.get("/api/v1/telephony/status", headers=agent)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_sip_password_own_only_and_validated(client: TestClient) -> None:
    agent, adm = login(client, "a03"), login(client, "adm")
    r = client.put(
        "/api/v1/telephony/agents/agent03/sip-password", json={"password": "short"}, headers=agent
    )
    assert r.status_code == 422
    r = client.put(
        "/api/v1/telephony/agents/agent04/sip-password",
        json={"password": "long-enough-1"},
        headers=agent,
    )
    assert r.status_code == 403 and r.json()["error"] == "not_own_agent"
    r = client.put(
        "/api/v1/telephony/agents/agent03/sip-password",
        json={"password": "long-enough-1"},
        headers=agent,
    )
    assert r.status_code == 200 and r.json()["sip_user"] == "agent03"
    c = client.app.state.test_container  # type: ignore[attr-defined]
    with c.db.session() as s:
        row = s.get(AgentRow, "agent03")
        assert row is not None
        assert row.sip_ha1_md5 == ha1("MD5", "agent03", c.settings.sip_domain, "long-enough-1")
    r = client.put(
        "/api/v1/telephony/agents/nobody/sip-password",
        json={"password": "long-enough-1"},
        headers=adm,
    )
    assert r.status_code == 404 and r.json()["error"] == "agent_not_found"


def test_consult_on_unknown_call_is_404(client: TestClient) -> None:
    agent = login(client, "a03")
    r = client.post(
        "/api/v1/telephony/calls/nope/consult", json={"agent_id": "agent04"}, headers=agent
    )
    assert r.status_code == 404 and r.json()["error"] == "call_not_found"
    r = client.post("/api/v1/telephony/calls/nope/consult/complete", headers=agent)
    assert r.status_code == 404
