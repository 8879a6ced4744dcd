"""SIPp as the caller: OPTIONS, answered calls, BYE from each side, CANCEL, hold, REGISTER."""

from __future__ import annotations

from typing import Any

import pytest

from lendline.telephony.sip.events import CallEnded, CallUpdated

from .conftest import needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.sipp]


async def test_options_answered_200(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "options.xml", "ivr")
    assert r.rc == 0, r.out


async def test_caller_hangs_up(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "call_caller_hangs_up.xml", "answer", calls=3)
    assert r.rc == 0, r.out
    ended = sip_server.handler.of(CallEnded)
    assert len(ended) == 3 and {e.by for e in ended} == {"remote"}


async def test_lendline_hangs_up(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "call_callee_hangs_up.xml", "hangup")
    assert r.rc == 0, r.out
    (ended,) = sip_server.handler.of(CallEnded)
    assert ended.by == "local"


async def test_cancel_while_ringing(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "cancel_ringing.xml", "ring")
    assert r.rc == 0, r.out
    (ended,) = sip_server.handler.of(CallEnded)
    assert ended.reason == "cancelled"


async def test_hold_and_resume(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "hold_resume.xml", "answer")
    assert r.rc == 0, r.out
    assert [u.on_hold for u in sip_server.handler.of(CallUpdated)] == [True, False]


async def test_register_with_digest(sip_server: Any) -> None:
    r = await run_sipp(
        sip_server.port, "register_ok.xml", "agent01", "-au", "agent01", "-ap", "s3cret-01"
    )
    assert r.rc == 0, r.out
    (binding,) = sip_server.registrar.lookup("agent01", sip_server.clock.monotonic())
    assert binding.contact.startswith("sip:agent01@127.0.0.1:")


async def test_register_wrong_password_rejected(sip_server: Any) -> None:
    r = await run_sipp(
        sip_server.port, "register_bad.xml", "agent01", "-au", "agent01", "-ap", "wrong"
    )
    assert r.rc == 0, r.out
    assert sip_server.registrar.lookup("agent01", sip_server.clock.monotonic()) == []


async def test_offer_without_g711_gets_488_with_a_warning(sip_server: Any) -> None:
    r = await run_sipp(sip_server.port, "offer_g729_only.xml", "answer")
    assert r.rc == 0, r.out
    assert sip_server.handler.of(CallEnded) == []
