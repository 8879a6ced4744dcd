"""pocketsphinx adapter: the en-US model bundled with the PyPI wheel, nothing downloaded.

Telephone audio (8 kHz) is brought up to the model's 16 kHz (a streaming upsampler, so
20 ms frames join without clicks). With ``phrases`` the search is a JSGF grammar: one of
the phrases, or a run of the digit words among them — how a menu ("yes", "agent", digits)
is recognised reliably; without phrases the bundled general language model is used.

The model's default cepstral-mean start (``cmninit`` 40,3,-1) is for wideband microphones;
upsampled G.711 speech has a very different mean and live CMN needs several utterances to
get there, so a fresh decoder misreads its first caller. ``TELEPHONE_CMNINIT`` is the mean
measured on real G.711 speech (SIPp's ``g711a.pcap`` decoded with this model).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lendline.errors import ConfigError
from lendline.speech.asr import AsrResult
from lendline.telephony.rtp.g711 import Int16Array
from lendline.telephony.rtp.resample import StreamUpsampler

TELEPHONE_CMNINIT = "45.57,38.71,-41.10,29.04,-12.74,-8.46,6.55,-21.16,14.09,-8.70,2.87,7.35,-9.06"
_DIGIT_WORDS = {
    "zero",
    "oh",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
}


def jsgf_for(phrases: Sequence[str]) -> str:
    """A grammar accepting one of ``phrases``, or a string of the digit words among them.

    Menu words and digits are not mixed in one utterance: a caller says "agent" or
    "one two three", and forbidding "loan two" removes most insertions.
    """
    clean = {re.sub(r"[^a-z' ]", "", p.lower()).strip() for p in phrases} - {""}
    if not clean:
        raise ConfigError("no usable phrases for the grammar", code="asr_grammar_empty")
    digits = sorted(clean & _DIGIT_WORDS)
    words = sorted(clean - _DIGIT_WORDS)
    alts = [*words, "<digit>+"] if digits else words
    grammar = "#JSGF V1.0;\ngrammar menu;\npublic <utt> = " + " | ".join(alts) + ";\n"
    if digits:
        grammar += "<digit> = " + " | ".join(digits) + ";\n"
    return grammar


class _Stream:
    def __init__(self, decoder: Any, release: Callable[[Any], None]) -> None:
        self._d = decoder
        self._up = StreamUpsampler(2)
        self._release = release
        self._d.start_utt()

    async def feed(self, pcm: Int16Array) -> AsrResult | None:
        self._d.process_raw(self._up.process(pcm).tobytes(), False, False)
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
        kwargs: dict[str, Any] = {
            "samprate": 16000,
            "loglevel": "FATAL",
            "cmninit": TELEPHONE_CMNINIT,
        }
        if self._model_path is not None:
            kwargs["hmm"] = str(self._model_path)
        decoder = self._ps.Decoder(**kwargs)
        if phrases:
            decoder.add_jsgf_string("menu", jsgf_for(phrases))
            decoder.activate_search("menu")
        return decoder

    def supports(self, lang: str) -> bool:
        return lang.lower().startswith("en")

    def open_stream(self, *, lang: str = "en", phrases: Sequence[str] = ()) -> _Stream:
        if not self.supports(lang):
            raise ConfigError("the bundled pocketsphinx model is English only", code="asr_lang")
        key = tuple(phrases)
        return _Stream(self._decoder(key), self._free.setdefault(key, []).append)
