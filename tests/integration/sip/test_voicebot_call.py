"""A routing rule sends the call to the voicebot: the dialogue flow runs on the SIP call's
media leg (greeting spoken, states recorded) until the caller hangs up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lendline.app import build_container
from lendline.store.models import SkillRow
from tests.conftest import make_settings

from .conftest import free_udp_port, needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.sipp]

RULES = """version: 1
queues:
  general:
    min_proficiency: 1
rules: []
default: bot:product_enquiry
"""


async def test_bot_decision_runs_the_dialogue_flow(tmp_path: Path, sqlite_url: str) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings = make_settings(
        tmp_path,
        sqlite_url,
        sip_enabled=True,
        sip_port=0,
        rtp_port_min=0,
        rtp_port_max=0,
        rules_file=rules,
        tts_engine="tone",
    )
    c = build_container(settings)
    with c.db.session() as s:
        s.add(SkillRow(name="general", description="综合服务"))
    await c.start()
    try:
        server, center = c.services["sip_server"], c.services["call_center"]
        controller = c.services["call_controller"]
        r = await run_sipp(
            server.port,
            "call_talk_to_agent.xml",
            "95588",
            "-mi",
            "127.0.0.1",
            "-mp",
            str(free_udp_port()),
            timeout_s=30,
        )
        assert r.rc == 0, r.out
        for _ in range(50):
            if controller.finished:
                break
            await asyncio.sleep(0.1)
        (leg,) = controller.finished
        assert center.decision(leg.call_id).target_kind == "bot"
        assert leg.ivr_choices, "the voicebot did not run"  # the flow's states, in order
        assert center.get_call(leg.call_id).state.value == "ended"
    finally:
        await c.stop()
