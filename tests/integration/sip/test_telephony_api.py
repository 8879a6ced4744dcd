"""Telephony HTTP endpoints: status and registrations (read roles), SIP passwords (agents
their own, supervisors' softphones), warm-transfer and listen-in errors are 4xx with stable
codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lendline.app import build_container
from lendline.store.models import AgentRow
from lendline.store.models_auth import UserRow
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


def test_staff_softphone_accounts_for_supervisors(client: TestClient) -> None:
    """Supervisors and team leads get a SIP account (user = user name) for listen-in; only
    their own (admins: anyone's); agents' and other roles' users cannot have one."""
    c = client.app.state.test_container  # type: ignore[attr-defined]
    create_user(c, "lead", "team_lead", team_id="team_a")
    sup, adm, agent = login(client, "sup"), login(client, "adm"), login(client, "a03")
    url = "/api/v1/telephony/staff/{}/sip-password"
    body = {"password": "long-enough-2"}
    r = client.put(url.format("sup"), json=body, headers=sup)
    assert r.status_code == 200 and r.json() == {"username": "sup", "sip_user": "sup"}, r.text
    assert client.put(url.format("lead"), json=body, headers=sup).json()["error"] == "not_own_user"
    assert client.put(url.format("sup"), json=body, headers=agent).status_code == 403
    assert client.put(url.format("lead"), json=body, headers=adm).status_code == 200
    r = client.put(url.format("a03"), json=body, headers=adm)  # an agent: its own SIP account
    assert r.status_code == 409 and r.json()["error"] == "not_a_supervisor"
    r = client.put(url.format("ghost"), json=body, headers=adm)
    assert r.status_code == 404 and r.json()["error"] == "user_not_found"
    creds = c.services["sip_credentials"]
    realm = c.settings.sip_domain
    assert creds.ha1("sup")["SHA-256"] == ha1("SHA-256", "sup", realm, "long-enough-2")
    assert creds.staff_sip_user("lead") == "lead" and creds.staff_sip_user("adm") is None
    with c.db.session() as s:  # demoted: the phone no longer authenticates
        s.scalars(select(UserRow).where(UserRow.username == "lead")).one().role = "agent"
    creds._cache.clear()
    assert creds.ha1("lead") == {}


def test_supervise_refuses_calls_without_sip_media(client: TestClient) -> None:
    """A call that lives only in the API (no SIP leg) cannot be listened to: 409 with a
    stable code; a team lead cannot reach another team's call; refusals are audited."""
    c = client.app.state.test_container  # type: ignore[attr-defined]
    create_user(c, "lead", "team_lead", team_id="team_a")
    call = c.services["call_center"].inbound_call(caller="13900000002", channel="api")
    sup, lead = login(client, "sup"), login(client, "lead")
    url = f"/api/v1/desktop/calls/{call.call_id}/supervise"
    r = client.post(url, json={"mode": "listen"}, headers=sup)
    assert r.status_code == 409 and r.json()["error"] == "call_not_on_sip", r.text
    assert "SIP" in r.json()["detail"] and "监听" in r.json()["detail"]
    r = client.post(url, json={"mode": "listen"}, headers=lead)  # not its team's call
    assert r.status_code == 404 and r.json()["error"] == "call_not_found"
    r = client.post(url, json={"mode": "shout"}, headers=sup)
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
    (entry,) = c.services["audit"].search(actor="sup", action="supervise.listen")
    assert entry.outcome == "call_not_on_sip" and entry.target == call.call_id
    r = client.delete(url, headers=sup)  # nothing to stop
    assert r.status_code == 409 and r.json()["error"] == "call_not_supervised", r.text
    assert "无人监听" in r.json()["detail"] and "nobody" in r.json()["detail"]
    assert client.delete(url, headers=lead).json()["error"] == "call_not_found"
    r = client.delete("/api/v1/desktop/calls/nope/supervise", headers=sup)
    assert r.status_code == 404 and r.json()["error"] == "call_not_found"
    (entry,) = c.services["audit"].search(actor="sup", action="supervise.stop")
    assert entry.outcome == "call_not_supervised"
