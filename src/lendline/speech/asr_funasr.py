"""FunASR WebSocket client (the ``funasr-runtime`` server a lender runs on premises).

Protocol: a JSON start message (``mode``, ``wav_format: pcm``, ``audio_fs``,
``is_speaking: true``), binary 16-bit PCM chunks, then ``{"is_speaking": false}``; the
server answers JSON messages with ``text`` and ``is_final`` / ``mode`` (``2pass-online``
partials, ``2pass-offline`` or ``offline`` finals).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from lendline.errors import UpstreamError
from lendline.speech.asr import AsrResult
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.resample import StreamUpsampler

_FINAL_MODES = ("offline", "2pass-offline")


class _FunAsrStream:
    def __init__(self, url: str, timeout_s: float, phrases: Sequence[str]) -> None:
        self._url = url
        self._up = StreamUpsampler(2)
        self._timeout_s = timeout_s
        self._phrases = list(phrases)
        self._ws: Any = None
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def _connect(self) -> Any:
        if self._ws is None:
            from websockets.asyncio.client import connect

            try:
                self._ws = await asyncio.wait_for(connect(self._url), self._timeout_s)
            except (OSError, TimeoutError) as exc:
                raise UpstreamError(f"FunASR at {self._url}: {exc}", code="asr_failed") from exc
            start: dict[str, Any] = {
                "mode": "2pass",
                "chunk_size": [5, 10, 5],
                "wav_name": "lendline",
                "wav_format": "pcm",
                "audio_fs": 16000,
                "is_speaking": True,
            }
            if self._phrases:
                start["hotwords"] = json.dumps({p: 20 for p in self._phrases}, ensure_ascii=False)
            await self._ws.send(json.dumps(start, ensure_ascii=False))
            self._reader = asyncio.create_task(self._read())
        return self._ws

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                if isinstance(raw, str):
                    try:
                        self._messages.put_nowait(json.loads(raw))
                    except ValueError:
                        continue  # a malformed message never escapes the reader
        except Exception:  # connection closed or reset: finish() reports the timeout
            return

    async def feed(self, pcm: Int16Array) -> AsrResult | None:
        ws = await self._connect()
        await ws.send(self._up.process(pcm).astype("<i2").tobytes())
        latest: AsrResult | None = None
        while not self._messages.empty():
            msg = self._messages.get_nowait()
            if msg.get("text"):
                latest = AsrResult(str(msg["text"]), final=False)
        return latest

    async def finish(self) -> AsrResult:
        ws = await self._connect()
        await ws.send(json.dumps({"is_speaking": False}))
        try:
            async with asyncio.timeout(self._timeout_s):
                while True:
                    msg = await self._messages.get()
                    if msg.get("is_final") or msg.get("mode") in _FINAL_MODES:
                        return AsrResult(str(msg.get("text", "")), final=True)
        except TimeoutError as exc:
            raise UpstreamError("FunASR gave no final result", code="asr_timeout") from exc
        finally:
            if self._reader is not None:
                self._reader.cancel()
            await ws.close()


class FunAsrClient:
    """Talks to a FunASR server at ``url`` (``ws://host:10095``); one connection per stream."""

    name = "funasr"

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def supports(self, lang: str) -> bool:
        return True  # the server's model decides; FunASR models are zh / zh-en

    def open_stream(self, *, lang: str = "zh", phrases: Sequence[str] = ()) -> _FunAsrStream:
        return _FunAsrStream(self.url, self.timeout_s, phrases)
