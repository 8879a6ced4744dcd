"""Streaming speech recognition behind one interface, and the adapters a lender would run.

    stream = engine.open_stream(lang="en", phrases=["yes", "no", "agent"])
    await stream.feed(pcm_8khz_int16)     # every 20 ms frame; may return a partial result
    result = await stream.finish()        # AsrResult(text, final=True)

Adapters (none downloads anything; a model path or server URL comes from settings):
``PocketsphinxAsr`` (the en-US model bundled with the PyPI package, constrained by a JSGF
grammar built from ``phrases``), ``VoskAsr`` and ``SherpaOnnxAsr`` (a model directory the
user supplies), ``FunAsrClient`` (a FunASR WebSocket server). ``build_asr`` returns ``None``
when no engine is configured: the IVR then works with DTMF only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lendline.errors import ConfigError
from lendline.telephony.rtp.g711 import Int16Array


@dataclass(frozen=True, slots=True)
class AsrResult:
    """Recognised text; ``final`` once the utterance is over."""

    text: str
    final: bool
    confidence: float | None = None


class AsrStream(Protocol):
    async def feed(self, pcm: Int16Array) -> AsrResult | None:
        """Add 8 kHz mono int16 audio; a partial result when the engine has one."""
        ...

    async def finish(self) -> AsrResult:
        """End of utterance: the final text (empty when nothing was understood)."""
        ...


class AsrEngine(Protocol):
    name: str

    def supports(self, lang: str) -> bool:
        """Whether this engine (with its model) can recognise ``lang`` (zh, en …)."""
        ...

    def open_stream(self, *, lang: str = "zh", phrases: Sequence[str] = ()) -> AsrStream:
        """A new utterance; ``phrases`` (if the engine supports it) constrains the vocabulary."""
        ...


def build_asr(
    engine: str, *, model_path: Path | None = None, funasr_url: str = ""
) -> AsrEngine | None:
    """The engine named by settings, or ``None`` for '' (DTMF only).

    Raises ``ConfigError`` when the engine is unknown, not installed, or its model is missing.
    """
    if not engine:
        return None
    if engine == "pocketsphinx":
        from lendline.speech.asr_pocketsphinx import PocketsphinxAsr

        return PocketsphinxAsr(model_path)
    if engine in ("vosk", "sherpa-onnx"):
        if model_path is None or not model_path.exists():
            raise ConfigError(
                f"asr_engine={engine} needs asr_model_path to an existing model directory",
                code="asr_model_missing",
            )
        from lendline.speech.asr_local import SherpaOnnxAsr, VoskAsr

        return VoskAsr(model_path) if engine == "vosk" else SherpaOnnxAsr(model_path)
    if engine == "funasr":
        if not funasr_url:
            raise ConfigError("asr_engine=funasr needs funasr_url", code="asr_url_missing")
        from lendline.speech.asr_funasr import FunAsrClient

        return FunAsrClient(funasr_url)
    raise ConfigError(f"unknown asr_engine {engine!r}", code="invalid_asr_engine")
