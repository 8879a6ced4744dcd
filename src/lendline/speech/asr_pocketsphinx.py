"""pocketsphinx adapter: the en-US model bundled with the PyPI wheel, nothing downloaded.

Telephone audio (8 kHz) is brought up to the model's 16 kHz. With ``phrases`` the search is
a JSGF grammar over those phrases (or any run of them), which is how a menu ("yes", "agent",
digits) is recognised reliably; without, the bundled general language model is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lendline.errors import ConfigError
from lendline.speech.asr import AsrResult
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.resample import resample


def jsgf_for(phrases: Sequence[str]) -> str:
    """A grammar accepting one or more of ``phrases`` (words lower-cased, punctuation dropped)."""
    alts = sorted({re.sub(r"[^a-z' ]", "", p.lower()).strip() for p in phrases} - {""})
    if not alts:
        raise ConfigError("no usable phrases for the grammar", code="asr_grammar_empty")
    return (
        "#JSGF V1.0;\ngrammar menu;\npublic <utt> = <item>+;\n<item> = " + " | ".join(alts) + ";\n"
    )


class _Stream:
    def __init__(self, decoder: Any, release: Any) -> None:
        self._d = decoder
        self._release = release
        self._d.start_utt()

    async def feed(self, pcm: Int16Array) -> AsrResult | None:
        self._d.process_raw(resample(pcm, 8000, 16000).tobytes(), False, False)
        hyp = self._d.hyp()
        return AsrResult(hyp.hypstr, final=False) if hyp and hyp.hypstr else None

    async def finish(self) -> AsrResult:
        self._d.end_utt()
        hyp = self._d.hyp()
        self._release(self._d)
        return AsrResult(hyp.hypstr if hyp else "", final=True)


class PocketsphinxAsr:
    """English (en-US) recognition with pocketsphinx.

    Decoders take ~0.6 s to build, so finished ones are pooled per phrase list and reused;
    concurrent streams each get their own.
    """

    name = "pocketsphinx"

    def __init__(self, model_path: Path | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:
            raise ConfigError("pocketsphinx is not installed", code="asr_unavailable") from exc
        self._ps = pocketsphinx
        self._model_path = model_path
        self._free: dict[tuple[str, ...], list[Any]] = {}

    def _decoder(self, phrases: tuple[str, ...]) -> Any:
        free = self._free.setdefault(phrases, [])
        if free:
            return free.pop()
        kwargs: dict[str, Any] = {"samprate": 16000, "loglevel": "FATAL"}
        if self._model_path is not None:
            kwargs["hmm"] = str(self._model_path)
        decoder = self._ps.Decoder(**kwargs)
        if phrases:
            decoder.add_jsgf_string("menu", jsgf_for(phrases))
            decoder.activate_search("menu")
        return decoder

    def open_stream(self, *, lang: str = "en", phrases: Sequence[str] = ()) -> _Stream:
        if not lang.lower().startswith("en"):
            raise ConfigError("the bundled pocketsphinx model is English only", code="asr_lang")
        key = tuple(phrases)
        return _Stream(self._decoder(key), self._free.setdefault(key, []).append)
