"""The container starts SIP with the rest (``lendline serve``): OPTIONS answered, agents
register with the digest credentials stored in the agents table, team leads and supervisors
with their staff SIP accounts (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lendline.app import build_container
from lendline.store.models import AgentRow
from lendline.telephony.credentials import AgentCredentials
from lendline.telephony.sip.digest import ha1
from lendline.wiring.telephony import seed_demo
from tests.conftest import make_settings
from tests.helpers import create_user

from .conftest import needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.sipp]


async def test_container_serves_sip_and_registers_agents(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        sip_enabled=True,
        sip_port=0,
        rtp_port_min=0,
        rtp_port_max=0,
        sip_digest_algorithms="MD5,SHA-256",  # SIPp 3.6 answers the first challenge, MD5 only
    )
    c = build_container(settings)
    with c.db.session() as s:
        s.add(AgentRow(agent_id="agent07", name="王芳", sip_user="agent07"))
    create_user(c, "lead07", "team_lead", team_id="team_a")  # may listen in: gets a phone
    create_user(c, "audit07", "compliance_officer")  # may not: none
    seeded = seed_demo(c)
    assert "agent07" in seeded and "lead07" in seeded and "audit07" not in seeded
    # the demo password becomes its SIP password
    creds: AgentCredentials = c.services["sip_credentials"]
    assert creds.ha1("agent07")["SHA-256"] == ha1(
        "SHA-256", "agent07", settings.sip_domain, settings.demo_password
    )
    assert seed_demo(c) == ""  # idempotent
    await c.start()
    try:
        port = c.services["sip_server"].port
        assert (await run_sipp(port, "options.xml", "ivr")).rc == 0
        ok = await run_sipp(
            port, "register_ok.xml", "agent07", "-au", "agent07", "-ap", settings.demo_password
        )
        assert ok.rc == 0, ok.out
        lead = await run_sipp(
            port, "register_ok.xml", "lead07", "-au", "lead07", "-ap", settings.demo_password
        )
        assert lead.rc == 0, lead.out  # a team lead's softphone, for listen-in
        bad = await run_sipp(port, "register_bad.xml", "agent07", "-au", "agent07", "-ap", "nope")
        assert bad.rc == 0, bad.out
        registrar = c.services["sip_registrar"]
        assert len(registrar.lookup("agent07", c.clock.monotonic())) == 1
        assert len(registrar.lookup("lead07", c.clock.monotonic())) == 1
        assert registrar.counters["rejected"] == 1
    finally:
        await c.stop()
