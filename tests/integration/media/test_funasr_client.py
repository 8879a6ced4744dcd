"""The FunASR WebSocket adapter against a small stand-in server speaking FunASR's protocol
(a lender's on-premises FunASR is outside our walls; the stand-in is a working server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from lendline.errors import UpstreamError
from lendline.speech.asr import build_asr


class FunAsrStandIn:
    """Accepts the start message and PCM, answers partials, and a final text at the end."""

    def __init__(self, final_text: str) -> None:
        self.final_text = final_text
        self.start: dict[str, Any] = {}
        self.audio_bytes = 0

    async def handler(self, ws: ServerConnection) -> None:
        async for msg in ws:
            if isinstance(msg, bytes):
                self.audio_bytes += len(msg)
                if self.audio_bytes == len(msg):
                    await ws.send(
                        json.dumps({"mode": "2pass-online", "text": "转", "is_final": False})
                    )
                continue
            data = json.loads(msg)
            if data.get("is_speaking") is True:
                self.start = data
            elif data.get("is_speaking") is False:
                await ws.send("not json")  # a malformed message must not break the client
                await ws.send(
                    json.dumps({"mode": "2pass-offline", "text": self.final_text, "is_final": True})
                )


async def test_funasr_streaming_roundtrip() -> None:
    server = FunAsrStandIn("转人工")
    async with serve(server.handler, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        asr = build_asr("funasr", funasr_url=f"ws://127.0.0.1:{port}")
        assert asr is not None and asr.supports("zh")
        stream = asr.open_stream(lang="zh", phrases=["人工"])
        partials = []
        for _ in range(25):
            r = await stream.feed(np.full(160, 1000, dtype=np.int16))
            await asyncio.sleep(0.02)  # frames come in real time
            if r is not None:
                partials.append(r.text)
        final = await stream.finish()
    assert final.final and final.text == "转人工"
    assert partials and partials[0] == "转"
    assert server.start["wav_format"] == "pcm" and server.start["audio_fs"] == 16000
    assert json.loads(server.start["hotwords"]) == {"人工": 20}
    assert server.audio_bytes == 25 * 320 * 2  # 20 ms at 16 kHz, 16-bit, per frame


async def test_funasr_unreachable_is_an_upstream_error() -> None:
    asr = build_asr("funasr", funasr_url="ws://127.0.0.1:9/")
    assert asr is not None
    with pytest.raises(UpstreamError) as e:
        await asr.open_stream().feed(np.zeros(160, dtype=np.int16))
    assert e.value.code == "asr_failed"
