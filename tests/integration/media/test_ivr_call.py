"""The IVR on a live RTP leg: Chinese prompts by espeak-ng, keys by RFC 4733, and the
English menu answered by voice through pocketsphinx."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lendline.domain.identity import id_check_char
from lendline.domain.recording import RecordingMeta
from lendline.speech.asr import build_asr
from lendline.speech.tts import EspeakTts, ToneTts
from lendline.telephony.media import PlaybackDone, WavRecordingSink
from lendline.telephony.media.ivr_runner import run_ivr
from tests.helpers import SayingTts, eventually

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


def _id_ending_in_x() -> str:
    for n in range(1000):
        first = f"11010519800101{n:03d}"
        if id_check_char(first) == "X":
            return first + "X"
    raise AssertionError("no such number")


@needs_espeak
async def test_chinese_dtmf_menu_status_with_id_entry(pair, tmp_path: Path) -> None:
    ivr_leg, phone = pair
    sink = WavRecordingSink(tmp_path / "rec")
    ivr_leg.start_recording(sink, RecordingMeta(call_id="ivr-1", started_at=datetime.now(UTC)))
    heard: list[np.ndarray] = []
    phone.add_audio_tap(heard.append)
    looked_up: list[str] = []

    async def lookup(id_number: str) -> str:
        looked_up.append(id_number)
        return "您的申请正在审核中。"

    good = _id_ending_in_x()
    bad = good[:-1] + "0"
    tts = SayingTts(EspeakTts(tmp_path / "tts"))
    paused_while_keying: list[bool] = []

    # the caller acts on what the IVR does, not on a clock: with fixed sleeps a loaded
    # machine let the IVR fall behind the keys, and the pause it measured shrank
    async def caller() -> None:
        await eventually(lambda: ivr_leg.playing)
        phone.send_dtmf("3", duration_ms=60)  # barges into the welcome prompt
        await eventually(lambda: ivr_leg.recording_paused)
        paused_while_keying.append(ivr_leg.recording_paused)
        phone.send_dtmf(bad + "#", duration_ms=60)
        await eventually(lambda: any("号码有误" in s for s in tts.said))
        paused_while_keying.append(ivr_leg.recording_paused)
        phone.send_dtmf(good.replace("X", "*") + "#", duration_ms=60)
        await eventually(lambda: "您的申请正在审核中。" in tts.said[:-1])  # status spoken in full
        phone.send_dtmf("0", duration_ms=60)

    task = asyncio.create_task(caller())
    outcome = await asyncio.wait_for(run_ivr(ivr_leg, tts, lookup, lang="zh"), 60)
    await task
    assert outcome.transfer is not None and outcome.transfer.reason == "caller_request"
    assert outcome.choices == ["3", "0"]
    assert looked_up == [good]
    info = ivr_leg.stop_recording()
    # both ID numbers were keyed while the recording was paused; it resumed only once the
    # IVR had the valid one (38 keys of 60 ms at least, kept out of the recording)
    assert paused_while_keying == [True, True]
    assert info is not None and info.paused_s > 2
    loud = sum(1 for f in heard if np.sqrt(np.mean(f.astype(float) ** 2)) > 1000)
    assert loud > 50  # the caller heard spoken prompts (> 1 s of speech)


async def test_degrades_to_dtmf_when_asr_cannot_speak_chinese(pair) -> None:
    pytest.importorskip("pocketsphinx")
    ivr_leg, phone = pair
    said: list[str] = []

    class Recording(ToneTts):
        def synthesize(self, text: str, lang: str = "zh") -> np.ndarray:
            said.append(text)
            return super().synthesize(text, lang)

    async def caller() -> None:
        await asyncio.sleep(1.5)
        phone.send_dtmf("0", duration_ms=60)

    task = asyncio.create_task(caller())
    outcome = await asyncio.wait_for(
        run_ivr(ivr_leg, Recording(), _no_lookup, lang="zh", asr=build_asr("pocketsphinx")), 10
    )
    await task
    assert outcome.transfer is not None and outcome.transfer.reason == "caller_request"
    assert not any("直接说" in s for s in said)  # no "say what you need" without usable ASR


async def _no_lookup(_: str) -> str:
    raise AssertionError("not expected")


@needs_espeak
async def test_english_menu_answered_by_voice(pair, tmp_path: Path) -> None:
    pytest.importorskip("pocketsphinx")
    ivr_leg, phone = pair
    done: list[PlaybackDone] = []
    ivr_leg.subscribe(lambda e: done.append(e) if isinstance(e, PlaybackDone) else None)
    voice = EspeakTts(tmp_path).synthesize("speak to an agent", "en")

    async def caller() -> None:
        while len(done) < 3:  # welcome, menu, "you can also say …" (beeps here)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await phone.play(voice)

    task = asyncio.create_task(caller())
    outcome = await asyncio.wait_for(
        run_ivr(ivr_leg, ToneTts(), _no_lookup, lang="en", asr=build_asr("pocketsphinx")), 20
    )
    await task
    assert outcome.transfer is not None and outcome.transfer.reason == "caller_request"
    assert any("agent" in h for h in outcome.heard)
