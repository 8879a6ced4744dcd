"""Queue with no agent: the unknown caller goes through the menu (0), waits with music, and
presses 1 for a call back; routing records the callback and lendline hangs up."""

from __future__ import annotations

from pathlib import Path

import pytest

from lendline.app import build_container
from lendline.domain.call import EndReason
from lendline.store.models import SkillRow
from tests.conftest import make_settings

from .conftest import needs_sipp, sipp_call

pytestmark = [needs_sipp, pytest.mark.sipp]


async def test_caller_on_hold_asks_for_a_call_back(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(
        tmp_path,
        sqlite_url,
        sip_enabled=True,
        sip_port=0,
        rtp_port_min=0,
        rtp_port_max=0,
        recordings_dir=tmp_path / "rec",
        tts_engine="tone",  # prompts are short tones: the scenario's key timing stays exact
    )
    c = build_container(settings)
    with c.db.session() as s:
        s.add(SkillRow(name="general", description="综合服务"))
    await c.start()
    try:
        server, center = c.services["sip_server"], c.services["call_center"]
        controller = c.services["call_controller"]
        leg = await sipp_call(server, controller, "queue_callback.xml", "4008001234", timeout_s=40)
        assert leg.callback and leg.ivr_choices == ("0",)
        center.flush()
        call = center.get_call(leg.call_id)
        assert call.end_reason is EndReason.CALLBACK
    finally:
        await c.stop()
