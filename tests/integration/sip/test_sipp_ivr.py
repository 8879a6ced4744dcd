"""SIPp calls the IVR: caller audio from g711a.pcap, RFC 4733 keys from SIPp's DTMF pcaps.

The controller runs for real (media legs, IVR menu, recording to WAV files); prompts are
short tones (no TTS engine), and application status comes from a small in-memory lookup.
"""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from lendline.clock import SystemClock
from lendline.telephony.controller import CallController, MediaConfig
from lendline.telephony.media import MediaScheduler, WavRecordingSink
from lendline.telephony.prompts import PromptCache
from lendline.telephony.server import SipServer

from .conftest import needs_sipp, sipp_call

pytestmark = [needs_sipp, pytest.mark.sipp]
ID_NUMBER = "11010519491231002X"


class StatusDesk:
    """The lender's application-status system, in memory: remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, id_number: str) -> str:
        self.asked.append(id_number)
        return "审核中" if id_number == ID_NUMBER else "未找到"


@pytest.fixture
async def ivr_server(tmp_path: Path) -> AsyncIterator[tuple[SipServer, CallController, StatusDesk]]:
    desk = StatusDesk()
    controller = CallController(
        call_center=None,
        bus=None,
        registrar=None,
        scheduler=MediaScheduler(),
        recordings=WavRecordingSink(tmp_path),
        prompts=PromptCache(None),
        status_lookup=desk,
        agent_sip_user=lambda agent_id: None,
        clock=SystemClock(),
        media=MediaConfig(),
    )
    server = SipServer(controller, host="127.0.0.1", port=0)
    await server.start()
    yield server, controller, desk
    await controller.close()
    await server.stop()


async def test_ivr_decodes_sipp_dtmf_and_records_the_caller(
    ivr_server: tuple[SipServer, CallController, StatusDesk], tmp_path: Path
) -> None:
    server, controller, desk = ivr_server
    leg = await sipp_call(server, controller, "ivr_dtmf.xml", "4008001234", timeout_s=40)
    assert desk.asked == [ID_NUMBER]
    assert leg.ivr_choices == ("3", "0")  # status (the ID asked above), then an agent
    (wav_path,) = tmp_path.glob("*.wav")
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    caller, heard = pcm[:, 0].astype(float), pcm[:, 1].astype(float)
    assert np.sqrt(np.mean(caller[: 8000 * 2] ** 2)) > 300  # the caller spoke (g711a.pcap)
    assert np.sqrt(np.mean(heard**2)) > 100  # and heard our prompts
