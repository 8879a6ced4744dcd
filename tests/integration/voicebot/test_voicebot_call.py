"""The voicebot's flow files on a live RTP leg: prompts out, RFC 4733 keys in, hand-off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from lendline.app import Container, build_container
from lendline.demo.seed import seed_demo_data
from lendline.speech.tts import ToneTts
from lendline.telephony.media import MediaScheduler, MediaSession
from lendline.telephony.voicebot import run_voicebot
from tests.conftest import make_settings
from tests.helpers import SayingTts, eventually


@pytest.fixture
def container(tmp_path: Path, sqlite_url: str) -> Iterator[Container]:
    c = build_container(make_settings(tmp_path, sqlite_url))
    seed_demo_data(c)
    yield c
    c.db.dispose()


@pytest.fixture
async def legs() -> AsyncIterator[tuple[MediaSession, MediaSession]]:
    scheduler = MediaScheduler()
    bot = await MediaSession.open(scheduler, call_id="bot-leg")
    phone = await MediaSession.open(scheduler, call_id="phone-leg")
    bot.connect("127.0.0.1", phone.local_port, payload_type=0)
    phone.connect("127.0.0.1", bot.local_port, payload_type=0)
    yield bot, phone
    await bot.close()
    await phone.close()
    await scheduler.close()


async def test_product_enquiry_by_keys_then_polite_end_on_silence(
    container: Container, legs: tuple[MediaSession, MediaSession]
) -> None:
    bot, phone = legs
    center = container.services["call_center"]
    call = center.inbound_call(customer_id="C000002", reason="voicebot-test", channel="sip")
    heard: list[np.ndarray] = []
    phone.add_audio_tap(heard.append)

    tts = SayingTts(ToneTts())

    # the caller keys when the bot has asked (its first prompt on the line, then the next
    # question): fixed sleeps raced the bot's start-up, which discards earlier keys
    async def caller() -> None:
        await eventually(lambda: bot.playing)
        phone.send_dtmf("2", duration_ms=60)  # 企业贷款, pressed while the prompt plays
        await eventually(lambda: len(tts.said) >= 2)
        phone.send_dtmf("500000#", duration_ms=60)  # 50万

    task = asyncio.create_task(caller())
    out = await asyncio.wait_for(
        run_voicebot(
            bot,
            tts,
            container.services["dialogue"],
            call_id=call.call_id,
            customer_id="C000002",
            flow="product_enquiry",
            max_wait_s=2.5,
        ),
        60,
    )
    await task
    assert out.states[:3] == [
        "product_enquiry.ask_type",
        "product_enquiry.ask_amount",
        "product_enquiry.offer",
    ]
    # the caller cannot say yes or no without speech (no ASR here): after the no-input
    # prompts the bot says goodbye and hangs up, keeping what it learned
    assert out.hung_up and out.transfer_queue is None and out.states[-1] == "ended"
    summary = container.services["dialogue"].summary(out.conversation_id)
    assert summary["call_id"] == call.call_id and summary["channel"] == "voice"
    said = [t["user"] for t in summary["turns"]]
    assert said[1] == "[DTMF 2]" and said[2] == "500000"
    assert "50万" in summary["turns"][3]["reply"] or "500000" in summary["turns"][3]["reply"]
    loud = sum(1 for f in heard if np.sqrt(np.mean(f.astype(float) ** 2)) > 1000)
    assert loud > 10  # prompts reached the caller


async def test_keyed_id_with_hash_then_last_four_verifies_the_caller(
    container: Container, legs: tuple[MediaSession, MediaSession]
) -> None:
    from lendline.store.customers import CustomerRepository

    bot, phone = legs
    with container.db.session() as s:
        cust = CustomerRepository(s, container.field_cipher).get("C000003")
    call = container.services["call_center"].inbound_call(customer_id="C000003", channel="sip")

    tts = SayingTts(ToneTts())

    async def caller() -> None:
        await eventually(lambda: bot.playing)
        # 18 keys then '#' (a '*' stands for X): the '#' must not answer the next question
        phone.send_dtmf(cust.id_number.replace("X", "*") + "#", duration_ms=50)
        await eventually(lambda: len(tts.said) >= 2)
        phone.send_dtmf(cust.phone_e164[-4:] + "#", duration_ms=50)
        await eventually(lambda: len(tts.said) >= 3)
        phone.send_dtmf("2", duration_ms=50)  # 没有了: nothing else

    task = asyncio.create_task(caller())
    out = await asyncio.wait_for(
        run_voicebot(
            bot,
            tts,
            container.services["dialogue"],
            call_id=call.call_id,
            customer_id="C000003",
            flow="verify_identity",
            max_wait_s=6.0,
        ),
        60,
    )
    await task
    summary = container.services["dialogue"].summary(out.conversation_id)
    replies = [t["reply"] for t in summary["turns"]]
    # the '#' after the 18 keys was not taken as silence for the next question
    assert replies[1].startswith("请说出您的出生日期"), replies
    assert replies[2].startswith("身份验证成功"), replies
    assert not any("还在吗" in r for r in replies) and out.hung_up
    assert all(cust.id_number not in t["user"] for t in summary["turns"])  # masked
