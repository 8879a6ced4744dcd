"""Local streaming engines with a model directory the user supplies (nothing downloaded):
Vosk (Kaldi) and sherpa-onnx (streaming transducer). Both libraries are optional: they are
imported when the engine is built and a ``ConfigError`` says what to install if absent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lendline.errors import ConfigError
from lendline.speech.asr import AsrResult
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.resample import StreamUpsampler


def _import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError as exc:
        raise ConfigError(
            f"asr engine needs the {name!r} package (pip install {name.replace('_', '-')})",
            code="asr_unavailable",
        ) from exc


class _VoskStream:
    def __init__(self, recognizer: Any) -> None:
        self._rec = recognizer

    async def feed(self, pcm: Int16Array) -> AsrResult | None:
        if self._rec.AcceptWaveform(pcm.astype("<i2").tobytes()):
            text = json.loads(self._rec.Result()).get("text", "")
            return AsrResult(text, final=False) if text else None
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        return AsrResult(partial, final=False) if partial else None

    async def finish(self) -> AsrResult:
        return AsrResult(json.loads(self._rec.FinalResult()).get("text", ""), final=True)


class VoskAsr:
    """Vosk with ``model_path`` (e.g. vosk-model-small-cn-0.22); runs at 8 kHz natively."""

    name = "vosk"

    def __init__(self, model_path: Path) -> None:
        vosk = _import("vosk")
        self._vosk = vosk
        self._model = vosk.Model(str(model_path))

    def supports(self, lang: str) -> bool:
        return True  # the model the user supplied decides the language

    def open_stream(self, *, lang: str = "zh", phrases: Sequence[str] = ()) -> _VoskStream:
        args = [self._model, 8000.0]
        if phrases:
            args.append(json.dumps([*phrases, "[unk]"], ensure_ascii=False))
        return _VoskStream(self._vosk.KaldiRecognizer(*args))


class _SherpaStream:
    def __init__(self, recognizer: Any) -> None:
        self._r = recognizer
        self._up = StreamUpsampler(2)
        self._s = recognizer.create_stream()

    def _text(self) -> str:
        while self._r.is_ready(self._s):
            self._r.decode_stream(self._s)
        result = self._r.get_result(self._s)
        return str(result if isinstance(result, str) else getattr(result, "text", ""))

    async def feed(self, pcm: Int16Array) -> AsrResult | None:
        samples = self._up.process(pcm).astype(np.float32) / 32768.0
        self._s.accept_waveform(16000, samples)
        text = self._text()
        return AsrResult(text, final=False) if text else None

    async def finish(self) -> AsrResult:
        self._s.accept_waveform(16000, np.zeros(8000, dtype=np.float32))  # flush the tail
        self._s.input_finished()
        return AsrResult(self._text(), final=True)


class SherpaOnnxAsr:
    """sherpa-onnx streaming transducer from ``model_path`` holding ``tokens.txt`` and
    ``encoder*.onnx`` / ``decoder*.onnx`` / ``joiner*.onnx`` (e.g. a streaming zipformer
    bilingual zh-en model)."""

    name = "sherpa-onnx"

    def __init__(self, model_path: Path) -> None:
        sherpa = _import("sherpa_onnx")

        def one(pattern: str) -> str:
            found = sorted(model_path.glob(pattern))
            if not found:
                raise ConfigError(f"{model_path}: no {pattern}", code="asr_model_missing")
            return str(found[0])

        self._recognizer = sherpa.OnlineRecognizer.from_transducer(
            tokens=one("tokens.txt"),
            encoder=one("encoder*.onnx"),
            decoder=one("decoder*.onnx"),
            joiner=one("joiner*.onnx"),
            num_threads=1,
            sample_rate=16000,
            feature_dim=80,
        )

    def supports(self, lang: str) -> bool:
        return True  # the model the user supplied decides the language

    def open_stream(self, *, lang: str = "zh", phrases: Sequence[str] = ()) -> _SherpaStream:
        return _SherpaStream(self._recognizer)
