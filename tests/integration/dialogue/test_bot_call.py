"""The same flows on a live RTP leg (``telephony.voicebot``): identity keyed by RFC 4733
with ``*`` for X, the recording paused meanwhile, hand-off to a queue with the context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lendline.app import build_container
from lendline.clock import ManualClock
from lendline.demo.seed import REFERENCE_NOW
from lendline.domain.recording import RecordingMeta
from lendline.settings import Settings
from lendline.speech.tts import ToneTts
from lendline.store.dialogue import add_demo_customers
from lendline.telephony.media import MediaScheduler, MediaSession, WavRecordingSink
from lendline.telephony.voicebot import run_voicebot
from tests.unit.dialogue.fakes import KeywordUnderstanding


class _ShortTone(ToneTts):
    """A 0.2 s tone per prompt (the test is about turns, not voices); records the texts."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def synthesize(self, text: str, lang: str = "zh") -> np.ndarray:
        self.said.append(text)
        t = np.arange(1600) / 8000.0
        return (np.sin(2 * np.pi * 440 * t) * 6000).astype(np.int16)


@pytest.fixture
async def legs() -> AsyncIterator[tuple[MediaSession, MediaSession]]:
    s = MediaScheduler()
    a = await MediaSession.open(s, call_id="bot-leg")
    b = await MediaSession.open(s, call_id="phone")
    a.connect("127.0.0.1", b.local_port, payload_type=0)
    b.connect("127.0.0.1", a.local_port, payload_type=0)
    yield a, b
    await a.close()
    await b.close()
    await s.close()


async def test_repayment_info_by_keys_then_agent(
    legs: Any, sqlite_url: str, tmp_path: Path
) -> None:
    from tests.conftest import make_settings

    settings: Settings = make_settings(tmp_path, sqlite_url)
    c = build_container(settings, clock=ManualClock(start=REFERENCE_NOW))
    c.services["dialogue_engine"].nlu = KeywordUnderstanding()
    people = add_demo_customers(c.db, c.field_cipher, 30, seed=5)
    p = next(x for x in people if x.birth_date and not x.overdue_days)
    bot, phone = legs
    sink = WavRecordingSink(tmp_path / "rec")
    bot.start_recording(sink, RecordingMeta(call_id="bot-1", started_at=datetime.now(UTC)))
    tts = _ShortTone()
    call = c.services["call_center"].inbound_call(caller=p.phone_e164, channel="sip")

    async def caller() -> None:
        async def after_prompts(n: int) -> None:
            while len(tts.said) < n:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.4)

        await after_prompts(1)
        phone.send_dtmf("2", duration_ms=60)  # greeting menu: repayments
        await after_prompts(2)
        phone.send_dtmf(p.id_number.replace("X", "*"), duration_ms=60)  # 18 keys: complete
        await after_prompts(3)
        assert p.birth_date is not None
        phone.send_dtmf(p.birth_date.strftime("%Y%m%d"), duration_ms=60)
        await after_prompts(4)
        phone.send_dtmf("0", duration_ms=60)  # anything else? agent, please

    task = asyncio.create_task(caller())
    out = await asyncio.wait_for(
        run_voicebot(bot, tts, c.services["dialogue"], call_id=call.call_id, customer_id=None),
        40,
    )
    await task
    assert out.transfer_queue is not None and out.turns == 4, out.states
    assert "身份证" in tts.said[1] and "出生日期" in tts.said[2]
    assert "下一期还款日是" in tts.said[3] or "没有待还" in tts.said[3]
    info = bot.stop_recording()
    assert info is not None and info.paused_s > 0.5  # ID and birth date kept out of the recording
    summary = c.services["dialogue"].summary(out.conversation_id)
    assert all(p.id_number not in t["user"] for t in summary["turns"])
    call = c.services["call_center"].get_call(call.call_id)
    assert call.state.value == "queued" and call.context["verified"] is True
    c.db.dispose()
