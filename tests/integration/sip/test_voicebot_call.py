"""A routing rule sends the call to the voicebot: the dialogue flow runs on the SIP call's
media leg (greeting spoken, states recorded) until the caller hangs up."""

from __future__ import annotations

from pathlib import Path

import pytest

from lendline.app import build_container
from lendline.store.models import SkillRow
from tests.conftest import make_settings

from .conftest import needs_sipp, sipp_call

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
        leg = await sipp_call(server, controller, "call_talk_to_agent.xml", "95588", timeout_s=30)
        assert center.decision(leg.call_id).target_kind == "bot"
        assert leg.ivr_choices, "the voicebot did not run"  # the flow's states, in order
        assert center.get_call(leg.call_id).state.value == "ended"
    finally:
        await c.stop()
